"""Service ClusterIPs (10.96.0.0/12) and NodePorts (30000-32767), allocated as a real server does.

The allocators hold no state of their own worth persisting: ``rebuild`` recomputes what is
taken from the stored Services, after a restart or a reset.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# 10.96.0.1 is the ``kubernetes`` Service and 10.96.0.10 cluster DNS on a kubeadm cluster.
_RESERVED = {SERVICE_CIDR.network_address + 1, SERVICE_CIDR.network_address + 10}
NODE_PORT_RANGE = range(30000, 32768)


class AllocationError(ValueError):
    """The requested address or port is taken or outside its range."""


class ClusterIPs:
    def __init__(self) -> None:
        self._taken: set[ipaddress.IPv4Address] = set()
        self._next = int(SERVICE_CIDR.network_address) + 11

    def rebuild(self, services: Iterable[dict[str, Any]]) -> None:
        self._taken.clear()
        for svc in services:
            ip = (svc.get("spec") or {}).get("clusterIP")
            if ip and ip != "None":
                self._taken.add(ipaddress.ip_address(ip))  # type: ignore[arg-type]

    def allocate(self, wanted: str | None = None) -> str:
        if wanted:
            try:
                ip = ipaddress.ip_address(wanted)
            except ValueError as exc:
                raise AllocationError(f"failed to allocate IP {wanted}: not a valid IP address") from exc
            if ip not in SERVICE_CIDR:
                raise AllocationError(
                    f"failed to allocate IP {wanted}: the provided IP ({wanted}) is not in the valid range"
                )
            if ip in self._taken or ip in _RESERVED:
                raise AllocationError(f"failed to allocate IP {wanted}: provided IP is already allocated")
            self._taken.add(ip)  # type: ignore[arg-type]
            return wanted
        size = SERVICE_CIDR.num_addresses
        base = int(SERVICE_CIDR.network_address)
        for step in range(size - 2):
            candidate = ipaddress.IPv4Address(base + 1 + (self._next - base - 1 + step) % (size - 2))
            if candidate not in self._taken and candidate not in _RESERVED:
                self._taken.add(candidate)
                self._next = int(candidate) + 1
                return str(candidate)
        raise AllocationError("failed to allocate a serviceIP: range is full")

    def release(self, ip: str | None) -> None:
        if ip and ip != "None":
            self._taken.discard(ipaddress.ip_address(ip))  # type: ignore[arg-type]


class NodePorts:
    def __init__(self) -> None:
        self._taken: set[int] = set()

    def rebuild(self, services: Iterable[dict[str, Any]]) -> None:
        self._taken = {
            p["nodePort"] for svc in services for p in (svc.get("spec") or {}).get("ports") or [] if p.get("nodePort")
        }

    def allocate(self, wanted: int | None = None) -> int:
        if wanted:
            if wanted not in NODE_PORT_RANGE:
                raise AllocationError(
                    "provided port is not in the valid range. The range of valid ports is 30000-32767"
                )
            if wanted in self._taken:
                raise AllocationError("provided port is already allocated")
            self._taken.add(wanted)
            return wanted
        for port in NODE_PORT_RANGE:
            if port not in self._taken:
                self._taken.add(port)
                return port
        raise AllocationError("range is full")

    def release(self, ports: Iterable[int]) -> None:
        for port in ports:
            self._taken.discard(port)
