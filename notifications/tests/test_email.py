"""The email pipeline: queue, send once through Django's email API, retry, give up, keep secrets sealed."""

import re

import pytest
from django.core import mail
from django.test import override_settings

from accounts import services as account_services
from accounts.models import User
from notifications import services
from notifications.models import EmailMessage
from notifications.tasks import EMAIL_MAX_RETRIES, email_send_task
from notifications.tests.backends import FlakyEmailBackend

from .factories import EmailMessageFactory

pytestmark = pytest.mark.django_db

FLAKY = "notifications.tests.backends.FlakyEmailBackend"


@pytest.fixture(autouse=True)
def _reset_flaky_backend():
    FlakyEmailBackend.calls = 0


def _queue_welcome(user) -> EmailMessage:
    return services.email_queue(user=user, template="welcome", context={}, event="user.registered")


def test_queued_email_is_sent_after_commit_with_text_and_html(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue_welcome(user)
        assert mail.outbox == []  # nothing leaves before the transaction commits

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [user.email]
    assert sent.subject == "Welcome to PaaS"
    assert f"Hello {user.name}," in sent.body
    assert sent.alternatives[0].mimetype == "text/html"
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.locked_until is None


@override_settings(EMAIL_BACKEND=FLAKY, FLAKY_EMAIL_FAILURES=2)
def test_smtp_failure_is_retried_and_the_email_sent_once(user, eager_retries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue_welcome(user)

    assert FlakyEmailBackend.calls == 3
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert message.attempts == 3
    assert message.last_error == ""


@override_settings(EMAIL_BACKEND=FLAKY, FLAKY_EMAIL_FAILURES=100)
def test_email_is_marked_failed_when_retries_run_out(user, eager_retries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue_welcome(user)

    assert FlakyEmailBackend.calls == EMAIL_MAX_RETRIES + 1
    assert mail.outbox == []
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED
    assert message.attempts == EMAIL_MAX_RETRIES + 1
    assert "SMTPServerDisconnected" in message.last_error
    assert message.sent_at is None


def test_retry_backoff_is_exponential():
    assert [services.email_retry_delay(n) for n in range(EMAIL_MAX_RETRIES)] == [30, 60, 120, 240, 480]


def test_running_the_task_again_never_sends_twice(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue_welcome(user)

    email_send_task.delay(str(message.pk))
    email_send_task.delay(str(message.pk))

    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_an_email_leased_by_another_worker_is_left_alone(user):
    message = _queue_welcome(user)  # on_commit not run: still QUEUED
    assert services.email_send(message_id=message.pk) is not None  # first worker claims and sends
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailMessage.Status.QUEUED)

    # A lease still running (the first worker might still be sending) stops a second one.
    EmailMessage.objects.filter(pk=message.pk).update(locked_until=message.created_at.replace(year=2999))
    assert services.email_send(message_id=message.pk) is None

    assert len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
def test_provider_message_id_is_recorded(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue_welcome(user)

    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert message.provider_id == "0"  # the anymail test backend's id: the index in the outbox


def test_unknown_template_and_secret_in_context_are_refused(user):
    with pytest.raises(ValueError, match="Unknown email template"):
        services.email_queue(user=user, template="nope", context={})
    with pytest.raises(ValueError, match="needs exactly these secrets"):
        services.email_queue(user=user, template="password-reset", context={"minutes": 5})
    with pytest.raises(ValueError, match="never in the stored context"):
        services.email_queue(
            user=user,
            template="password-reset",
            context={"minutes": 5, "reset_link": "https://x/y"},
            secret_context={"reset_link": "https://x/y"},
        )
    assert not EmailMessage.objects.exists()


def test_secret_is_sealed_while_queued_and_wiped_once_sent(user, django_capture_on_commit_callbacks):
    link = "https://app.example.com/reset-password?uid=abc&token=s3cr3t-t0ken"
    with django_capture_on_commit_callbacks(execute=True):
        message = services.email_queue(
            user=user, template="password-reset", context={"minutes": 120}, secret_context={"reset_link": link}
        )
        queued = EmailMessage.objects.get(pk=message.pk)
        assert "s3cr3t-t0ken" not in str(queued.context)
        assert queued.sealed_context and "s3cr3t-t0ken" not in queued.sealed_context

    assert link in mail.outbox[0].body
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert message.sealed_context == ""
    assert message.context == {"name": user.name, "minutes": 120}


def _reset_link(body: str) -> str:
    return re.search(r"https?://\S+", body).group(0)


def test_password_reset_goes_through_the_pipeline_and_its_link_works(
    user, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/auth/password-reset", {"email": user.email}, format="json")

    assert response.status_code == 202
    assert len(mail.outbox) == 1
    link = _reset_link(mail.outbox[0].body)
    assert "uid=" in link and "token=" in link
    assert link in mail.outbox[0].alternatives[0].content.replace("&amp;", "&")
    message = EmailMessage.objects.get(user=user)
    assert (message.template, message.status) == ("password-reset", EmailMessage.Status.SENT)
    token = re.search(r"token=([^&\s]+)", link).group(1)
    stored = " ".join(str(v) for v in EmailMessage.objects.filter(pk=message.pk).values().first().values())
    assert token not in stored

    uid = re.search(r"uid=([^&\s]+)", link).group(1)
    confirm = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "An0ther-Long-Passphrase"},
        format="json",
    )
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password("An0ther-Long-Passphrase")


def test_password_reset_send_called_directly_still_reaches_the_outbox(user):
    account_services.password_reset_send(user=user)

    assert len(mail.outbox) == 1
    assert "token=" in mail.outbox[0].body


def test_registration_sends_a_welcome_email(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "new.customer@example.com", "password": "Corr3ct-Horse-Battery", "name": "Budi Santoso"},
            format="json",
        )

    assert response.status_code == 201
    assert [m.subject for m in mail.outbox] == ["Welcome to PaaS"]
    message = EmailMessage.objects.get(to="new.customer@example.com")
    assert (message.template, message.event, message.status) == ("welcome", "user.registered", "SENT")


def test_an_administrator_account_gets_no_welcome_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_create(
            email="ops@example.com", password="Corr3ct-Horse-Battery", name="Ops", role=User.Role.ADMINISTRATOR
        )

    assert mail.outbox == []
    assert not EmailMessage.objects.exists()


def test_resend_queues_a_copy_and_keeps_the_original(user, django_capture_on_commit_callbacks):
    original = EmailMessageFactory(user=user, status=EmailMessage.Status.FAILED, sent_at=None, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        copy = services.email_resend(message=original)

    original.refresh_from_db()
    copy.refresh_from_db()
    assert original.status == EmailMessage.Status.FAILED
    assert copy.pk != original.pk and copy.status == EmailMessage.Status.SENT
    assert len(mail.outbox) == 1


def test_a_sent_reset_link_cannot_be_resent(user):
    sent = EmailMessageFactory(user=user, template="password-reset", context={"name": user.name, "minutes": 120})

    with pytest.raises(services.EmailNotResendable):
        services.email_resend(message=sent)

    assert EmailMessage.objects.count() == 1


def test_requeue_sweep_sends_emails_whose_task_was_lost(user, time_machine):
    message = _queue_welcome(user)  # on_commit never runs: as if the broker lost the message
    time_machine.move_to(message.created_at.replace(microsecond=0).isoformat(), tick=False)
    assert services.email_requeue_stale() == 0  # too recent: it may still be on its way

    time_machine.shift(31 * 60)
    assert services.email_requeue_stale() == 1

    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert len(mail.outbox) == 1
