from django.apps import AppConfig


class TemplatesConfig(AppConfig):
    """Service templates: one Kubernetes blueprint per app and the renderer that turns a
    (service, plan, instance, config) into manifests. Not HTML templates: those live in each
    owning app's ``templates/<app>/`` folder."""

    name = "templates"
    label = "service_templates"
    verbose_name = "Service templates"
