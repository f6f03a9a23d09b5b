"""The payment simulator's checkout page (``PAYMENT_GATEWAY=simulator`` only).

It stands in for Snap's hosted page: the customer picks an outcome, the simulator records it as
the "gateway" state, and the page posts the signed Midtrans-shaped notification to our real
webhook, so the same code path runs as in production.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from paas.exceptions import NotFound

from . import selectors, services
from .models import Transaction

_CHOICES = {"pay": "settlement", "pending": "pending", "fail": "deny", "expire": "expire"}


def simulator_checkout(request, order_id: str):
    if settings.PAYMENT_GATEWAY != "simulator":
        raise Http404
    try:
        topup = selectors.simulator_topup_get(order_id=order_id)
    except NotFound:
        raise Http404 from None
    context = {"topup": topup, "notification": None, "choice": None}
    if request.method == "POST" and topup.status == Transaction.Status.PENDING:
        choice = request.POST.get("action", "")
        if choice in _CHOICES:
            body = services.topup_simulate_payment(topup=topup, transaction_status=_CHOICES[choice])
            context["choice"] = _CHOICES[choice]
            context["notification"] = body
    context["webhook_url"] = reverse("billing-api:midtrans-notification")
    return render(request, "billing/simulator_checkout.html", context)
