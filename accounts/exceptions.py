from paas.exceptions import Conflict, DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = 401
    default_message = "Email or password is incorrect."


class EmailAlreadyRegistered(DomainError):
    code = "validation_error"
    status_code = 400
    default_message = "The request has invalid fields."

    def __init__(self):
        super().__init__(extra={"email": ["An account with this email already exists."]})


class SelfLockout(Conflict):
    default_message = "You cannot deactivate or demote your own account."
