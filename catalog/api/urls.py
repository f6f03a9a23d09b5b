from rest_framework.routers import SimpleRouter

app_name = "catalog-api"

router = SimpleRouter(trailing_slash=False)

urlpatterns = [*router.urls]
