"""A bug under /api/ answers the JSON envelope with the request id, never a trace or a secret.

This module is its own URLconf: the project's routes plus one view that crashes.
"""

import pytest
from django.test import Client
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from paas.urls import urlpatterns as project_urlpatterns

SECRET = "postgres://paas:s3cr3t-in-the-exception@db/paas"


class CrashView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(SECRET)


handler404 = "paas.views.not_found"
handler500 = "paas.views.server_error"
urlpatterns = [path("api/v1/crash", CrashView.as_view()), path("crash", CrashView.as_view()), *project_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_an_unhandled_error_under_the_api_is_a_500_envelope_naming_the_request_id():
    response = Client(raise_request_exception=False).get("/api/v1/crash", HTTP_X_REQUEST_ID="trace-500-0001")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side; it has been logged.",
            "details": {"request_id": "trace-500-0001"},
        }
    }
    assert response["X-Request-ID"] == "trace-500-0001"
    assert b"s3cr3t" not in response.content and b"Traceback" not in response.content


def test_an_unhandled_error_outside_the_api_keeps_django_s_page_without_the_secret():
    response = Client(raise_request_exception=False).get("/crash")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"s3cr3t" not in response.content
