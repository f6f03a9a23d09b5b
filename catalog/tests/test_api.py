import json
import uuid
from decimal import Decimal

import pytest

from catalog.models import Plan, Service

from .factories import PlanFactory, ServiceFactory

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services"
ADMIN_SERVICES = "/api/v1/admin/services"


def _plans_url(service) -> str:
    return f"{ADMIN_SERVICES}/{service.id}/plans"


# --- Public catalog ----------------------------------------------------------------------------


def test_public_list_shows_active_services_with_active_plans_only(api_client):
    live = ServiceFactory(slug="ghost", name="Ghost", template="ghost")
    starter = PlanFactory(service=live, slug="starter", price_monthly=Decimal("60000.00"))
    PlanFactory(service=live, slug="legacy", is_active=False)
    hidden = ServiceFactory(slug="retired", is_active=False)
    PlanFactory(service=hidden)

    response = api_client.get(SERVICES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [service] = body["results"]
    assert service == {
        "id": str(live.id),
        "slug": "ghost",
        "name": "Ghost",
        "description": live.description,
        "category": live.category,
        "template": "ghost",
        "version": live.version,
        "plans": [
            {
                "id": str(starter.id),
                "slug": "starter",
                "name": starter.name,
                "price_monthly": "60000.00",
                "cpu_millicores": 500,
                "memory_mb": 1024,
                "storage_gb": 5,
            }
        ],
    }


def test_public_list_ignores_a_stale_token(api_client):
    ServiceFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.get(SERVICES)
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("size", [1, 6])
def test_public_list_query_count_is_constant(api_client, django_assert_num_queries, size):
    for _ in range(size):
        service = ServiceFactory()
        PlanFactory.create_batch(3, service=service)
    # services with their count, active plans: whatever the size.
    with django_assert_num_queries(2):
        response = api_client.get(SERVICES)
    assert response.status_code == 200
    assert len(response.json()["results"]) == size
    assert all(len(s["plans"]) == 3 for s in response.json()["results"])


@pytest.mark.parametrize("key", ["id", "slug"])
def test_public_detail_by_id_or_slug(api_client, key):
    service = ServiceFactory(slug="n8n", template="n8n")
    PlanFactory(service=service, slug="pro")

    response = api_client.get(f"{SERVICES}/{getattr(service, key)}")

    assert response.status_code == 200
    assert response.json()["id"] == str(service.id)
    assert [p["slug"] for p in response.json()["plans"]] == ["pro"]


@pytest.mark.parametrize(
    "ref", ["retired", "unknown", str(uuid.uuid4()), "x" * 300, "gh%C3%B6st", "%00", "n8n%00", "N8N", "n8n--x"]
)
def test_public_detail_of_inactive_or_unknown_is_404(api_client, ref):
    ServiceFactory(slug="retired", is_active=False)
    ServiceFactory(slug="n8n", template="n8n")
    for url in (f"{SERVICES}/{ref}", f"{SERVICES}/{ref}/validate-config"):
        response = api_client.post(url, {}, format="json") if url.endswith("config") else api_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_public_detail_of_inactive_by_id_is_404(api_client):
    retired = ServiceFactory(is_active=False)
    response = api_client.get(f"{SERVICES}/{retired.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert retired.name not in response.content.decode()


# --- Config validation endpoint ----------------------------------------------------------------


def test_validate_config_returns_normalized_config_with_defaults(api_client):
    ServiceFactory(slug="n8n", template="n8n")

    response = api_client.post(f"{SERVICES}/n8n/validate-config", {"config": {"timezone": "Europe/Berlin"}})

    assert response.status_code == 200
    assert response.json() == {"config": {"timezone": "Europe/Berlin", "execution_retention_hours": 336}}


def test_validate_config_without_config_gives_defaults(api_client):
    ServiceFactory(slug="wp", template="wordpress")
    response = api_client.post(f"{SERVICES}/wp/validate-config", {})
    assert response.status_code == 200
    assert response.json()["config"] == {"table_prefix": "wp_", "debug": False, "disallow_file_edit": True}


def test_validate_config_reports_field_errors(api_client):
    ServiceFactory(slug="n8n", template="n8n")

    response = api_client.post(
        f"{SERVICES}/n8n/validate-config",
        {"config": {"timezone": "Mars/Olympus", "execution_retention_hours": "ten", "colour": "red"}},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"config.timezone", "config.execution_retention_hours", "config.colour"}
    assert all(isinstance(m, list) and m for m in error["details"].values())


@pytest.mark.parametrize("config", [[1, 2], "text", 42])
def test_validate_config_rejects_a_non_object(api_client, config):
    ServiceFactory(slug="ghost", template="ghost")
    response = api_client.post(f"{SERVICES}/ghost/validate-config", {"config": config}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"config": ["Must be a JSON object."]}


def test_validate_config_of_inactive_service_is_404(api_client):
    ServiceFactory(slug="ghost", template="ghost", is_active=False)
    response = api_client.post(f"{SERVICES}/ghost/validate-config", {"config": {}}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_validate_config_with_malformed_json_is_400(api_client):
    ServiceFactory(slug="ghost", template="ghost")
    response = api_client.post(
        f"{SERVICES}/ghost/validate-config", data='{"config": {', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


# --- Admin: permissions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "/{id}"), ("patch", "/{id}"), ("delete", "/{id}"), ("get", "/{id}/plans")],
)
def test_admin_endpoints_refuse_a_user(user_client, api_client, method, suffix):
    service = ServiceFactory()
    url = ADMIN_SERVICES + suffix.format(id=service.id)

    response = getattr(user_client, method)(url, {"name": "Hacked"} if method in {"post", "patch"} else None)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert getattr(api_client, method)(url).status_code == 401
    service.refresh_from_db()
    assert service.name != "Hacked"
    assert Service.objects.count() == 1


def test_admin_plan_endpoints_refuse_a_user(user_client):
    plan = PlanFactory()
    url = f"{_plans_url(plan.service)}/{plan.id}"
    assert user_client.delete(url).status_code == 403
    assert user_client.patch(url, {"price_monthly": "1.00"}).status_code == 403
    assert Plan.objects.filter(pk=plan.pk, price_monthly=plan.price_monthly).exists()


# --- Admin: services ---------------------------------------------------------------------------


def test_admin_list_includes_inactive_services_and_plans(admin_client):
    active = ServiceFactory(name="A")
    inactive = ServiceFactory(name="B", is_active=False)
    PlanFactory(service=inactive, is_active=False)

    response = admin_client.get(ADMIN_SERVICES)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [s["id"] for s in results] == [str(active.id), str(inactive.id)]
    assert results[1]["is_active"] is False
    assert results[1]["plans"][0]["is_active"] is False


def test_admin_list_filters(admin_client):
    ServiceFactory(slug="ghost", name="Ghost", template="ghost")
    ServiceFactory(slug="wp", name="WordPress", template="wordpress", is_active=False)

    assert [s["slug"] for s in admin_client.get(ADMIN_SERVICES, {"is_active": "false"}).json()["results"]] == ["wp"]
    assert [s["slug"] for s in admin_client.get(ADMIN_SERVICES, {"template": "ghost"}).json()["results"]] == ["ghost"]
    assert [s["slug"] for s in admin_client.get(ADMIN_SERVICES, {"search": "word"}).json()["results"]] == ["wp"]


@pytest.mark.parametrize("size", [1, 5])
def test_admin_list_query_count_is_constant(admin_client, django_assert_num_queries, size):
    for _ in range(size):
        PlanFactory.create_batch(2, service=ServiceFactory())
    # user (token; then cached), services with their count, plans.
    with django_assert_num_queries(3):
        response = admin_client.get(ADMIN_SERVICES)
    assert response.status_code == 200
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [1, 8])
def test_admin_plan_list_query_count_is_constant(admin_client, django_assert_num_queries, size):
    service = ServiceFactory(template="n8n")
    PlanFactory.create_batch(size, service=service)
    PlanFactory(service=ServiceFactory(template="n8n"))  # another service's plan
    # user (token; then cached), service, plans with their count.
    with django_assert_num_queries(3):
        response = admin_client.get(_plans_url(service))
    assert response.status_code == 200
    assert response.json()["count"] == size
    assert {p["service"] for p in response.json()["results"]} == {str(service.id)}


def test_admin_creates_a_service(admin_client):
    response = admin_client.post(
        ADMIN_SERVICES,
        {"slug": "ghost", "name": "Ghost", "template": "ghost", "version": "6.45.0", "category": "publishing"},
    )

    assert response.status_code == 201
    body = response.json()
    service = Service.objects.get(slug="ghost")
    assert body["id"] == str(service.id)
    assert body["plans"] == []
    assert (service.name, service.template, service.is_active) == ("Ghost", "ghost", True)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"slug": "x", "name": "X", "template": "joomla"}, "template"),
        ({"slug": "Not A Slug", "name": "X", "template": "ghost"}, "slug"),
        ({"slug": "x", "template": "ghost"}, "name"),
        ({"slug": "x" * 51, "name": "X", "template": "ghost"}, "slug"),
        ({"slug": "taken", "name": "X", "template": "ghost"}, "slug"),
    ],
)
def test_admin_create_service_rejects_bad_input(admin_client, payload, field):
    ServiceFactory(slug="taken")

    response = admin_client.post(ADMIN_SERVICES, payload)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert Service.objects.count() == 1


