"""The platform's answer for an app's own host name.

A stopped app's Ingress routes its host to the platform (an ExternalName Service to the
platform's web Service), so its URL answers "this app is paused" instead of a 502. The same page
is what a local run (`make run`) shows for an app host, since the emulator runs no real apps.
Only these pages answer on app hosts: no API or admin route is reachable through them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

from pods.models import ServiceInstance

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState


def apps_domain() -> str:
    return settings.PAAS_APPS_DOMAIN.strip(".").lower()


def app_host(request) -> str | None:
    """The request's host when it is an app's (``<name>.<apps domain>``), else None."""
    host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].strip().lower().rstrip(".")
    suffix = "." + apps_domain()
    return host if host.endswith(suffix) and len(host) > len(suffix) else None


def _page(title: str, message: str, status: int) -> HttpResponse:
    response = HttpResponse(render_to_string("pods/app_host.html", {"title": title, "message": message}), status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    if status == 503:
        response["Retry-After"] = "300"
    return response


def app_host_page(host: str) -> HttpResponse:
    instance = ServiceInstance.objects.live().filter(host=host).only("desired_state", "status").first()
    if instance is None or instance.desired_state == DesiredState.DELETED:
        return _page("No app here", "There is no app at this address.", 404)
    if instance.desired_state == DesiredState.STOPPED or instance.status == Status.STOPPED:
        return _page(
            "This app is paused",
            "Its owner has paused it, or its subscription needs attention. Its data is kept;"
            " it will be back here once it is started again.",
            503,
        )
    if settings.PAAS_CLUSTER_BACKEND == "simulated" and instance.status == Status.RUNNING:
        return _page(
            "This app runs in the simulated cluster",
            "The platform is running on its Kubernetes API emulator, which schedules pods but runs"
            " no real containers: there is no app behind this address.",
            200,
        )
    return _page("This app is starting", "It will answer here in a moment. Try again shortly.", 503)


class AppHostMiddleware:
    """Answer every request for an app host with its page; let everything else through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        host = app_host(request)
        if host is not None:
            return app_host_page(host)
        return self.get_response(request)
