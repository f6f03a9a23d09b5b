from rest_framework.routers import SimpleRouter

app_name = "billing-api"

router = SimpleRouter(trailing_slash=False)

urlpatterns = [*router.urls]
