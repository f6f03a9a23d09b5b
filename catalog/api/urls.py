from rest_framework.routers import SimpleRouter

from . import views

app_name = "catalog-api"

router = SimpleRouter(trailing_slash=False)
router.register("services", views.ServiceViewSet, basename="services")
router.register("admin/services", views.AdminServiceViewSet, basename="admin-services")
router.register(r"admin/services/(?P<service_id>[^/.]+)/plans", views.AdminPlanViewSet, basename="admin-plans")

urlpatterns = [*router.urls]
