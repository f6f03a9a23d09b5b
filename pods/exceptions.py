"""Domain errors of the pods app; the API handler turns each into its status and code."""

from paas.exceptions import DomainError, InvalidState


class ClusterError(DomainError):
    """The cluster did not do what a request needed right now (it is unreachable, or refused)."""

    code = "cluster_error"
    status_code = 502
    default_message = "The cluster could not complete this request right now. Please try again shortly."


class NotRunning(InvalidState):
    default_message = "The app has no running pod."


class RetentionExpired(InvalidState):
    default_message = "This instance was deleted too long ago to be restored: its data is gone."
