from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from billing import views as pages

from . import views

app_name = "billing-api"

router = SimpleRouter(trailing_slash=False)
router.register("billing/transactions", views.TransactionViewSet, basename="transactions")
router.register("billing/invoices", views.InvoiceViewSet, basename="invoices")
router.register("admin/billing/transactions", views.AdminTransactionViewSet, basename="admin-transactions")

urlpatterns = [
    path("billing/balance", views.BalanceView.as_view(), name="balance"),
    path("billing/topups", views.TopupView.as_view(), name="topups"),
    # Exact path, no trailing slash: Midtrans does not follow redirects.
    path("billing/midtrans/notification", views.MidtransNotificationView.as_view(), name="midtrans-notification"),
    # Only order ids Midtrans would accept reach the view (a NUL byte would reach PostgreSQL).
    re_path(
        r"^billing/simulator/checkout/(?P<order_id>[A-Za-z0-9_~.\-]{1,50})$",
        pages.simulator_checkout,
        name="simulator-checkout",
    ),
    path("admin/billing/adjustments", views.AdminAdjustmentView.as_view(), name="admin-adjustments"),
    path("admin/billing/summary", views.AdminSummaryView.as_view(), name="admin-summary"),
    *router.urls,
]