def test_admin_retrieves_and_updates_a_service(admin_client):
    service = ServiceFactory(name="Old")
    url = f"{ADMIN_SERVICES}/{service.id}"

    assert admin_client.get(url).json()["name"] == "Old"
    response = admin_client.patch(url, {"name": "New", "is_active": False})

    assert response.status_code == 200
    assert response.json()["name"] == "New"
    service.refresh_from_db()
    assert (service.name, service.is_active) == ("New", False)


def test_admin_update_rejects_unknown_template_and_changes_nothing(admin_client):
    service = ServiceFactory(template="ghost", name="Same")
    response = admin_client.patch(f"{ADMIN_SERVICES}/{service.id}", {"template": "nope", "name": "Changed"})
    assert response.status_code == 400
    assert "template" in response.json()["error"]["details"]
    service.refresh_from_db()
    assert (service.template, service.name) == ("ghost", "Same")


@pytest.mark.parametrize("ref", [str(uuid.uuid4()), "not-a-uuid"])
def test_admin_unknown_service_is_404(admin_client, ref):
    ServiceFactory()
    for call in (
        lambda: admin_client.get(f"{ADMIN_SERVICES}/{ref}"),
        lambda: admin_client.patch(f"{ADMIN_SERVICES}/{ref}", {"name": "X"}, format="json"),
        lambda: admin_client.delete(f"{ADMIN_SERVICES}/{ref}"),
        lambda: admin_client.get(f"{ADMIN_SERVICES}/{ref}/plans"),
        lambda: admin_client.post(f"{ADMIN_SERVICES}/{ref}/plans", {"slug": "x"}, format="json"),
    ):
        response = call()
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert Service.objects.count() == 1 and not Service.objects.filter(name="X").exists()
    assert not Plan.objects.exists()


