"""List query parameters: what the schema says about each is what the server enforces, and a value
it cannot honour is a 400 naming the parameter (never an unfiltered list, never a 500)."""

from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.tests.factories import UserFactory
from billing import services as billing
from billing.tests.factories import completed_topup

pytestmark = pytest.mark.django_db

USERS = "/api/v1/admin/users"
TRANSACTIONS = "/api/v1/billing/transactions"


def assert_refused(response, parameter: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert parameter in error["details"], error


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def parameter(schema, path: str, method: str, name: str) -> dict:
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


@pytest.mark.parametrize("value", ["maybe", "1", "yes", "True", "null", ""])
def test_a_boolean_filter_takes_only_true_or_false(admin_client, value):
    assert_refused(admin_client.get(USERS, {"is_active": value}), "is_active")
    assert_refused(admin_client.get("/api/v1/admin/workers", {"cordoned": value}), "cordoned")


def test_a_boolean_filter_filters(admin_client, admin_user):
    UserFactory(is_active=False)
    inactive = admin_client.get(USERS, {"is_active": "false"}).json()
    active = admin_client.get(USERS, {"is_active": "true"}).json()
    assert [u["is_active"] for u in inactive["results"]] == [False]
    assert [u["email"] for u in active["results"]] == [admin_user.email]


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-01-31",  # a date is not an instant
        "2026-01-31T00:00:00",  # nor is a time without its timezone
        "10000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
        "2026-13-01T00:00:00Z",
        "",
    ],
)
def test_a_datetime_filter_refuses_what_is_not_an_instant_in_range(user_client, value):
    assert_refused(user_client.get(TRANSACTIONS, {"created_after": value}), "created_after")


def test_a_datetime_filter_takes_any_timezone(user_client, user):
    completed_topup(user=user)
    created = user.transactions.get().created_at
    just_before = created.astimezone().isoformat()  # the same instant, written in another offset
    assert user_client.get(TRANSACTIONS, {"created_after": just_before}).json()["count"] == 1
    assert user_client.get(TRANSACTIONS, {"created_before": just_before}).json()["count"] == 0


@pytest.mark.parametrize("value", ["password", "-user__password", "amount,nope", "", "created_at,"])
def test_an_unknown_ordering_is_refused(user_client, value):
    assert_refused(user_client.get(TRANSACTIONS, {"ordering": value}), "ordering")


@pytest.mark.parametrize("query", ["status=", "type=", "status=COMPLETED&status="])
def test_an_empty_choice_is_refused(user_client, query):
    assert_refused(user_client.get(f"{TRANSACTIONS}?{query}"), query.split("&")[-1].rstrip("="))


def test_empty_free_text_is_no_filter(admin_client, admin_user):
    assert admin_client.get(USERS, {"search": ""}).json()["count"] == 1


def test_ordering_by_several_fields(user_client, user):
    completed_topup(user=user, amount="50000.00")
    billing.wallet_charge(user=user, amount=Decimal("1000.00"), description="a")
    billing.wallet_charge(user=user, amount=Decimal("9000.00"), description="b")
    amounts = [t["amount"] for t in user_client.get(TRANSACTIONS, {"ordering": "-amount,created_at"}).json()["results"]]
    assert amounts == ["50000.00", "-1000.00", "-9000.00"]


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "last", "", "\u0661"])  # an Arabic-Indic one
def test_a_page_that_is_not_a_number_from_1_is_refused(user_client, value):
    assert_refused(user_client.get(TRANSACTIONS, {"page": value}), "page")


@pytest.mark.parametrize("value", ["2", "99999999999999999", "9" * 5000])
def test_a_page_past_the_last_is_404(user_client, user, value):
    completed_topup(user=user)
    response = user_client.get(TRANSACTIONS, {"page": value})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", ["0", "101", "x", "9" * 5000])
def test_a_page_size_out_of_range_is_refused(user_client, value):
    assert_refused(user_client.get(TRANSACTIONS, {"page_size": value}), "page_size")


def test_the_schema_states_the_rules(schema):
    def param(name):
        return parameter(schema, "/api/v1/billing/transactions", "get", name)["schema"]

    assert param("page") == {"type": "integer", "minimum": 1, "default": 1}
    assert param("page_size") == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert param("ordering")["items"]["enum"] == ["created_at", "-created_at", "amount", "-amount"]
    assert param("created_after") == {"type": "string", "format": "date-time"}
    assert parameter(schema, "/api/v1/admin/users", "get", "is_active")["schema"] == {"type": "boolean"}
    # An action that reads no ordering does not offer one.
    events = schema["paths"]["/api/v1/subscriptions/{id}/events"]["get"]["parameters"]
    assert "ordering" not in {p["name"] for p in events}
