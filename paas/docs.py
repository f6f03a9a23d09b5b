"""The API's documentation pages, served from this deployment's own static files."""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

# The pages may only load what this server serves: the docs work offline, and a reader's browser
# is never sent to a third party (ReDoc's sidebar links an image on its vendor's CDN).
_SAME_ORIGIN_ONLY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    )
)


class _SameOriginOnly:
    schema = None  # pages, not API operations

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = _SAME_ORIGIN_ONLY
        return response


class SwaggerView(_SameOriginOnly, SpectacularSwaggerView):
    pass


class RedocView(_SameOriginOnly, SpectacularRedocView):
    template_name = "paas/redoc.html"
