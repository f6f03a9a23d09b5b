"""``Idempotency-Key`` for POSTs that move money or create subscriptions.

Decorate a DRF view method with ``@idempotent``. The same key from the same user within 24 hours
returns the first response again (with ``Idempotent-Replayed: true``) and runs nothing twice:

- the first request claims the key in its own short transaction (a unique row per user and key);
- a concurrent request with the key still in progress gets 409 ``idempotency_key_in_use``;
- the same key with a different method, path or body gets 422 ``idempotency_key_mismatch``;
- a response is kept when the request had an effect: any 2xx, and handled 5xx such as 502
  ``payment_gateway_error`` (the failed top-up exists). A 4xx means the request was refused
  before anything happened, so the key is released and the client may fix the body and retry;
  so does a 503 when Redis was unavailable (it is read before anything is written). A 503 from
  the database is kept: the connection may have dropped after the request committed (a purchase
  re-reads what it made), and replaying the 503 is safer than charging twice. The client checks
  what exists (``GET``) before it tries again with a new key.

Records live in ``paas.IdempotencyRecord`` and are purged daily after 24 hours.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from paas.exceptions import Conflict, DomainError, IdempotencyKeyMismatch
from paas.models import IdempotencyRecord

HEADER = "Idempotency-Key"
WINDOW = timedelta(hours=24)
# A claim older than this belongs to a request that died (worker killed): let a retry take over.
ABANDONED_AFTER = timedelta(minutes=5)
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyInvalid(DomainError):
    code = "invalid_idempotency_key"
    status_code = 400
    default_message = "The Idempotency-Key header must be 1 to 255 visible ASCII characters."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    default_message = "A request with this Idempotency-Key is still being processed. Retry shortly."


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _claim(*, user, key: str, fingerprint: str, request):
    """Returns ``(record, replay)``: a record this request now owns, or the stored response."""
    Record = IdempotencyRecord
    now = timezone.now()
    fresh = {"fingerprint": fingerprint, "method": request.method, "path": request.path[:255]}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = Record.objects.create(user=user, key=key, created_at=now, updated_at=now, **fresh)
            return record, None
        except IntegrityError:
            pass  # the key exists: decide under its row lock
        record = Record.objects.select_for_update().get(user=user, key=key)
        if record.created_at < now - WINDOW:
            # Past its window the key is free again: this request starts it over.
            changes = {**fresh, "state": Record.State.STARTED, "created_at": now, "updated_at": now}
            changes |= {"response_status": None, "response_body": None}
            for name, value in changes.items():
                setattr(record, name, value)
            record.save(update_fields=list(changes))
            return record, None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch()
        if record.state == Record.State.COMPLETED:
            return record, Response(
                record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
            )
        if record.updated_at > now - ABANDONED_AFTER:
            raise IdempotencyKeyInUse()
        record.updated_at = now
        record.save(update_fields=["updated_at"])
        return record, None


def _keep(response, exc: BaseException | None) -> bool:
    if response.status_code == 503:
        return isinstance(exc, DatabaseError)
    return response.status_code < 400 or response.status_code >= 500


def idempotent(view_method):
    """Make a DRF view method honour ``Idempotency-Key`` (see the module docstring)."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if not _KEY_RE.match(key):
            raise IdempotencyKeyInvalid()
        record, replay = _claim(user=request.user, key=key, fingerprint=_fingerprint(request), request=request)
        if replay is not None:
            return replay
        error = None
        try:
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:
                # Turn domain and API errors into their response here, to decide what to keep.
                error = exc
                response = self.handle_exception(exc)
        except BaseException:
            record.delete()  # a bug or a crash: nothing to replay, let the client retry
            raise
        if _keep(response, error):
            record.state = record.State.COMPLETED
            record.response_status = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.updated_at = timezone.now()
            record.save(update_fields=["state", "response_status", "response_body", "updated_at"])
        else:
            record.delete()
        return response

    return wrapper


def idempotency_records_purge(*, older_than: timedelta = WINDOW) -> int:
    """Delete idempotency records past their 24 h window (a plain delete: safe to repeat)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