def test_admin_deletes_a_service_without_plans(admin_client):
    service = ServiceFactory()
    response = admin_client.delete(f"{ADMIN_SERVICES}/{service.id}")
    assert response.status_code == 204
    assert not Service.objects.filter(pk=service.pk).exists()


def test_admin_delete_of_a_service_in_use_is_409(admin_client):
    plan = PlanFactory()

    response = admin_client.delete(f"{ADMIN_SERVICES}/{plan.service.id}")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"protected_by": ["plans"]}
    assert Service.objects.filter(pk=plan.service.pk).exists()
    assert Plan.objects.filter(pk=plan.pk).exists()


# --- Admin: plans ------------------------------------------------------------------------------


def test_admin_plan_crud(admin_client):
    service = ServiceFactory(template="n8n")
    url = _plans_url(service)

    created = admin_client.post(
        url,
        {
            "slug": "starter",
            "name": "Starter",
            "price_monthly": "75000",
            "cpu_millicores": 500,
            "memory_mb": 1024,
            "storage_gb": 5,
        },
    )
    assert created.status_code == 201
    plan = Plan.objects.get(service=service, slug="starter")
    assert created.json()["price_monthly"] == "75000.00"
    assert created.json()["service"] == str(service.id)

    listed = admin_client.get(url)
    assert [p["id"] for p in listed.json()["results"]] == [str(plan.id)]
    assert admin_client.get(f"{url}/{plan.id}").json()["slug"] == "starter"

    patched = admin_client.patch(f"{url}/{plan.id}", {"price_monthly": "80000.50", "is_active": False})
    assert patched.status_code == 200
    plan.refresh_from_db()
    assert (plan.price_monthly, plan.is_active) == (Decimal("80000.50"), False)

    assert admin_client.delete(f"{url}/{plan.id}").status_code == 204
    assert not Plan.objects.filter(pk=plan.pk).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_monthly": "0"}, "price_monthly"),
        ({"price_monthly": "-5"}, "price_monthly"),
        ({"price_monthly": "1.234"}, "price_monthly"),
        ({"price_monthly": 12.5}, None),  # a JSON number is accepted and stored exactly
        ({"cpu_millicores": 0}, "cpu_millicores"),
        ({"memory_mb": -1}, "memory_mb"),
        ({"storage_gb": "lots"}, "storage_gb"),
        ({"memory_mb": 128}, "memory_mb"),  # below what WordPress and its MySQL need
        ({"slug": "taken"}, "slug"),
        ({"slug": "Bad Slug"}, "slug"),
    ],
)
def test_admin_create_plan_rejects_bad_input(admin_client, change, field):
    service = ServiceFactory(template="wordpress")
    PlanFactory(service=service, slug="taken")
    payload = {
        "slug": "new",
        "name": "New",
        "price_monthly": "50000.00",
        "cpu_millicores": 500,
        "memory_mb": 1024,
        "storage_gb": 5,
        **change,
    }

    response = admin_client.post(_plans_url(service), payload, format="json")

    if field is None:
        assert response.status_code == 201
        assert Plan.objects.get(slug="new").price_monthly == Decimal("12.50")
        return
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert Plan.objects.filter(service=service).count() == 1


