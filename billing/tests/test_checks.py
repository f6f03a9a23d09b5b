"""Production refuses payment settings that would let an unpaid top-up be credited."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks

from billing.checks import check_midtrans_verify_status

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-" + "k3y-" * 16,
    "ALLOWED_HOSTS": "paas.example.com",
    "PAYMENT_GATEWAY": "midtrans",
    "MIDTRANS_SERVER_KEY": "Mid-server-production-key-for-the-check",
}


def _manage_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "paas.settings.base",
        # Nothing is written under this checkout's var/: every local default is given explicitly.
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "WORKER_JOIN_TOKEN": "join-token-for-the-check",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_with_midtrans_refuses_to_start_without_status_verification():
    refused = _manage_check(**PRODUCTION, MIDTRANS_VERIFY_STATUS="false")
    assert refused.returncode != 0
    assert "MIDTRANS_VERIFY_STATUS" in refused.stderr
    # The same settings with verification (the default) start.
    started = _manage_check(**PRODUCTION)
    assert started.returncode == 0, started.stderr[-2000:]


def test_the_midtrans_production_environment_refuses_it_even_with_debug():
    development = {**PRODUCTION, "DEBUG": "true", "MIDTRANS_VERIFY_STATUS": "false"}
    refused = _manage_check(**development, MIDTRANS_IS_PRODUCTION="true")
    assert refused.returncode != 0
    assert "MIDTRANS_VERIFY_STATUS" in refused.stderr
    # Against the sandbox, a developer may switch it off.
    sandbox = _manage_check(**development, MIDTRANS_IS_PRODUCTION="false")
    assert sandbox.returncode == 0, sandbox.stderr[-2000:]


@pytest.mark.parametrize(
    ("gateway", "debug", "is_production", "verify", "refused"),
    [
        ("midtrans", False, False, False, True),
        ("midtrans", False, True, False, True),
        ("midtrans", True, True, False, True),
        ("midtrans", True, False, False, False),
        ("midtrans", False, True, True, False),
        ("simulator", False, False, False, False),
    ],
)
def test_the_system_check_catches_verification_turned_off_after_the_settings_load(
    settings, gateway, debug, is_production, verify, refused
):
    settings.PAYMENT_GATEWAY = gateway
    settings.DEBUG = debug
    settings.MIDTRANS_IS_PRODUCTION = is_production
    settings.MIDTRANS_VERIFY_STATUS = verify

    errors = [message for message in checks.run_checks() if message.id == "billing.E001"]

    assert len(errors) == int(refused)
    assert [e.level for e in errors] == [checks.ERROR] * int(refused)
    assert check_midtrans_verify_status(None) == errors
