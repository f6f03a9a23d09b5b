import uuid

import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from accounts.tests.test_api import STRONG, assert_envelope

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/users"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("post", "", {"email": "n@example.com", "password": STRONG, "name": "N"}),
        ("get", "/{id}", None),
        ("patch", "/{id}", {"role": "ADMINISTRATOR"}),
        ("delete", "/{id}", None),
    ],
)
def test_a_user_gets_403_on_every_admin_route(user_client, user, other_user, method, path, body):
    response = getattr(user_client, method)(URL + path.format(id=other_user.id), body)
    assert_envelope(response, 403, "permission_denied")
    other_user.refresh_from_db()
    assert other_user.role == User.Role.USER and other_user.is_active
    assert not User.objects.filter(email="n@example.com").exists()


def test_anonymous_gets_401_on_admin_routes(api_client):
    assert_envelope(api_client.get(URL), 401, "not_authenticated")


def test_admin_lists_users_paginated(admin_client, admin_user):
    UserFactory.create_batch(3)
    body = admin_client.get(URL, {"page_size": 2}).json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    assert {"id", "email", "name", "role", "is_active", "created_at"} <= set(body["results"][0])


def test_admin_list_filters_by_search_role_and_is_active(admin_client, admin_user):
    # Search terms no Faker name of the other users can contain.
    UserFactory(email="alice@example.com", name="Alice Qzxv")
    UserFactory(email="bob@example.com", name="Bob", is_active=False)

    def emails(params):
        return {u["email"] for u in admin_client.get(URL, params).json()["results"]}

    assert emails({"search": "ALICE@"}) == {"alice@example.com"}
    assert emails({"search": "qzx"}) == {"alice@example.com"}
    assert emails({"role": "ADMINISTRATOR"}) == {admin_user.email}
    assert emails({"is_active": "false"}) == {"bob@example.com"}


def test_admin_list_refuses_an_unknown_role_filter(admin_client):
    error = assert_envelope(admin_client.get(URL, {"role": "ROOT"}), 400, "validation_error")
    assert "role" in error["details"]


def test_admin_list_runs_a_constant_number_of_queries(admin_client, django_assert_max_num_queries):
    UserFactory.create_batch(2)
    with django_assert_max_num_queries(4) as few:
        assert admin_client.get(URL).status_code == 200
    UserFactory.create_batch(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(URL).status_code == 200


def test_admin_creates_a_user_with_a_role(admin_client):
    body = {"email": "Op@Example.com", "password": STRONG, "name": "Op", "role": "ADMINISTRATOR"}
    response = admin_client.post(URL, body)
    assert response.status_code == 201
    created = User.objects.get(email="op@example.com")
    assert created.role == User.Role.ADMINISTRATOR and created.is_staff
    assert response.json()["id"] == str(created.id)


def test_admin_create_applies_the_password_policy(admin_client):
    response = admin_client.post(URL, {"email": "w@example.com", "password": "123", "name": "W"})
    assert "password" in assert_envelope(response, 400, "validation_error")["details"]
    assert not User.objects.filter(email="w@example.com").exists()


def test_admin_gets_and_updates_a_user(admin_client, user):
    assert admin_client.get(f"{URL}/{user.id}").json()["email"] == user.email
    response = admin_client.patch(f"{URL}/{user.id}", {"role": "ADMINISTRATOR", "name": "Promoted"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == User.Role.ADMINISTRATOR and user.name == "Promoted" and user.is_staff


@pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid.uuid4())])
def test_an_unknown_user_id_is_404(admin_client, bad):
    assert_envelope(admin_client.get(f"{URL}/{bad}"), 404, "not_found")
    assert_envelope(admin_client.patch(f"{URL}/{bad}", {"name": "x"}), 404, "not_found")
    assert_envelope(admin_client.delete(f"{URL}/{bad}"), 404, "not_found")


def test_admin_update_refuses_an_unknown_role(admin_client, user):
    assert_envelope(admin_client.patch(f"{URL}/{user.id}", {"role": "ROOT"}), 400, "validation_error")
    user.refresh_from_db()
    assert user.role == User.Role.USER


def test_delete_deactivates_instead_of_deleting(admin_client, api_client, user):
    assert admin_client.delete(f"{URL}/{user.id}").status_code == 204
    user.refresh_from_db()
    assert user.is_active is False
    login = api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "USER"}])
def test_an_admin_cannot_lock_themself_out(admin_client, admin_user, change):
    assert_envelope(admin_client.patch(f"{URL}/{admin_user.id}", change), 409, "conflict")
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == User.Role.ADMINISTRATOR


def test_an_admin_cannot_delete_themself(admin_client, admin_user):
    assert_envelope(admin_client.delete(f"{URL}/{admin_user.id}"), 409, "conflict")
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_an_admin_can_deactivate_another_admin(admin_client):
    other = AdminFactory()
    assert admin_client.patch(f"{URL}/{other.id}", {"is_active": False}).status_code == 200
    other.refresh_from_db()
    assert other.is_active is False


def test_put_is_not_allowed(admin_client, user):
    assert_envelope(admin_client.put(f"{URL}/{user.id}", {"name": "x"}), 405, "method_not_allowed")


def test_admin_user_objects_carry_the_balance_everywhere(admin_client, user):
    # No wallet yet: the balance reads 0.00 rather than null.
    assert admin_client.get(f"{URL}/{user.id}").json()["balance"] == "0.00"
    assert admin_client.patch(f"{URL}/{user.id}", {"name": "N"}).json()["balance"] == "0.00"
    created = admin_client.post(URL, {"email": "b@example.com", "password": STRONG, "name": "B"})
    assert created.json()["balance"] == "0.00"
    assert {u["balance"] for u in admin_client.get(URL).json()["results"]} == {"0.00"}
