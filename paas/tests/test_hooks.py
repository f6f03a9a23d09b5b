"""One hook mechanism for cross-app reactions: listeners run after the commit, in order; a failing
one is logged and neither undoes the change nor stops the others; the payload's type is checked."""

import logging
import uuid
from dataclasses import dataclass

import pytest
from django.db import transaction

from accounts.models import User
from accounts.tests.factories import UserFactory
from billing import hooks as billing_hooks
from catalog import hooks as catalog_hooks
from paas.hooks import Hook
from pods import hooks as pods_hooks
from pods import services as pods_services
from subscriptions.services import reactions


@dataclass(frozen=True)
class Happened:
    what: str


@pytest.fixture
def hook() -> Hook:
    return Hook("test.happened", Happened)


@pytest.mark.django_db
def test_listeners_run_after_the_commit_in_the_order_they_connected(hook, django_capture_on_commit_callbacks):
    heard = []
    hook.connect(lambda event: heard.append(("first", event.what)))
    hook.connect(lambda event: heard.append(("second", event.what)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        hook.send(Happened("it"))
        assert heard == []  # not inside the transaction
    assert heard == [("first", "it"), ("second", "it")]


@pytest.mark.django_db
def test_nothing_is_told_of_a_change_that_rolls_back(hook, django_capture_on_commit_callbacks):
    heard = []
    hook.connect(heard.append)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        hook.send(Happened("undone"))
        raise RuntimeError
    assert heard == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_is_logged_and_neither_undoes_the_change_nor_stops_the_others(hook, caplog):
    heard = []

    def broken(event: Happened) -> None:
        raise ValueError("the broker is down")

    hook.connect(broken)
    hook.connect(heard.append)
    with caplog.at_level(logging.ERROR, logger="paas.hooks"), transaction.atomic():
        user = UserFactory()
        hook.send(Happened("signed up"))
    assert User.objects.filter(pk=user.pk).exists()
    assert heard == [Happened("signed up")]
    [record] = [r for r in caplog.records if r.name == "paas.hooks"]
    assert record.hook == "test.happened" and record.listener.endswith("broken") and record.exc_info


def test_outside_a_transaction_listeners_run_at_once(hook, transactional_db):
    heard = []
    hook.connect(heard.append)
    hook.send(Happened("now"))
    assert heard == [Happened("now")]


def test_a_payload_of_another_type_is_refused_in_the_sender(hook):
    hook.connect(lambda event: None)
    with pytest.raises(TypeError, match=r"test\.happened carries Happened"):
        hook.send({"what": "a dict"})


def test_connecting_a_listener_twice_runs_it_once(hook, transactional_db):
    heard = []
    hook.connect(heard.append)
    hook.connect(heard.append)
    hook.send(Happened("once"))
    assert heard == [Happened("once")]


def test_the_products_hooks_have_their_listeners_connected():
    # The table in docs/development.md: who reacts to what.
    assert catalog_hooks.plan_resized.listeners == (pods_services.plan_resized,)
    assert pods_hooks.instance_status_changed.listeners == (reactions.instance_status_changed,)
    assert billing_hooks.balance_credited.listeners == (reactions.balance_credited,)
    assert billing_hooks._renewal_providers == [reactions.upcoming_renewals]


@pytest.mark.django_db
def test_the_products_hooks_check_their_payloads():
    with pytest.raises(TypeError):
        catalog_hooks.plan_resized.send(uuid.uuid4())
    with pytest.raises(TypeError):
        billing_hooks.balance_credited.send(uuid.uuid4())
