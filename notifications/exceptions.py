from paas.exceptions import Conflict, InvalidState


class WebhookEndpointLimitReached(Conflict):
    code = "limit_reached"
    default_message = "You have as many webhook endpoints as an account may have. Delete one first."


class EmailNotResendable(InvalidState):
    default_message = "This email carried a single-use secret that is gone; the user must ask for a new one."


class EmailDeliveryError(Exception):
    """The email backend refused or failed to send; worth retrying. Not a domain error: tasks handle it."""
