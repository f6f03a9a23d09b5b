"""Billing's domain errors; the API handler turns each into its status and code."""

from paas.exceptions import Conflict, DomainError, NotFound


class InsufficientBalance(DomainError):
    """The wallet does not cover the debit. ``extra`` carries ``balance`` and ``required``."""

    code = "insufficient_balance"
    status_code = 402
    default_message = "The balance does not cover this amount."


class PaymentGatewayError(DomainError):
    code = "payment_gateway_error"
    status_code = 502
    default_message = "The payment provider could not be reached or refused the request. Please try again."


class PaymentGatewayUnavailable(DomainError):
    """The status API did not answer; the gateway retries the notification later."""

    code = "payment_gateway_unavailable"
    status_code = 503
    default_message = "The payment provider is unavailable; the notification will be retried."


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status_code = 403
    default_message = "The notification signature does not match."


class InvalidNotification(DomainError):
    code = "bad_request"
    status_code = 400
    default_message = "The notification is not a valid payment notification."


class AmountMismatch(DomainError):
    code = "amount_mismatch"
    status_code = 400
    default_message = "The paid amount does not match the top-up."


class UnknownOrder(NotFound):
    default_message = "No top-up has this order id."


class AlreadyRefunded(Conflict):
    code = "already_refunded"
    default_message = "This transaction has already been refunded in full."


class NotRefundable(Conflict):
    code = "invalid_state"
    default_message = "Only completed top-ups and charges can be refunded."
