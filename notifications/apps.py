from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling customers what happened: queued templated email and signed outgoing webhooks."""

    name = "notifications"
    verbose_name = "Notifications"
