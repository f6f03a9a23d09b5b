"""Runs the benchmarks, each in its own process, one after the other (not part of the test suite).

    make bench                                  # every benchmark; BENCH_ARGS="api heartbeat" for some
    python bench/run.py api heartbeat           # a subset, by name, in this order
    python bench/run.py api -- --rounds 3       # what follows -- goes to each benchmark run

Each benchmark reports ratios measured side by side in its own run (see its docstring) and saves its
lines under bench/results/<name>.txt; this runner prints them as they come and writes them all to
bench/results/latest.txt. Benchmarks touch only BENCH_DATABASE_URL's database (bench/common.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
# In the order they run by default: API reads and heartbeats, then the money and the clock.
BENCHMARKS = ["api", "heartbeat", "ledger", "clock", "sweep", "purchase"]


def run(name: str, extra: list[str], out: list[str]) -> bool:
    """Run ``bench/<name>.py`` and echo its output; False when it failed."""
    script = BENCH / f"{name}.py"
    header = f"== {name} " + "=" * max(0, 60 - len(name))
    print(header, flush=True)
    out.append(header)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(script), *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in process.stdout:
        print(line, end="", flush=True)
        out.append(line.rstrip("\n"))
    code = process.wait()
    footer = f"({name}: {time.monotonic() - started:.0f} s{'' if code == 0 else f', FAILED with exit code {code}'})"
    print(footer, flush=True)
    out.append(footer)
    return code == 0


def main(argv: list[str]) -> int:
    names, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    out: list[str] = [f"benchmarks run {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"]
    failed = [name for name in names or BENCHMARKS if not run(name, extra, out)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.txt").write_text("\n".join(out) + "\n")
    print(f"written to {(RESULTS / 'latest.txt').relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
