"""``pods.quantity`` against apimachinery's ``resource.Quantity``, and the omitempty table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pods.emulator.canonical import (
    NOT_OMITTED_COLLECTIONS,
    OMITTED_WHEN_ZERO,
    Canonicalizer,
    canonical_quantity,
)
from pods.emulator.schema import schemas_for
from pods.quantity import QuantityError, format_like, format_quantity, is_binary, parse_quantity


def canonical(text: str) -> str:
    return format_like(parse_quantity(text), text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The platform's own values.
        ("1024Mi", "1Gi"),
        ("2048Mi", "2Gi"),
        ("1536Mi", "1536Mi"),
        ("5120Mi", "5Gi"),
        ("20480Mi", "20Gi"),
        ("1000m", "1"),
        ("0.5", "500m"),
        ("0.1", "100m"),
        ("250m", "250m"),
        ("64Mi", "64Mi"),
        ("10", "10"),
        # The format of the input is kept: decimal stays decimal, exponents stay exponents.
        ("1G", "1G"),
        ("1000M", "1G"),
        ("1000", "1k"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("12e6", "12e6"),
        ("1.3E+6", "1300e3"),
        ("1E-3", "1e-3"),
        ("0.5e-1", "50e-3"),
        (".001e12", "1e9"),
        ("1000e-12", "1e-9"),
        ("12E", "12E"),
        ("1.01E", "1010P"),
        # From apimachinery's TestQuantityString / TestQuantityParseEmit.
        ("1.5Gi", "1536Mi"),
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("1024Gi", "1Ti"),
        ("5000m", "5"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1025", "1025"),
        ("00", "0"),
        ("0Gi", "0"),
        ("-0", "0"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        ("-1024Mi", "-1Gi"),
        # A binary value below 1024, or with a fraction, is written in decimal SI.
        ("0.5Ki", "512"),
        ("0.5Mi", "512Ki"),
        ("100.035Ki", "102435840m"),
        # Rounded up to a nanounit, away from zero.
        ("3.001n", "4n"),
        ("0.00000012345", "124n"),
        (".000000000001Ki", "2n"),
        ("-0.5n", "-1n"),
        # Binary values are capped at 2^63-1.
        ("9Ei", "9223372036854775807"),
        # Odd but valid spellings.
        ("1.", "1"),
        ("1.G", "1G"),
        ("+2Gi", "2Gi"),
    ],
)
def test_canonical_form(text, expected):
    assert canonical(text) == expected
    # Canonical strings are fixed points.
    assert canonical(expected) == expected


@pytest.mark.parametrize(("number", "expected"), [(2, "2"), (1024, "1024"), (2000, "2k"), (0.5, "500m"), (0, "0")])
def test_numbers_are_decimal_si(number, expected):
    assert canonical_quantity(number) == expected


def test_canonical_quantity_leaves_what_is_not_a_quantity():
    for value in ("lots", " 1Gi", True, None, ["1Gi"]):
        assert canonical_quantity(value) == value
    text = "1Gi"
    assert canonical_quantity(text) is text


@pytest.mark.parametrize("text", [" 1", "1 ", "1.1.M", "1+1.0M", "0.1mi", ".5i", "1i", "-3.01e-", "1e999999999"])
def test_what_the_api_server_refuses(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_parsing_rounds_like_the_api_server():
    assert parse_quantity("0.5n") == Decimal("1e-9")
    assert parse_quantity("1.1E-9") == Decimal("2e-9")
    assert parse_quantity("-3.001n") == Decimal("-4e-9")
    assert parse_quantity("9Ei") == 2**63 - 1
    assert parse_quantity("123456789012345678901234567890") == Decimal("123456789012345678901234567890")


def test_format_quantity():
    assert format_quantity(Decimal(1000), binary=True) == "1k"
    assert format_quantity(Decimal(512), binary=True) == "512"
    assert format_quantity(Decimal(3 * 2**30), binary=True) == "3Gi"
    assert format_quantity(Decimal("1.5") * 2**10, binary=True) == "1536"
    assert format_quantity(Decimal("0.0000000001")) == "1n"
    assert format_quantity(Decimal("-0.0000000001")) == "-1n"
    assert format_quantity(Decimal(10) ** 21) == "1000E"
    assert format_like(Decimal(1500), "1e3") == "1500"
    assert format_like(Decimal(3000), "2e3") == "3e3"
    assert format_like(Decimal(2**31), "1Gi") == "2Gi"
    assert is_binary("1Gi") and not is_binary("1G") and not is_binary(1024)


def test_the_omitempty_table_matches_the_schemas():
    schemas = schemas_for("1.33")
    packages = {
        "core.v1": "io.k8s.api.core.v1",
        "apps.v1": "io.k8s.api.apps.v1",
        "networking.v1": "io.k8s.api.networking.v1",
        "meta.v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
    }

    def properties(short: str) -> dict:
        package, _, kind = short.rpartition(".")
        definition = schemas.definition(f"{packages[package]}.{kind}")
        assert definition is not None, short
        return definition["properties"]

    for short, fields in OMITTED_WHEN_ZERO.items():
        props = properties(short)
        for field in fields.split():
            node = schemas.resolve(props[field]) or {}
            kinds = node.get("type") or []
            assert {"string", "integer", "boolean", "number"} & set(kinds), (short, field)
    for short, field in NOT_OMITTED_COLLECTIONS:
        node = schemas.resolve(properties(short)[field]) or {}
        assert "items" in node, (short, field)


def test_canonicalizer_copies_on_write():
    canon = Canonicalizer(schemas_for("1.33"))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": {}}, "data": {"k": ""}}
    fixed = canon.object(secret)
    assert fixed == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": ""}}
    assert secret["metadata"] == {"name": "s", "labels": {}}  # the input is untouched
    assert canon.object(fixed) is fixed  # nothing to do: the same object
    status = {"phase": "Bound", "capacity": {"storage": "2048Mi"}, "conditions": []}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}}
    assert canon.field(pvc, "status", status) == {"phase": "Bound", "capacity": {"storage": "2Gi"}}
