import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_ENV = {
    "DJANGO_SUPERUSER_EMAIL": "ops@example.com",
    "DJANGO_SUPERUSER_PASSWORD": "Operator-Pass-2026!",
    "DJANGO_SUPERUSER_NAME": "Ops",
}


def test_createsuperuser_noinput_makes_an_administrator_who_can_use_api_and_admin(monkeypatch, api_client, client):
    for key, value in ADMIN_ENV.items():
        monkeypatch.setenv(key, value)
    call_command("createsuperuser", "--noinput", verbosity=0)

    admin = User.objects.get(email="ops@example.com")
    assert admin.role == User.Role.ADMINISTRATOR and admin.is_staff and admin.name == "Ops"
    login = api_client.post(
        "/api/v1/auth/login", {"email": "ops@example.com", "password": ADMIN_ENV["DJANGO_SUPERUSER_PASSWORD"]}
    )
    assert login.status_code == 200 and login.json()["user"]["role"] == "ADMINISTRATOR"
    assert client.login(username="ops@example.com", password=ADMIN_ENV["DJANGO_SUPERUSER_PASSWORD"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_seed_creates_the_administrator_once(monkeypatch):
    for key, value in ADMIN_ENV.items():
        monkeypatch.setenv(key, value)
    call_command("seed", verbosity=0)
    call_command("seed", verbosity=0)
    assert User.objects.filter(email="ops@example.com", role=User.Role.ADMINISTRATOR).count() == 1


def test_a_user_cannot_enter_the_django_admin(client, user):
    assert client.login(username=user.email, password=DEFAULT_PASSWORD)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
