"""The signing key of a development run is the checkout's own, never a value from the repository."""

import ast
import importlib.util
import itertools
import shutil
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_SOURCE = Path(settings.BASE_DIR) / "paas" / "settings" / "base.py"
_loads = itertools.count()


@pytest.fixture
def development_env(monkeypatch):
    """DEBUG on, and none of the secrets a deployment would set."""
    monkeypatch.setenv("DEBUG", "true")
    for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "WORKER_JOIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _checkout(root: Path) -> Path:
    """A checkout with the repository's settings module: the same files, its own ``var/``."""
    target = root / "paas" / "settings" / "base.py"
    target.parent.mkdir(parents=True)
    shutil.copy(SETTINGS_SOURCE, target)
    return root


def _load_settings(checkout: Path):
    """Import the checkout's settings as a process starting there would."""
    spec = importlib.util.spec_from_file_location(
        f"checkout_settings_{next(_loads)}", checkout / "paas/settings/base.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_checkouts_without_a_secret_key_never_share_one(tmp_path, development_env):
    first, second = _checkout(tmp_path / "first"), _checkout(tmp_path / "second")

    first_key = _load_settings(first).SECRET_KEY
    second_key = _load_settings(second).SECRET_KEY

    assert first_key != second_key
    assert len(first_key) >= 50 and len(set(first_key)) >= 5
    # JWTs are signed with it too, unless JWT_SIGNING_KEY says otherwise.
    assert _load_settings(first).SIMPLE_JWT["SIGNING_KEY"] == first_key


def test_a_checkouts_key_is_made_once_kept_private_and_shared_by_its_processes(tmp_path, development_env):
    checkout = _checkout(tmp_path / "checkout")

    key = _load_settings(checkout).SECRET_KEY

    key_file = checkout / "var" / "secret_key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) & 0o077 == 0
    # Web, worker and beat start one after the other, or together: all read the same key.
    reloaded = _load_settings(checkout)
    assert key == reloaded.SECRET_KEY
    assert [p.name for p in key_file.parent.iterdir() if p.name.startswith("secret_key")] == ["secret_key"]


def test_an_explicit_secret_key_wins_and_writes_nothing(tmp_path, development_env):
    checkout = _checkout(tmp_path / "checkout")
    development_env.setenv("SECRET_KEY", "an-explicit-key-" + "x" * 40)

    assert _load_settings(checkout).SECRET_KEY == "an-explicit-key-" + "x" * 40
    assert not (checkout / "var" / "secret_key").exists()


def test_without_debug_there_is_no_key_to_fall_back_on(tmp_path, development_env):
    development_env.setenv("DEBUG", "false")
    development_env.setenv("PAYMENT_GATEWAY", "simulator")

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        _load_settings(_checkout(tmp_path / "checkout"))


def test_the_repository_holds_no_key_a_development_run_would_use():
    # The settings name no key of their own: every string in the SECRET_KEY expression is a
    # variable or file name, and the file it reads lives under var/, which is never committed.
    tree = ast.parse(SETTINGS_SOURCE.read_text())
    assignments = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SECRET_KEY" for t in node.targets)
    ]
    assert len(assignments) == 1
    strings = {
        n.value for n in ast.walk(assignments[0].value) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    assert strings <= {"SECRET_KEY", "", "secret_key"}, strings
    assert "var/" in (Path(settings.BASE_DIR) / ".gitignore").read_text().split()
