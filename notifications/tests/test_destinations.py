"""SSRF: webhooks never reach loopback, private, link-local or other non-public addresses."""

import ipaddress

import pytest

from notifications import services
from notifications.destinations import DestinationRefused, address_is_public, check_url, guarded_session
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.tasks import webhook_deliver_task

from .factories import WebhookDeliveryFactory, WebhookEndpointFactory

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1:8080/hook",  # shorthand for 127.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1/hook",  # octal
    "http://0x7f.1/hook",  # hexadecimal
    "http://017700000001/hook",  # one octal number
    "http://[::ffff:7f00:1]/hook",  # IPv4-mapped, in hex
    "http://[0:0:0:0:0:ffff:127.0.0.1]/hook",
    "http://[::]/hook",
    "http://0/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://localhost:8000/hook",
    "http://localhost./hook",
    "http://api.localhost/hook",
    "http://[fe80::1%25eth0]/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "gopher://example.com/",
    "https://user:pass@example.com/hook",
    "http://good@127.0.0.1/hook",
    "http://good.example.com@127.0.0.1/hook",
    "http://127.0.0.1\\@good.example.com/hook",
    "http://127.0.0.1#@good.example.com/hook",
    "https:///nohost",
]


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("169.254.169.254", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, nothing binds it
        ("255.255.255.255", False),
        ("224.0.0.251", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
    ],
)
def test_address_policy(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_the_destination_check_itself_refuses(url):
    # Not only the API's URL syntax check: the service and every delivery rely on this one.
    for require_resolution in (False, True):
        with pytest.raises(DestinationRefused):
            check_url(url, require_resolution=require_resolution)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_at_creation_through_the_api(url, user, user_client):
    response = user_client.post("/api/v1/webhooks", {"url": url, "events": ["payment.succeeded"]}, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "validation_error"
    assert "url" in response.json()["error"]["details"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hook", "https://hooks.example.com/paas", "http://8.8.8.8:8080/x"]
)
def test_public_or_not_yet_resolvable_urls_are_accepted(url, user, user_client):
    response = user_client.post("/api/v1/webhooks", {"url": url, "events": ["payment.succeeded"]}, format="json")

    assert response.status_code == 201, response.json()
    assert WebhookEndpoint.objects.get(user=user).url == url


def test_changing_the_url_to_a_private_address_is_refused(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)

    response = user_client.patch(f"/api/v1/webhooks/{endpoint.pk}", {"url": "http://10.0.0.1/x"}, format="json")

    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url.startswith("https://hooks")


def test_allow_private_lifts_the_address_checks_but_not_the_scheme(allow_private):
    check_url("http://127.0.0.1:9/x", require_resolution=True)
    with pytest.raises(DestinationRefused):
        check_url("ftp://127.0.0.1/x", require_resolution=True)


def test_a_host_that_does_not_resolve_is_refused_at_delivery():
    with pytest.raises(DestinationRefused, match="does not resolve"):
        check_url("https://nothing-here.invalid/hook", require_resolution=True)


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_refused_at_delivery_when_the_address_is_no_longer_allowed(host, user, receiver, settings):
    # Saved while private addresses were allowed (or while the name pointed elsewhere).
    url = receiver.url.replace("127.0.0.1", host)
    endpoint = WebhookEndpointFactory(user=user, url=url)
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at="2000-01-01T00:00:00Z"
    )
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    webhook_deliver_task.delay(str(delivery.pk))

    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Refused: Webhooks cannot be sent to private")
    assert delivery.response_status is None
    assert delivery.status == WebhookDelivery.Status.PENDING  # retried later: DNS may be fixed


def test_the_connection_itself_is_checked_against_dns_rebinding(receiver, settings):
    # Even when the URL check is passed (a name that resolved elsewhere a moment ago), the
    # address the socket connected to is checked before a byte is sent.
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with guarded_session() as session, pytest.raises(DestinationRefused):
        session.post(receiver.url, data=b"{}", timeout=2)
    assert receiver.requests == []

    settings.WEBHOOKS_ALLOW_PRIVATE = True
    with guarded_session() as session:
        assert session.post(receiver.url, data=b"{}", timeout=2).status_code == 200
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_service_refuses_private_urls_whoever_calls_it(user):
    with pytest.raises(services.ValidationError) as caught:
        services.webhook_endpoint_create(user=user, url="http://169.254.169.254/", events=["balance.low"])

    assert "url" in caught.value.message_dict
    assert not WebhookEndpoint.objects.exists()
