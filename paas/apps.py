from django.apps import AppConfig


class PaasConfig(AppConfig):
    """Project wiring: shared base models, API plumbing and the project-wide commands."""

    name = "paas"
    verbose_name = "Platform"

    def ready(self) -> None:
        from . import metrics
        from .api import authentication

        metrics.register()
        # Saved users replace their cached row in every process: web, worker, beat, the admin.
        authentication.connect_signals()
