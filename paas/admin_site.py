"""The operator console: Django's admin, with the numbers that matter on its front page."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from paas.dashboard import dashboard


class PaasAdminConfig(AdminConfig):
    """Django's admin, with the operator console's own site (its front-page dashboard)."""

    default_site = "paas.admin_site.PaasAdminSite"


class PaasAdminSite(admin.AdminSite):
    site_header = "PaaS operator console"
    site_title = "PaaS admin"
    index_title = "Today"
    index_template = "admin/paas_index.html"

    def index(self, request, extra_context=None):
        return super().index(request, {"dashboard": dashboard(), **(extra_context or {})})
