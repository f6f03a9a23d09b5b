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
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "cluster": "ok"}


def test_readyz_reports_a_cluster_outage_but_stays_ready(client, cluster, settings, tmp_path):
    # The API server being down must not take billing and accounts out of the load balancer.
    settings.PAAS_EMULATOR_KUBECONFIG = str(tmp_path / "no-cluster")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "cluster": "fail"}


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    # A port nothing listens on: the real connection attempt fails.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "fail"
    assert response.json()["checks"]["database"] == "ok"
