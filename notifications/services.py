"""Telling users what happened: ``emit`` fans an event out to email and to webhook endpoints.

Other apps call ``emit`` after their transaction commits (``transaction.on_commit``); nothing
here runs from Django signals. Every send is a row first (``EmailMessage``, ``WebhookDelivery``)
and a Celery task second, so a lost task message is found again by the periodic sweeps.
"""

import json
import logging
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from paas import crypto
from paas.bulk import any_of, insert_rows
from paas.queue import enqueue, enqueue_each_on_commit, enqueue_on_commit

from .destinations import DestinationRefused, check_url, guarded_session
from .emails import EMAIL_TEMPLATES, render_email, render_subject
from .events import ALL_EVENTS, EVENT_EMAIL_TEMPLATES, PING_EVENT, WEBHOOK_EVENTS
from .exceptions import EmailDeliveryError, EmailNotResendable, WebhookEndpointLimitReached
from .models import EmailMessage, WebhookDelivery, WebhookEndpoint
from .signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

# Labels that keep a sealed email secret from opening as a webhook secret and the reverse.
EMAIL_SEAL_PURPOSE = "notifications.email-context"
WEBHOOK_SEAL_PURPOSE = "notifications.webhook-secret"

# A worker holds a claimed email or delivery this long; after it, a crashed worker's claim lapses.
EMAIL_LEASE = timedelta(minutes=5)
WEBHOOK_LEASE = timedelta(minutes=5)
# Seconds to wait after each failed attempt: roughly x4 each time, about 21 hours over 8 attempts,
# so a receiver that is down for a night still gets everything.
WEBHOOK_RETRY_DELAYS: tuple[int, ...] = (30, 120, 600, 1800, 7200, 21600, 43200)
WEBHOOK_MAX_ENDPOINTS_PER_USER = 20
_RESPONSE_EXCERPT_BYTES = 1024
_ERROR_CHARS = 500


