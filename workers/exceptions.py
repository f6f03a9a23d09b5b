"""Domain errors of workers; the API handler turns each into its status and code."""

from paas.exceptions import Conflict, DomainError


class InvalidWorkerToken(DomainError):
    """Deliberately one message for a missing, malformed or wrong token."""

    code = "not_authenticated"
    status_code = 401
    default_message = "The worker token is missing or not valid."


class NoCapacity(Conflict):
    code = "no_capacity"
    default_message = "The cluster has no room for this plan right now. Please try again later or pick a smaller plan."