def test_same_plan_slug_is_allowed_on_another_service(admin_client):
    PlanFactory(slug="starter")
    other = ServiceFactory(template="n8n")
    response = admin_client.post(
        _plans_url(other),
        {
            "slug": "starter",
            "name": "S",
            "price_monthly": "1.00",
            "cpu_millicores": 500,
            "memory_mb": 512,
            "storage_gb": 1,
        },
    )
    assert response.status_code == 201
    assert Plan.objects.filter(slug="starter").count() == 2


def test_plan_of_another_service_is_404(admin_client):
    plan = PlanFactory()
    other = ServiceFactory()
    url = f"{_plans_url(other)}/{plan.id}"
    assert admin_client.get(url).status_code == 404
    assert admin_client.patch(url, {"name": "X"}).status_code == 404
    assert admin_client.delete(url).status_code == 404
    assert Plan.objects.filter(pk=plan.pk, name=plan.name).exists()


def test_admin_patch_plan_slug_to_a_taken_one_is_400(admin_client):
    service = ServiceFactory()
    PlanFactory(service=service, slug="a")
    plan = PlanFactory(service=service, slug="b")
    response = admin_client.patch(f"{_plans_url(service)}/{plan.id}", {"slug": "a"})
    assert response.status_code == 400
    assert "slug" in response.json()["error"]["details"]
    plan.refresh_from_db()
    assert plan.slug == "b"


