"""Midtrans Snap and Core status API through the official ``midtransclient``.

The only module that imports ``midtransclient``. It works around the library's defects: no request
timeout (we hand it a session that always sets one), ``transactions.notification()`` passing its
arguments in the wrong order (we call ``transactions.status``), and ``ApiConfig.__repr__``
printing the server key (we never log the client or its config).
"""

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

import midtransclient
import requests

from .types import ChargeRequest, ChargeSession, GatewayError, GatewayUnavailable, PaymentStatus

logger = logging.getLogger(__name__)

JAKARTA = ZoneInfo("Asia/Jakarta")
ITEM_NAME_MAX = 50  # Midtrans rejects longer item names
CUSTOMER_NAME_MAX = 30  # BCA VA truncates first + last name beyond this


class _TimeoutSession(requests.Session):
    """A requests session that applies a default timeout to every call."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self._timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, **kwargs)


def _api_status_code(exc: "midtransclient.MidtransAPIError") -> int:
    """The status Midtrans meant: the body's ``status_code`` can say 404 inside an HTTP 200."""
    body = exc.api_response_dict if isinstance(exc.api_response_dict, dict) else {}
    try:
        return int(body.get("status_code") or exc.http_status_code or 0)
    except (TypeError, ValueError):
        return int(exc.http_status_code or 0)


def _describe(exc: Exception) -> str:
    if isinstance(exc, midtransclient.MidtransAPIError):
        body = exc.api_response_dict if isinstance(exc.api_response_dict, dict) else {}
        messages = body.get("error_messages") or body.get("status_message") or ""
        return f"Midtrans answered {exc.http_status_code} ({_api_status_code(exc)}): {messages}"
    return f"{type(exc).__name__}"


class MidtransGateway:
    """Snap for creating payments, the Core API for status and expiry."""

    name = "midtrans"

    def __init__(
        self,
        *,
        server_key: str,
        client_key: str = "",
        is_production: bool = False,
        timeout: tuple[float, float] = (5.0, 20.0),
        notification_url: str = "",
        finish_url: str = "",
    ):
        if not server_key:
            raise GatewayError("MIDTRANS_SERVER_KEY is not set.")
        # Always pass fresh dicts: midtransclient's defaults are shared mutable objects.
        headers = {"X-Override-Notification": notification_url} if notification_url else {}
        self._snap = midtransclient.Snap(
            is_production=is_production,
            server_key=server_key,
            client_key=client_key,
            custom_headers=headers,
            proxies={},
        )
        self._snap.http_client.http_client = _TimeoutSession(timeout)
        self._finish_url = finish_url

    def __repr__(self) -> str:  # never the config: its repr holds the server key
        return f"<MidtransGateway production={self._snap.api_config.is_production}>"

    def _call(self, what: str, func, *args):
        try:
            return func(*args)
        except requests.exceptions.RequestException as exc:
            logger.warning("Midtrans %s failed: %s", what, _describe(exc))
            raise GatewayUnavailable(f"Midtrans {what} failed: {type(exc).__name__}.") from exc
        except midtransclient.JSONDecodeError as exc:
            # A non-JSON body is an HTML error page from their edge: transient.
            logger.warning("Midtrans %s answered a non-JSON body", what)
            raise GatewayUnavailable(f"Midtrans {what} answered a non-JSON body.") from exc

    def create_charge(self, request: ChargeRequest) -> ChargeSession:
        gross = int(request.amount)
        if gross != request.amount or gross <= 0:
            raise GatewayError("Midtrans needs a positive whole number of rupiah.")
        start = request.expires_at.astimezone(JAKARTA) - timedelta(minutes=request.expiry_minutes)
        params = {
            "transaction_details": {"order_id": request.order_id, "gross_amount": gross},
            "item_details": [
                {"id": "credit-topup", "price": gross, "quantity": 1, "name": request.description[:ITEM_NAME_MAX]}
            ],
            "customer_details": {
                "first_name": request.customer.name[:CUSTOMER_NAME_MAX],
                "email": request.customer.email,
            },
            "credit_card": {"secure": True},
            "expiry": {
                "start_time": start.strftime("%Y-%m-%d %H:%M:%S %z"),
                "unit": "minute",
                "duration": request.expiry_minutes,
            },
        }
        if self._finish_url:
            params["callbacks"] = {"finish": self._finish_url}
        try:
            answer = self._call("snap create", self._snap.create_transaction, params)
        except midtransclient.MidtransAPIError as exc:
            logger.warning("Midtrans snap create refused order %s: %s", request.order_id, _describe(exc))
            if _api_status_code(exc) >= 500:
                raise GatewayUnavailable(_describe(exc)) from exc
            raise GatewayError(_describe(exc)) from exc
        token, url = answer.get("token"), answer.get("redirect_url")
        if not isinstance(token, str) or not isinstance(url, str) or not token or not url:
            raise GatewayError("Midtrans answered without a token or redirect_url.")
        return ChargeSession(token=token, redirect_url=url)

    def get_status(self, order_id: str) -> PaymentStatus | None:
        try:
            answer = self._call("status", self._snap.transactions.status, order_id)
        except midtransclient.MidtransAPIError as exc:
            code = _api_status_code(exc)
            if code == 404:
                return None  # Snap transaction not started yet (no payment method chosen)
            logger.warning("Midtrans status for %s failed: %s", order_id, _describe(exc))
            if code >= 500:
                raise GatewayUnavailable(_describe(exc)) from exc
            raise GatewayError(_describe(exc)) from exc
        try:
            return PaymentStatus.from_midtrans(answer)
        except ValueError as exc:
            raise GatewayError(f"Midtrans status answer is incomplete: {exc}") from exc

    def cancel(self, order_id: str) -> None:
        try:
            self._call("expire", self._snap.transactions.expire, order_id)
        except midtransclient.MidtransAPIError as exc:
            code = _api_status_code(exc)
            # 404: never started; 412: already final. Both leave nothing to expire.
            if code in {404, 412}:
                return
            if code >= 500:
                raise GatewayUnavailable(_describe(exc)) from exc
            raise GatewayError(_describe(exc)) from exc
