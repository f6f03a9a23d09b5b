from rest_framework.routers import SimpleRouter

from . import views

app_name = "pods-api"

router = SimpleRouter(trailing_slash=False)
router.register("admin/pods", views.AdminInstanceViewSet, basename="admin-pods")

urlpatterns = router.urls