# --- Junk input: always a 4xx in the envelope, and nothing changes ------------------------------

JUNK_BODIES = [
    [],
    [{"name": "X"}],
    None,
    "name",
    42,
    {"name": None},
    {"name": {"nested": ["X"]}},
    {"name": "X", "bogus": 1},  # a typo must not pass as a silent no-op
    {"slug": "ok", "name": "X", "template": "ghost", "id": str(uuid.uuid4())},
    {"slug": "sl\u00fcg", "name": "X", "template": "ghost"},
    {"slug": "ok", "name": "X\x00", "template": "ghost"},
    {"slug": "ok", "name": "X", "template": ["ghost"]},
    {"price_monthly": 10**30},
    {"price_monthly": "NaN"},
    {"price_monthly": "1e400"},
    {"cpu_millicores": 10**30},
    {"memory_mb": 1.5},
    {"storage_gb": True},
    {"is_active": "maybe"},
]


def _catalog_state() -> list:
    return [
        *Service.objects.order_by("pk").values_list("pk", "updated_at"),
        *Plan.objects.order_by("pk").values_list("pk", "updated_at"),
    ]


@pytest.mark.parametrize("body", JUNK_BODIES)
@pytest.mark.parametrize("target", ["service-create", "service-patch", "plan-create", "plan-patch"])
def test_admin_writes_refuse_junk_and_change_nothing(admin_client, target, body):
    plan = PlanFactory(service=ServiceFactory(template="ghost"))
    url, method = {
        "service-create": (ADMIN_SERVICES, "post"),
        "service-patch": (f"{ADMIN_SERVICES}/{plan.service.id}", "patch"),
        "plan-create": (_plans_url(plan.service), "post"),
        "plan-patch": (f"{_plans_url(plan.service)}/{plan.id}", "patch"),
    }[target]
    before = _catalog_state()

    response = getattr(admin_client, method)(url, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "validation_error"
    assert _catalog_state() == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ("\ufffe", "application/json", 400),
        ("1e999999", "application/json", 400),
        ("name=X", "application/x-www-form-urlencoded", 415),
        ("<name>X</name>", "application/xml", 415),
    ],
)
def test_admin_writes_refuse_unparsable_bodies(admin_client, raw, content_type, status):
    service = ServiceFactory(template="ghost")
    before = _catalog_state()

    for url, method in ((ADMIN_SERVICES, "post"), (f"{ADMIN_SERVICES}/{service.id}", "patch")):
        response = getattr(admin_client, method)(url, data=raw, content_type=content_type)
        assert response.status_code == status
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert _catalog_state() == before


def test_admin_patch_with_an_unknown_field_names_it_and_changes_nothing(admin_client):
    service = ServiceFactory(name="Same", is_active=True)

    response = admin_client.patch(
        f"{ADMIN_SERVICES}/{service.id}", {"name": "Changed", "is_actve": False}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"is_actve": ["Unknown field."]}
    service.refresh_from_db()
    assert (service.name, service.is_active) == ("Same", True)


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        {"timezone": "UTC"},  # forgot the "config" wrapper: must not answer with the defaults
        {"config": {}, "extra": 1},
    ],
)
def test_validate_config_refuses_junk(api_client, body):
    ServiceFactory(slug="n8n", template="n8n")

    response = api_client.post(
        f"{SERVICES}/n8n/validate-config", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "config" not in response.json()


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=abc", 400, "validation_error"),
        ("page=999999999999999999999", 404, "not_found"),
        ("template=%00", 400, "validation_error"),
        ("search=%00", 400, "validation_error"),
        ("category=%00", 400, "validation_error"),
    ],
)
def test_admin_list_refuses_junk_queries_in_the_envelope(admin_client, query, status, code):
    ServiceFactory()
    response = admin_client.get(f"{ADMIN_SERVICES}?{query}")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
