from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """What the platform sells: services (apps) and their plans with prices and resources."""

    name = "catalog"
    verbose_name = "Catalog"
