"""Fixtures: an emulator on an ephemeral port, and the official client pointed at it.

The emulator's control loop is not started: tests call ``emulator.tick()`` for one
deterministic pass, with a clock they move by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from pods.emulator import Emulator, EmulatorServer

from .helpers import TOKEN

START = 1_750_000_000.0


class Clock:
    """A clock the test moves: ``clock.advance(10)``."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Emulator:
    return Emulator(ready_delay=0, clock=clock, seed=7)


@pytest.fixture
def server(emulator: Emulator) -> Iterator[EmulatorServer]:
    srv = EmulatorServer(emulator, token=TOKEN).start()
    yield srv
    srv.stop()


@pytest.fixture
def kubeconfig(server: EmulatorServer, tmp_path: Path) -> Path:
    return server.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def networking(api_client: client.ApiClient) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> str:
    core.create_namespace({"metadata": {"name": "team-a"}})
    return "team-a"
