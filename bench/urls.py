"""The product's URLs plus the bare views the benchmarks compare them with (under ``/bench/``)."""

from django.urls import include, path

from bench import bare

handler404 = "paas.views.not_found"
handler500 = "paas.views.server_error"

# After the product's routes, so a bare view is not resolved any sooner than the endpoint it matches.
urlpatterns = [
    path("", include("paas.urls")),
    path("bench/transactions", bare.transactions),
    path("bench/subscriptions", bare.subscriptions),
    path("bench/services", bare.services),
    path("bench/balance", bare.balance),
    path("bench/pods", bare.pods),
    path("bench/heartbeat", bare.heartbeat),
]
