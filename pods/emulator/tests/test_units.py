"""Unit tests of the pure parts: quantities, selectors, patches."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pods.emulator.patch import PatchError, json_patch, merge_patch
from pods.emulator.selectors import LabelSelector, SelectorError, parse_field_selector, parse_label_selector
from pods.quantity import QuantityError, format_quantity, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("1.5", Decimal("1.5")),
        ("512Mi", Decimal(512 * 2**20)),
        ("1Gi", Decimal(2**30)),
        ("2G", Decimal(2 * 10**9)),
        ("1e3", Decimal(1000)),
        ("250u", Decimal("0.00025")),
        ("3", Decimal(3)),
        (2, Decimal(2)),
        ("0.5Ki", Decimal(512)),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1 Gi", "1GiB", "--1", True, None])
def test_bad_quantities(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_quantity_sums_are_exact():
    assert sum(parse_quantity("100m") for _ in range(10)) == 1
    assert format_quantity(parse_quantity("100m") * 3) == "300m"
    assert format_quantity(Decimal(2)) == "2"
    assert format_quantity(Decimal("1.5")) == "1500m"
    assert format_quantity(Decimal(1536 * 2**20), binary=True) == "1536Mi"
    assert format_quantity(Decimal(2**31), binary=True) == "2Gi"


def test_label_selector_parsing():
    selector = parse_label_selector("a=b, c!=d,e in (f, g),!h,i")
    assert selector.matches({"a": "b", "e": "g", "i": ""})
    assert not selector.matches({"a": "b", "e": "g", "i": "", "h": "x"})
    assert not selector.matches({"a": "b", "c": "d", "e": "f", "i": "1"})
    assert str(parse_label_selector("x in (b,a)")) == "x in (a,b)"
    for bad in ("a in b", "a=(", "=b", "a b", "a in ()", "bad key!=x"):
        with pytest.raises(SelectorError):
            parse_label_selector(bad)


def test_label_selector_objects():
    selector = LabelSelector.from_object(
        {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}
    )
    assert selector.matches({"app": "web"}) and not selector.matches({"app": "web", "tier": "db"})
    assert LabelSelector.from_object({}).matches({"anything": "x"})
    assert not LabelSelector.from_object(None).matches({})


def test_field_selector_parsing():
    selector = parse_field_selector(r"metadata.name=a\,b,status.phase!=Running")
    assert selector.matches({"metadata": {"name": "a,b"}, "status": {"phase": "Pending"}})
    assert not selector.matches({"metadata": {"name": "a,b"}, "status": {"phase": "Running"}})
    with pytest.raises(SelectorError):
        parse_field_selector("nonsense")


def test_merge_and_json_patch_do_not_touch_their_input():
    original = {"a": {"b": 1, "c": [1, 2]}}
    assert merge_patch(original, {"a": {"b": None, "d": 2}}) == {"a": {"c": [1, 2], "d": 2}}
    patched = json_patch(
        original, [{"op": "add", "path": "/a/c/-", "value": 3}, {"op": "move", "from": "/a/b", "path": "/e"}]
    )
    assert patched == {"a": {"c": [1, 2, 3]}, "e": 1}
    assert original == {"a": {"b": 1, "c": [1, 2]}}
    with pytest.raises(PatchError):
        json_patch(original, [{"op": "remove", "path": "/nope"}])
