import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readyz_reports_each_check(client, cluster):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok", "cluster": "ok"}


def test_readyz_reports_a_cluster_outage_but_stays_ready(client, cluster, settings, tmp_path):
    # The API server being down must not take billing and accounts out of the load balancer.
    settings.PAAS_EMULATOR_KUBECONFIG = str(tmp_path / "no-cluster")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok", "cluster": "fail"}


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    # A port nothing listens on: the real connection attempt fails.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "fail"
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_does_not_wait_on_a_cluster_that_never_answers(client, cluster, settings, tmp_path):
    import socket
    import time
    from pathlib import Path

    # An API server that accepts connections and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    text = Path(settings.PAAS_EMULATOR_KUBECONFIG).read_text()
    old = text.split("http://127.0.0.1:")[1].split()[0].strip("'\"/")
    (tmp_path / "kubeconfig").write_text(text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{port}"))
    settings.PAAS_EMULATOR_KUBECONFIG = str(tmp_path / "kubeconfig")
    try:
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 200 and response.json()["checks"]["cluster"] == "fail"
    assert elapsed < 4  # a probe's timeout is 5 s: the check gives up well before
