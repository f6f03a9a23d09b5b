from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users (email login, role USER or ADMINISTRATOR), JWT auth, profile, admin user API."""

    name = "accounts"
    verbose_name = "Accounts"
