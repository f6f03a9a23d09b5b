"""``make run``'s embedded defaults behave like production where clients can tell.

Each check runs in fresh processes with the settings ``make run`` uses (DEBUG on, no Redis, no
database URL), because those settings are read once at start-up.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _embedded(code: str, prelude: str = "") -> str:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "paas.settings.base",
        "DEBUG": "true",
        "PAYMENT_GATEWAY": "simulator",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"{prelude}import django; django.setup()\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_without_redis_separate_processes_share_one_cache():
    # The web server, the worker and beat are separate processes: throttle counters and the
    # payment simulator's state must be the same for all of them.
    key = f"embedded-check-{uuid.uuid4().hex}"
    _embedded(f"from django.core.cache import cache; cache.set({key!r}, 'from-web', 60); print('set')")
    try:
        seen = _embedded(f"from django.core.cache import cache; print(cache.get({key!r}))")
        assert seen == "from-web"
    finally:
        _embedded(f"from django.core.cache import cache; cache.delete({key!r}); print('gone')")


def test_with_debug_on_an_unknown_api_path_is_still_the_json_envelope():
    body = _embedded(
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='localhost').post('/api/v1/no-such-thing', {}, content_type='application/json')\n"
        "print(r.status_code, r['Content-Type'], r.content.decode())"
    )
    status, content_type, payload = body.split(" ", 2)
    assert (status, content_type) == ("404", "application/json")
    assert json.loads(payload)["error"]["code"] == "not_found"


def test_the_queries_postgresql_forgives_run_on_the_embedded_database(tmp_path):
    # SQLite refuses what PostgreSQL accepts (ORDER BY inside a UNION): run, on a fresh SQLite
    # database, the reads that combine querysets.
    database = tmp_path / "embedded.sqlite3"
    code = (
        "import uuid\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from subscriptions import selectors, services\n"
        "from subscriptions.models import Subscription\n"
        "subscription = Subscription(pk=uuid.uuid4(), instance_id=uuid.uuid4())\n"
        "events = list(selectors.subscription_history(subscription=subscription))\n"
        "print(len(events), len(services.followups_due()))"
    )
    env_code = f"import os; os.environ['DATABASE_URL'] = 'sqlite:///{database}'\n"
    events, followups = _embedded(code, prelude=env_code).split()
    assert (events, followups) == ("0", "0")
