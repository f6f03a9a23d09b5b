"""The cast every test can use: a customer, another customer, an operator, API clients, and a
cluster (the bundled Kubernetes API emulator, reached over HTTP by the official client)."""

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import AdminFactory, UserFactory
from pods.emulator import Emulator, EmulatorServer

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parent / "var" / "test-artifacts"))


@pytest.fixture(autouse=True)
def _clean_cache():
    # Throttle counters and idempotency keys live in the (real, shared) cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def user_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture(scope="session")
def _emulator_server(tmp_path_factory):
    # One emulator for the session (starting it validates schemas once); each test resets it.
    # No control loop thread: tests advance the simulated cluster with ``cluster.tick()``.
    emulator = Emulator(ready_delay=0, seed=1)
    server = EmulatorServer(emulator).start()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("emulator") / "kubeconfig")
    yield emulator, kubeconfig
    server.stop()


@pytest.fixture
def cluster(_emulator_server, settings) -> Emulator:
    """The emulated cluster, fresh for this test, and the settings that point the platform at it."""
    emulator, kubeconfig = _emulator_server
    emulator.reset()
    emulator.set_ready_delay(0)
    emulator.set_image_patterns(pull_fail=None, crash=None)
    settings.PAAS_CLUSTER_BACKEND = "simulated"
    settings.PAAS_EMULATOR_KUBECONFIG = str(kubeconfig)
    yield emulator
    emulator.reset()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, cut off from every host but this machine's own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        # Any name but localhost fails to resolve: a page that needs a CDN shows it at once.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """``screenshot("name")`` saves the page under the test artifacts, for people to look at."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        browser.save_screenshot(str(path))
        return path

    return save
