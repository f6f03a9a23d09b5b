"""The Django admin as operators use it: through the test client, forms and actions."""

import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, admin_user):
    client.login(username=admin_user.email, password=DEFAULT_PASSWORD)
    return client


def test_operator_adds_a_user_with_the_password_policy(operator_client):
    weak = operator_client.post(
        "/admin/accounts/user/add/", {"email": "new@example.com", "name": "New", "role": "USER", "password": "123"}
    )
    assert weak.status_code == 200  # the form is shown again with the error
    assert not User.objects.filter(email="new@example.com").exists()
    ok = operator_client.post(
        "/admin/accounts/user/add/",
        {"email": "new@example.com", "name": "New", "role": "USER", "password": "Fine-Password-1234"},
    )
    assert ok.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("Fine-Password-1234")


def test_operator_cannot_demote_themself_in_the_admin(operator_client, admin_user):
    response = operator_client.post(
        f"/admin/accounts/user/{admin_user.pk}/change/", {"name": admin_user.name, "role": "USER", "is_active": "on"}
    )
    assert response.status_code == 200
    assert b"You cannot deactivate or demote your own account." in response.content
    admin_user.refresh_from_db()
    assert admin_user.role == User.Role.ADMINISTRATOR


def test_deactivate_action_deactivates_others_but_not_the_operator(operator_client, admin_user):
    target = UserFactory()
    response = operator_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [str(target.pk), str(admin_user.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    target.refresh_from_db()
    admin_user.refresh_from_db()
    assert target.is_active is False
    assert admin_user.is_active is True


def test_users_cannot_be_deleted_from_the_admin(operator_client, user):
    assert operator_client.get(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


def test_user_list_searches_and_filters(operator_client):
    UserFactory(email="findme@example.com")
    response = operator_client.get("/admin/accounts/user/", {"q": "findme", "role__exact": "USER"})
    assert response.status_code == 200
    assert b"findme@example.com" in response.content
