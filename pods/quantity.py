"""Kubernetes resource quantities (``100m``, ``1.5``, ``512Mi``, ``2G``, ``1e3``) as exact Decimals.

Quota admission, scheduling and metrics all go through this module, so ``500m + 500m`` is
exactly ``1`` everywhere and no float rounding can let a pod in that a real cluster refuses.

Parsing and formatting follow apimachinery's ``resource.Quantity``: a value keeps at most nine
decimal places (finer ones round up, away from zero); its canonical string keeps the *format* of
the text it came from (binary SI ``Ki``..``Ei``, decimal SI ``n``..``E``, or a decimal exponent
``e3``) and uses the largest suffix of that format that represents the value exactly, so
``1024Mi`` is ``1Gi``, ``1000m`` is ``1``, ``0.5`` is ``500m``, ``1.5Gi`` is ``1536Mi`` and
``1e3`` stays ``1e3``. A binary value below 1024, or with a fraction, is written in decimal SI.
"""

from __future__ import annotations

import re
from decimal import ROUND_UP, Context, Decimal

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIXES = {exponent: suffix for suffix, exponent in _DECIMAL_EXPONENTS.items()}
_NANO = Decimal("1e-9")
# Enough digits for any quantity (a context's default 28 would round the largest ones).
_EXACT = Context(prec=200)
# The largest binary value a quantity holds (apimachinery caps binary values at 2^63-1).
_MAX_BINARY = Decimal(2**63 - 1)

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$"
)

# The pattern the API server quotes in its error messages.
QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

# The three formats of a quantity's string, as apimachinery names them.
_BINARY_SI, _DECIMAL_SI, _DECIMAL_EXPONENT = "BinarySI", "DecimalSI", "DecimalExponent"


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def _round_to_nano(value: Decimal) -> Decimal:
    """At most nine decimal places, finer values rounded up (away from zero) as the API server does."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -9:
        return value
    return value.quantize(_NANO, rounding=ROUND_UP, context=_EXACT)


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The exact value of a quantity: ``parse_quantity("100m") == Decimal("0.1")``.

    Raises ``QuantityError`` for anything a real API server would refuse (including surrounding
    whitespace). Like the API server, keeps at most nine decimal places (``0.5n`` is ``1n``) and
    caps binary values at 2^63-1.
    """
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _round_to_nano(Decimal(repr(value)))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.match(value)
    if not match:
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    try:
        number = Decimal(match["number"])
        if match["exponent"]:
            return _round_to_nano(number.scaleb(int(match["exponent"][1:]), context=_EXACT))
        suffix = match["suffix"] or ""
        if suffix in _BINARY_SUFFIXES:
            amount = _round_to_nano(_EXACT.multiply(number, _BINARY_SUFFIXES[suffix]))
            return max(min(amount, _MAX_BINARY), -_MAX_BINARY)
        return _round_to_nano(number.scaleb(_DECIMAL_EXPONENTS[suffix], context=_EXACT))
    except ArithmeticError as exc:  # an exponent beyond what a Decimal holds
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'") from exc


def _format_of(template: str | int | float | Decimal) -> str:
    """The format a quantity written as ``template`` is serialised in (numbers are decimal SI)."""
    if not isinstance(template, str):
        return _DECIMAL_SI
    match = _QUANTITY.match(template.strip())
    if match is None:
        return _DECIMAL_SI
    if match["exponent"]:
        return _DECIMAL_EXPONENT
    return _BINARY_SI if match["suffix"] in _BINARY_SUFFIXES else _DECIMAL_SI


def is_binary(value: str | int | float | Decimal) -> bool:
    """Whether a quantity was written with a binary suffix (``Ki``..``Ei``): sums keep that format."""
    return isinstance(value, str) and value.strip()[-2:] in _BINARY_SUFFIXES


def _base10(value: Decimal) -> tuple[int, int]:
    """``value`` (non-zero, at most nine decimal places) as ``mantissa * 10**exponent`` with the
    exponent a multiple of 3 and as large as it can be without a fractional mantissa."""
    sign, digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, digits)))
    assert isinstance(exponent, int)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10**shift
    exponent -= shift
    return (-mantissa if sign else mantissa), exponent


def _format(value: Decimal, style: str) -> str:
    value = _round_to_nano(value)
    if value == 0:
        return "0"
    if style == _BINARY_SI and abs(value) >= 1024 and value == value.to_integral_value():
        amount, power = int(value), 0
        while power < 6 and amount % 1024 == 0:
            amount //= 1024
            power += 1
        return f"{amount}{['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][power]}"
    mantissa, exponent = _base10(value)
    if style == _DECIMAL_EXPONENT:
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent > 18:  # no decimal suffix above E
        mantissa, exponent = mantissa * 10 ** (exponent - 18), 18
    return f"{mantissa}{_DECIMAL_SUFFIXES[exponent]}"


def format_quantity(value: Decimal, *, binary: bool = False) -> str:
    """The canonical string of a value: ``1.5`` -> ``1500m``, ``2**30`` (binary) -> ``1Gi``.

    Binary formatting picks the largest binary suffix that divides the value exactly (values
    below 1024 or with a fraction are written in decimal SI, as the API server does); decimal
    formatting the largest power of 1000 that leaves an integer. Below a nanounit the value is
    rounded up, away from zero.
    """
    return _format(value, _BINARY_SI if binary else _DECIMAL_SI)


def format_like(value: Decimal, template: str | int | float | Decimal) -> str:
    """Format ``value`` in the format of ``template`` (binary SI, decimal SI or decimal exponent):
    ``format_like(parse_quantity(text), text)`` is the canonical form of ``text``."""
    return _format(value, _format_of(template))


def nanocores(cores: Decimal) -> str:
    """CPU as metrics-server reports it: ``"123456789n"``."""
    return f"{int(cores.scaleb(9))}n"


def kibibytes(size: Decimal) -> str:
    """Memory as metrics-server reports it: ``"524288Ki"``."""
    return f"{int(size // 1024)}Ki"
