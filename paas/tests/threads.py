"""Races for the concurrency tests: work started in threads at the same moment, each thread on
its own database connection (the test needs a transactional database: ``transaction=True``)."""

import threading

from django.db import close_old_connections, connection


def run_in_threads(count: int, work) -> list:
    """Start ``count`` threads together; each runs ``work(i)``. Returns, in order, what each
    returned or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results


def race(*jobs) -> list:
    """Run the callables ``jobs`` at the same moment; what each returned or raised, in order."""
    return run_in_threads(len(jobs), lambda i: jobs[i]())
