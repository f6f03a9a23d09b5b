"""Kubernetes resource quantities (``100m``, ``1.5``, ``512Mi``, ``2G``, ``1e3``) as exact Decimals.

Quota admission, scheduling and metrics all go through this module, so ``500m + 500m`` is
exactly ``1`` everywhere and no float rounding can let a pod in that a real cluster refuses.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$"
)

# The pattern the API server quotes in its error messages.
QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The exact value of a quantity: ``parse_quantity("100m") == Decimal("0.1")``.

    Raises ``QuantityError`` for anything a real API server would refuse.
    """
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.match(value.strip())
    if not match:
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets digits through
        raise QuantityError(str(exc)) from exc
    if match["exponent"]:
        return number.scaleb(int(match["exponent"][1:]))
    suffix = match["suffix"] or ""
    if suffix in _BINARY_SUFFIXES:
        return number * _BINARY_SUFFIXES[suffix]
    return number.scaleb(_DECIMAL_EXPONENTS[suffix])


def is_binary(value: str | int | float | Decimal) -> bool:
    """Whether a quantity was written with a binary suffix (``Ki``..``Ei``): sums keep that format."""
    return isinstance(value, str) and value.strip()[-2:] in _BINARY_SUFFIXES


def format_quantity(value: Decimal, *, binary: bool = False) -> str:
    """The canonical string of a value: ``1.5`` -> ``1500m``, ``2**30`` (binary) -> ``1Gi``.

    Binary formatting picks the largest binary suffix that divides the value exactly; decimal
    formatting the largest power of 1000 that leaves an integer, as the API server does.
    """
    if value == 0:
        return "0"
    if binary and value == value.to_integral_value():
        for suffix, factor in reversed(_BINARY_SUFFIXES.items()):
            if value % factor == 0:
                return f"{int(value // factor)}{suffix}"
        return str(int(value))
    for suffix, exponent in sorted(_DECIMAL_EXPONENTS.items(), key=lambda item: -item[1]):
        scaled = value.scaleb(-exponent)
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{suffix}"
    # Below a nanounit: round up, as the API server does, rather than lose the value.
    return f"{int(value.scaleb(9).to_integral_value(rounding='ROUND_CEILING'))}n"


def format_like(value: Decimal, template: str | int | float | Decimal) -> str:
    """Format ``value`` in the style (binary or decimal) of ``template``."""
    return format_quantity(value, binary=is_binary(template))


def nanocores(cores: Decimal) -> str:
    """CPU as metrics-server reports it: ``"123456789n"``."""
    return f"{int(cores.scaleb(9))}n"


def kibibytes(size: Decimal) -> str:
    """Memory as metrics-server reports it: ``"524288Ki"``."""
    return f"{int(size // 1024)}Ki"