def _jsonable(payload: dict) -> dict:
    """The payload as plain JSON types: Decimals become strings ("150000.00"), datetimes ISO 8601."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]


# --- The one entry point ----------------------------------------------------------------------------


def emit(event: str, *, user, payload: dict) -> None:
    """Tell ``user`` that ``event`` happened: email it if it has a template, and send it to every
    active webhook endpoint of the user subscribed to it.

    Call it after the transaction that made the change has committed: from inside a
    transaction, use ``emit_on_commit``. ``payload`` must be
    JSON-serialisable (Decimal, UUID and datetime are converted); it becomes the ``data`` of the
    webhook body and the email's template context, so it must not carry secrets.
    An unknown event is a programming error and raises ``ValueError``.
    """
    if event not in ALL_EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    data = _jsonable(payload)
    with transaction.atomic():
        template = EVENT_EMAIL_TEMPLATES.get(event)
        if template is not None and user.is_active:
            email_queue(user=user, template=template, context=data, event=event)
        if event in WEBHOOK_EVENTS:
            _webhook_deliveries_create(user=user, event=event, data=data)


def emit_on_commit(event: str, *, user, payload: dict) -> None:
    """``emit`` once the current transaction commits; nothing is told if it rolls back.

    A failure to queue the notification is logged and never reaches the caller, whose change has
    committed already (a payment must stay credited even if its email cannot be queued).
    """
    if event not in ALL_EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    transaction.on_commit(lambda: emit(event, user=user, payload=payload), robust=True)


def emit_many(event: str, entries: Sequence[tuple[Any, Any]], payload: Callable[[Any], dict]) -> int:
    """``emit`` for many users at once (the billing clock's renewals and suspensions), in a
    constant number of queries and broker messages however many there are.

    ``entries`` pairs a user id with what ``payload`` turns into that user's payload; it is called
    only for users who will hear of the event (an active user when the event is emailed, or one
    with a subscribed endpoint), so an event most users do not listen to costs little. Emails are
    sent by ``email_send_many_task`` in chunks. Returns how many emails and deliveries were queued.
    """
    if event not in ALL_EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    user_ids = list({user_id for user_id, _ in entries})
    template = EVENT_EMAIL_TEMPLATES.get(event)
    users: dict[Any, tuple[str, str]] = {}
    if template is not None:
        User = get_user_model()
        active = User.objects.filter(any_of(User, "id", user_ids), is_active=True)
        users = {pk: (name, email) for pk, name, email in active.values_list("pk", "name", "email")}
    endpoints: dict[Any, list[WebhookEndpoint]] = defaultdict(list)
    if event in WEBHOOK_EVENTS:
        for endpoint in WebhookEndpoint.objects.filter(any_of(WebhookEndpoint, "user", user_ids), is_active=True):
            if event in endpoint.events:
                endpoints[endpoint.user_id].append(endpoint)
    emails: dict[str, list] = {"id": [], "user": [], "to": [], "subject": [], "context": []}
    deliveries: list[WebhookDelivery] = []
    for user_id, item in entries:
        user, hooks = users.get(user_id), endpoints.get(user_id)
        if user is None and not hooks:
            continue
        data = _jsonable(payload(item))
        if user is not None:
            name, address = user
            stored = {"name": name, **data}
            for column, value in (
                ("id", uuid.uuid4()),
                ("user", user_id),
                ("to", address),
                ("subject", render_subject(template, stored)),
                ("context", stored),
            ):
                emails[column].append(value)
        if hooks:
            deliveries += _deliveries(hooks, event=event, data=data)
    with transaction.atomic():
        insert_rows(EmailMessage, emails, template=template, event=event)
        WebhookDelivery.objects.bulk_create(deliveries)
        if emails["id"]:
            from .tasks import email_send_many_task

            ids = [str(pk) for pk in emails["id"]]
            for start in range(0, len(ids), EMAIL_CHUNK):
                enqueue_on_commit(email_send_many_task, ids[start : start + EMAIL_CHUNK])
        _enqueue_deliveries_on_commit([d.pk for d in deliveries])
    return len(emails["id"]) + len(deliveries)


def emit_many_on_commit(event: str, entries: Sequence[tuple[Any, Any]], payload: Callable[[Any], dict]) -> None:
    """``emit_many`` once the current transaction commits; a failure is logged, as with ``emit_on_commit``."""
    if event not in ALL_EVENTS:
        raise ValueError(f"Unknown event {event!r}.")
    if entries:
        transaction.on_commit(lambda: emit_many(event, entries, payload), robust=True)


# --- Email ------------------------------------------------------------------------------------------

# Emails one task sends in a row: a burst (the billing clock's suspensions) costs one broker
# message per chunk, and a chunk still finishes in seconds.
EMAIL_CHUNK = 25


def email_queue(
    *,
    user,
    template: str,
    context: dict[str, Any],
    secret_context: dict[str, str] | None = None,
    event: str = "",
    defer_until_commit: bool = True,
) -> EmailMessage:
    """Log an email as QUEUED and have a worker send it.

    ``secret_context`` carries the template's secret fields (e.g. a reset link): they are sealed
    in the row and wiped once it is sent or given up on, never stored in ``context``.
    The send is enqueued when the current transaction commits; ``defer_until_commit=False`` is
    for callers that run outside any transaction (a Celery task), where the row is committed
    already and there is nothing to wait for.
    """
    spec = EMAIL_TEMPLATES.get(template)
    if spec is None:
        raise ValueError(f"Unknown email template {template!r}.")
    secret_context = secret_context or {}
    if set(secret_context) != set(spec.secret_fields):
        raise ValueError(f"The {template} template needs exactly these secrets: {spec.secret_fields}.")
    if set(spec.secret_fields) & set(context):
        raise ValueError("Secrets go in secret_context, never in the stored context.")
    stored = {"name": user.name, **_jsonable(context)}
    message = EmailMessage.objects.create(
        user=user,
        to=user.email,
        template=template,
        event=event,
        subject=render_subject(template, {**stored, **secret_context}),
        context=stored,
        sealed_context=crypto.seal(json.dumps(secret_context), purpose=EMAIL_SEAL_PURPOSE) if secret_context else "",
    )
    from .tasks import email_send_task

    if defer_until_commit:
        enqueue_on_commit(email_send_task, str(message.pk))
    else:
        enqueue(email_send_task, str(message.pk))
    return message


def email_send(*, message_id) -> EmailMessage | None:
    """Send one QUEUED email through Django's email API (anymail in production).

    Idempotent by claim: a conditional UPDATE takes a lease on a QUEUED, unleased row and only
    the caller that got it sends, so a retried or duplicated task never sends twice; a row that
    is SENT, FAILED or leased returns ``None``. A backend failure releases the lease, records the
    error and raises ``EmailDeliveryError`` for the task to retry.
    """
    now = timezone.now()
    claimed = EmailMessage.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now), pk=message_id, status=EmailMessage.Status.QUEUED
    ).update(locked_until=now + EMAIL_LEASE, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return None
    message = EmailMessage.objects.get(pk=message_id)
    context = dict(message.context)
    if message.sealed_context:
        context.update(json.loads(crypto.unseal(message.sealed_context, purpose=EMAIL_SEAL_PURPOSE)))
    rendered = render_email(message.template, context)
    mail = EmailMultiAlternatives(subject=message.subject, body=rendered.text, to=[message.to])
    mail.attach_alternative(rendered.html, "text/html")
    try:
        mail.send()
    # Backends raise anything from SMTPException and socket errors to provider API errors.
    except Exception as exc:
        EmailMessage.objects.filter(pk=message.pk).update(
            locked_until=None, last_error=_describe(exc), updated_at=timezone.now()
        )
        logger.warning("email send failed", extra={"email_id": str(message.pk), "attempt": message.attempts})
        raise EmailDeliveryError(str(exc)) from exc
    # anymail reports the provider's id; Django's own backends have none.
    provider_id = getattr(getattr(mail, "anymail_status", None), "message_id", None)
    message.provider_id = "" if provider_id is None else str(provider_id)[:255]
    message.status = EmailMessage.Status.SENT
    message.sent_at = timezone.now()
    message.sealed_context = ""
    message.locked_until = None
    message.last_error = ""
    message.save(
        update_fields=["provider_id", "status", "sent_at", "sealed_context", "locked_until", "last_error", "updated_at"]
    )
    return message


def email_retry_delay(retries: int) -> int:
    """Seconds before the next email attempt: 30 s doubling, about 15 minutes over 6 attempts."""
    return 30 * 2**retries


def email_mark_failed(*, message_id) -> bool:
    """Give up on a QUEUED email (retries exhausted); its sealed secrets go with it."""
    return bool(
        EmailMessage.objects.filter(pk=message_id, status=EmailMessage.Status.QUEUED).update(
            status=EmailMessage.Status.FAILED, locked_until=None, sealed_context="", updated_at=timezone.now()
        )
    )


def email_resend(*, message: EmailMessage) -> EmailMessage:
    """Queue a copy of ``message`` (the original stays in the log as it was).

    An email whose single-use secret is gone (a sent reset link) cannot be copied.
    """
    spec = EMAIL_TEMPLATES[message.template]
    if spec.secret_fields and not message.sealed_context:
        raise EmailNotResendable()
    copy = EmailMessage.objects.create(
        user=message.user,
        to=message.user.email,
        template=message.template,
        event=message.event,
        subject=message.subject,
        context=message.context,
        sealed_context=crypto.reseal(message.sealed_context, purpose=EMAIL_SEAL_PURPOSE)
        if message.sealed_context
        else "",
    )
    from .tasks import email_send_task

    enqueue_on_commit(email_send_task, str(copy.pk))
    return copy


def email_requeue_stale(*, older_than: timedelta = timedelta(minutes=30), limit: int = 500) -> int:
    """Enqueue again the QUEUED emails nobody has touched for a while (a task message was lost).

    ``older_than`` is longer than the whole retry schedule, so an email waiting for its next
    retry is left alone; if one is picked up anyway, the claim in ``email_send`` stops a double send.
    """
    from .tasks import email_send_task

    now = timezone.now()
    ids = list(
        EmailMessage.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now),
            status=EmailMessage.Status.QUEUED,
            updated_at__lt=now - older_than,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        enqueue(email_send_task, str(message_id))
    return len(ids)


# --- Webhook endpoints --------------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    url = url.strip()
    try:
        check_url(url, require_resolution=False)
    except DestinationRefused as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    return url


def _clean_events(events: list[str]) -> list[str]:
    if not events:
        raise ValidationError({"events": ["Subscribe to at least one event."]})
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown:
        raise ValidationError({"events": [f"Unknown events: {', '.join(unknown)}."]})
    # Stored in the catalogue's order, without repeats, so equal subscriptions look equal.
    return [event for event in WEBHOOK_EVENTS if event in set(events)]


def webhook_secret(endpoint: WebhookEndpoint) -> str:
    return crypto.unseal(endpoint.secret_sealed, purpose=WEBHOOK_SEAL_PURPOSE)


@transaction.atomic
def webhook_endpoint_create(*, user, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """Create an endpoint and return it with its signing secret, which is never shown again."""
    # Lock the user row so two concurrent creations cannot both pass the limit.
    type(user).objects.select_for_update().filter(pk=user.pk).first()
    if WebhookEndpoint.objects.filter(user=user).count() >= WEBHOOK_MAX_ENDPOINTS_PER_USER:
        raise WebhookEndpointLimitReached(extra={"limit": WEBHOOK_MAX_ENDPOINTS_PER_USER})
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        user=user,
        url=_clean_url(url),
        events=_clean_events(events),
        description=description.strip(),
        secret_sealed=crypto.seal(secret, purpose=WEBHOOK_SEAL_PURPOSE),
    )
    endpoint.full_clean()
    endpoint.save()
    logger.info("webhook endpoint created", extra={"endpoint_id": str(endpoint.pk), "user_id": str(user.pk)})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    """Change url, events, description or is_active. Turning an endpoint on clears its failure record."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    fields: list[str] = []
    if "url" in data:
        endpoint.url = _clean_url(data["url"])
        fields.append("url")
    if "events" in data:
        endpoint.events = _clean_events(data["events"])
        fields.append("events")
    if "description" in data:
        endpoint.description = data["description"].strip()
        fields.append("description")
    if "is_active" in data and data["is_active"] != endpoint.is_active:
        if data["is_active"]:
            endpoint.is_active = True
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
        else:
            endpoint.is_active = False
            endpoint.disabled_at = timezone.now()
            endpoint.disabled_reason = "Turned off by its owner."
        fields += ["is_active", "consecutive_failures", "disabled_at", "disabled_reason"]
    if not fields:
        return endpoint
    endpoint.full_clean()
    endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log; deliveries in flight find it gone and stop."""
    endpoint.delete()


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, notify: bool = True) -> bool:
    """Turn an active endpoint off and, with ``notify``, email its owner. False if it was off already."""
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:255], updated_at=timezone.now()
        )
        if changed and notify:
            email_queue(
                user=endpoint.user,
                template="webhook-disabled",
                context={"endpoint": {"id": str(endpoint.pk), "url": endpoint.url}, "reason": reason},
            )
    if changed:
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": str(endpoint.pk), "reason": reason})
    return bool(changed)


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return webhook_endpoint_update(endpoint=endpoint, data={"is_active": True})


# --- Webhook deliveries -------------------------------------------------------------------------------


def _body(*, event: str, event_id: uuid.UUID, data: dict) -> str:
    envelope = {"id": str(event_id), "event": event, "created_at": timezone.now(), "data": data}
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":"))


def _webhook_deliveries_create(*, user, event: str, data: dict) -> list[WebhookDelivery]:
    # Few endpoints per user: filtering the subscription list here keeps SQLite (local runs) working.
    endpoints = [e for e in WebhookEndpoint.objects.filter(user=user, is_active=True) if event in e.events]
    if not endpoints:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(_deliveries(endpoints, event=event, data=data))
    _enqueue_deliveries_on_commit([d.pk for d in deliveries])
    return deliveries


def _deliveries(endpoints, *, event: str, data: dict) -> list[WebhookDelivery]:
    """One event's deliveries to ``endpoints`` (unsaved): one event id and body for all of them."""
    event_id = uuid.uuid4()
    body = _body(event=event, event_id=event_id, data=data)
    now = timezone.now()
    return [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            body=body,
            max_attempts=len(WEBHOOK_RETRY_DELAYS) + 1,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    ]


def _enqueue_deliveries_on_commit(delivery_ids: list) -> None:
    from .tasks import webhook_deliver_task

    enqueue_each_on_commit(webhook_deliver_task, delivery_ids)


@transaction.atomic
def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a ``ping`` event to the endpoint once, even if it is turned off (to test it before turning it on).

    A ping is tried once and does not count towards the endpoint's failure record.
    """
    event_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=PING_EVENT,
        event_id=event_id,
        body=_body(
            event=PING_EVENT, event_id=event_id, data={"endpoint": {"id": str(endpoint.pk), "url": endpoint.url}}
        ),
        max_attempts=1,
        next_attempt_at=timezone.now(),
    )
    _enqueue_deliveries_on_commit([delivery.pk])
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery (same body and event id, fresh retries)."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        event_id=delivery.event_id,
        body=delivery.body,
        max_attempts=delivery.max_attempts,
        next_attempt_at=timezone.now(),
    )
    _enqueue_deliveries_on_commit([copy.pk])
    return copy


def _post(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str, int | None, str]:
    """One HTTP attempt: (status code, start of the answer, latency in ms, error or "")."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PaaS-Webhooks/1.0",
        SIGNATURE_HEADER: sign(secret=webhook_secret(endpoint), body=body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
    }
    timeout = settings.WEBHOOKS_TIMEOUT
    started = time.monotonic()
    try:
        check_url(endpoint.url, require_resolution=True)
        with guarded_session() as session:
            response = session.post(
                endpoint.url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
            )
            latency = int((time.monotonic() - started) * 1000)
            try:
                excerpt = next(response.iter_content(_RESPONSE_EXCERPT_BYTES), b"")
            except requests.RequestException:
                excerpt = b""
            response.close()
    except DestinationRefused as exc:
        return None, "", None, f"Refused: {exc}"
    except requests.Timeout:
        return None, "", int((time.monotonic() - started) * 1000), f"Timed out after {timeout:g} s."
    except requests.RequestException as exc:
        return None, "", int((time.monotonic() - started) * 1000), f"Connection failed: {_describe(exc)}"
    text = excerpt.decode("utf-8", errors="replace")
    if 200 <= response.status_code < 300:
        return response.status_code, text, latency, ""
    note = " Redirects are not followed." if 300 <= response.status_code < 400 else ""
    return response.status_code, text, latency, f"The receiver answered HTTP {response.status_code}.{note}"


def webhook_delivery_attempt(*, delivery_id) -> WebhookDelivery | None:
    """Make the next attempt of a due delivery, and schedule the one after if it fails.

    Idempotent by claim: a conditional UPDATE pushes ``next_attempt_at`` a lease ahead and counts
    the attempt; only the caller that got the row sends, so duplicated tasks and overlapping
    sweeps never send one attempt twice. Returns ``None`` when the delivery was not due.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + WEBHOOK_LEASE, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint__user").get(pk=delivery_id)
    endpoint = delivery.endpoint
    is_ping = delivery.event == PING_EVENT
    if not endpoint.is_active and not is_ping:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = "The endpoint is turned off."
        delivery.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
        return delivery

    code, excerpt, latency, error = _post(endpoint=endpoint, delivery=delivery)
    finished = timezone.now()
    delivery.response_status, delivery.response_body, delivery.latency_ms = code, excerpt, latency
    delivery.last_error = error
    if not error:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = finished
        delivery.next_attempt_at = None
    elif delivery.attempts >= delivery.max_attempts:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = finished + timedelta(seconds=WEBHOOK_RETRY_DELAYS[delivery.attempts - 1])
    delivery.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "response_status",
            "response_body",
            "latency_ms",
            "last_error",
            "delivered_at",
            "updated_at",
        ]
    )
    logger.info(
        "webhook attempt",
        extra={"delivery_id": str(delivery.pk), "attempt": delivery.attempts, "code": code, "ok": not error},
    )
    if not is_ping:
        _endpoint_record_outcome(endpoint=endpoint, delivery=delivery, at=finished)
    return delivery


def _endpoint_record_outcome(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery, at) -> None:
    """Keep the endpoint's failure record; enough deliveries failing in a row turn it off."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        endpoints.update(consecutive_failures=0, last_success_at=at, updated_at=at)
        return
    endpoints.update(last_failure_at=at, updated_at=at)
    if delivery.status != WebhookDelivery.Status.FAILED:
        return  # more attempts to come: only a delivery that failed for good counts
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    threshold = settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    if endpoints.filter(is_active=True, consecutive_failures__gte=threshold).exists():
        webhook_endpoint_disable(
            endpoint=endpoint,
            reason=f"{threshold} deliveries in a row failed after every retry (last: {delivery.last_error})",
        )


def webhook_deliveries_requeue_due(*, limit: int = 500) -> int:
    """Enqueue every PENDING delivery whose next attempt is due (first attempts too, if their task
    was lost), oldest first. Safe to overlap: ``webhook_delivery_attempt`` claims each attempt."""
    from .tasks import webhook_deliver_task

    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        enqueue(webhook_deliver_task, str(delivery_id))
    return len(due)
