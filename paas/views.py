"""Django-level error pages: JSON envelopes under /api/, Django's defaults elsewhere."""

from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from paas.api.exception_handler import error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Also the catch-all of unknown /api/ paths: a POST there must get this JSON 404, not the CSRF page.
@csrf_exempt
def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        body = error_body("server_error", "Something went wrong on our side; it has been logged.")
        body["error"]["details"] = {"request_id": getattr(request, "request_id", None)}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
