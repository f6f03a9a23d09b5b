"""Where webhooks may be sent: public http(s) addresses only, checked before and while connecting.

A customer chooses the URL, so without these checks a webhook is a way to make our servers call
the cloud metadata service, the database or anything else on the private network (SSRF).
The URL is checked when the endpoint is saved (a clear 400 for the customer), and again at each
delivery, where the address the socket actually connected to is checked too: a hostname that
resolved to a public address at creation can be pointed at a private one later (DNS rebinding).
``settings.WEBHOOKS_ALLOW_PRIVATE`` lifts the address checks, for local development only.
"""

import ipaddress
import socket
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_REFUSED_ADDRESS = "Webhooks cannot be sent to private, loopback, link-local, multicast or reserved addresses."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The URL or the address it leads to is not one we deliver to. ``str()`` is user-facing."""


def _private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def address_is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address, including what IPv6 wrappers carry inside."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(inner is not None and not address_is_public(inner) for inner in embedded):
            return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _parse_ip(text: str) -> IPAddress | None:
    try:
        # Sockets report IPv6 link-local peers with a zone ("fe80::1%eth0").
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (a literal IP resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({ip for info in infos if (ip := _parse_ip(info[4][0])) is not None}, key=str)


def check_url(url: str, *, require_resolution: bool) -> None:
    """Raise ``DestinationRefused`` unless ``url`` is an http(s) URL whose every address is public.

    With ``require_resolution=False`` (saving an endpoint) a name that does not resolve yet is
    accepted: it may be created before its DNS record, and each delivery checks again.
    """
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise DestinationRefused("Webhook URLs must use http or https.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("Credentials in the URL are not allowed: verify the signature instead.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise DestinationRefused("The URL has an invalid port.") from exc
    host = parts.hostname
    if not host:
        raise DestinationRefused("The URL has no host.")
    if _private_allowed():
        return
    # RFC 6761: every name under localhost is loopback, whether or not this resolver knows it.
    if host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(".localhost"):
        raise DestinationRefused(_REFUSED_ADDRESS)
    literal = _parse_ip(unquote(host))  # a zoned IPv6 literal ([fe80::1%25eth0]) never resolves
    try:
        addresses = [literal] if literal is not None else resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        if require_resolution:
            raise DestinationRefused(f"The host {host} does not resolve.") from exc
        return
    if not addresses or not all(address_is_public(ip) for ip in addresses):
        raise DestinationRefused(_REFUSED_ADDRESS)


# --- The HTTP client used for deliveries ---------------------------------------------------------


def _check_peer(sock: socket.socket) -> None:
    if _private_allowed():
        return
    ip = _parse_ip(sock.getpeername()[0])
    if ip is None or not address_is_public(ip):
        sock.close()
        raise DestinationRefused("The host resolved to an address webhooks cannot be sent to.")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        # Checked before the TLS handshake: nothing is sent to a refused peer.
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


def guarded_session() -> requests.Session:
    """A requests session that checks every peer address and ignores proxy variables.

    Proxies are ignored because the peer would then be the proxy, and the check meaningless.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
