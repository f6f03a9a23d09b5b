from rest_framework.routers import SimpleRouter

app_name = "notifications-api"

router = SimpleRouter(trailing_slash=False)

urlpatterns = [*router.urls]
