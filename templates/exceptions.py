"""Errors of the renderer. They are programming or operator errors, not customer input errors:
customer config problems are raised as Django ``ValidationError`` by ``templates.config``."""


class TemplateError(Exception):
    """Base class: the manifests cannot be rendered."""


class UnknownTemplate(TemplateError, LookupError):
    def __init__(self, key):
        super().__init__(f"No blueprint is registered under {key!r}.")
        self.key = key


class MissingSecrets(TemplateError):
    """The caller did not pass every secret: generate them with ``secrets_generate_missing``."""

    def __init__(self, keys):
        # Only the key names: never the values.
        super().__init__(f"Missing secret values for: {', '.join(sorted(keys))}.")
        self.keys = sorted(keys)


class PlanTooSmall(TemplateError):
    """The plan cannot be split between the app and its database."""
