from rest_framework.routers import SimpleRouter

from . import views

app_name = "subscriptions-api"

router = SimpleRouter(trailing_slash=False)
router.register("subscriptions", views.SubscriptionViewSet, basename="subscriptions")

urlpatterns = router.urls
