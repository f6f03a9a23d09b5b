"""Customer input (instance names and config values) can never change the manifests' structure."""

import copy
import unicodedata
import uuid

import kubernetes_validate
import pytest
import yaml
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templates.naming import DNS_1035_LABEL_RE, instance_base_name, slugify_label
from templates.output import manifests_to_yaml

from .helpers import check_semantics, containers, env_of, one, render, shape

NASTY = [
    "quote \" and ' both",
    "line\nbreak\r\n and tab\t",
    "{{ .Values.secret }} {% raw %} ${HOME} $(rm -rf /)",
    "key: value",
    "- item",
    "&anchor *anchor",
    "!!python/object/apply:os.system ['id']",
    "--- \n... ",
    "# comment",
    "null",
    "true",
    "0x1F",
    "1e3",
    "",
    "   ",
    "\x00\x1b[31mred",
    "ünïcödé 日本語 🚀 \u202eevil",
    "x" * 300,
    "../../etc/passwd",
    "<script>alert(1)</script>",
]

BASELINE = {key: shape(render(key, name="plain")) for key in ("n8n", "ghost", "wordpress")}


@pytest.mark.parametrize("name", NASTY)
@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
def test_instance_names_cannot_change_structure(key, name):
    docs = render(key, name=name)

    assert shape(docs) == BASELINE[key]
    check_semantics(docs)
    # The YAML stream parses back to exactly the same objects: no alias, tag or extra document.
    assert list(yaml.safe_load_all(manifests_to_yaml(docs))) == docs
    for doc in docs:
        kubernetes_validate.validate(doc, "1.33", strict=True)
    # The name as typed survives only as an annotation value, control characters made spaces.
    deployment = one(docs, "Deployment")
    printable = "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in name)
    assert deployment["metadata"]["annotations"]["paas/display-name"] == printable[:200]


def test_names_become_dns_labels():
    iid = uuid.UUID("12345678-1234-4234-9234-123456789abc")
    assert instance_base_name(instance_name="My Blog!", instance_id=iid, fallback="ghost") == "my-blog-123456781234"
    assert (
        instance_base_name(instance_name="Ünïcödé Café", instance_id=iid, fallback="ghost")
        == "unicode-cafe-123456781234"
    )
    assert instance_base_name(instance_name="日本語", instance_id=iid, fallback="ghost") == "ghost-123456781234"
    assert (
        instance_base_name(instance_name="2024 site", instance_id=iid, fallback="ghost") == "i-2024-site-123456781234"
    )
    assert instance_base_name(instance_name="-" * 300, instance_id=iid, fallback="") == "app-123456781234"
    long = instance_base_name(instance_name="a" * 300, instance_id=iid, fallback="x")
    assert long == "a" * 24 + "-123456781234"


GHOST_STRINGS = [s for s in NASTY if "\n" not in s and "\r" not in s and "\t" not in s and "\x00" not in s]


@pytest.mark.parametrize("value", [s for s in GHOST_STRINGS if len(s) <= 100])
def test_free_text_config_cannot_change_structure(value):
    docs = render("ghost", config={"mail_from_name": value, "mail_from_address": "news@example.com"})

    assert shape(docs) == BASELINE["ghost"] or _only_mail_from_added(docs)
    env = env_of(next(c for c in containers(docs) if c["name"] == "ghost"))
    if value:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        assert env["mail__from"]["value"] == f'"{escaped}" <news@example.com>'
    assert list(yaml.safe_load_all(manifests_to_yaml(docs))) == docs
    for doc in docs:
        kubernetes_validate.validate(doc, "1.33", strict=True)


def _only_mail_from_added(docs) -> bool:
    # The plain baseline has no mail__from; with one, the only difference is that env entry.
    docs = copy.deepcopy(docs)
    container = next(c for c in containers(docs) if c["name"] == "ghost")
    container["env"] = [e for e in container["env"] if e["name"] != "mail__from"]
    return shape(docs) == BASELINE["ghost"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"mail_from_name": "x" * 300}, "mail_from_name"),
        ({"mail_from_name": "Evil\r\nBcc: victim@example.com"}, "mail_from_name"),
        ({"mail_from_name": "nul\x00"}, "mail_from_name"),
        ({"mail_from_address": "not an email"}, "mail_from_address"),
        ({"mail_from_address": "a@b.c\nX-Header: 1"}, "mail_from_address"),
        ({"use_gravatar": "true"}, "use_gravatar"),
        ({"{{ inject }}": 1}, "{{ inject }}"),
    ],
)
def test_invalid_config_is_refused_with_field_errors(config, field):
    with pytest.raises(ValidationError) as excinfo:
        render("ghost", config=config)
    assert field in excinfo.value.message_dict


@pytest.mark.parametrize(
    "prefix",
    ["wp_", "WP2024_", "a"],
)
def test_wordpress_table_prefix_accepts_only_its_alphabet(prefix):
    env = env_of(
        next(c for c in containers(render("wordpress", config={"table_prefix": prefix})) if c["name"] == "wordpress")
    )
    assert env["WORDPRESS_TABLE_PREFIX"]["value"] == prefix


@pytest.mark.parametrize("prefix", ["wp-", "wp_'; DROP TABLE", "", "x" * 21, "wp_\n"])
def test_wordpress_table_prefix_rejects_anything_else(prefix):
    with pytest.raises(ValidationError) as excinfo:
        render("wordpress", config={"table_prefix": prefix})
    assert "table_prefix" in excinfo.value.message_dict


def test_wordpress_config_extra_is_constant_code():
    # Customer values reach PHP only as env data read with getenv(), never inside eval()'d code.
    a = env_of(
        next(
            c for c in containers(render("wordpress", config={"disallow_file_edit": True})) if c["name"] == "wordpress"
        )
    )
    b = env_of(
        next(
            c for c in containers(render("wordpress", config={"disallow_file_edit": False})) if c["name"] == "wordpress"
        )
    )
    assert a["WORDPRESS_CONFIG_EXTRA"] == b["WORDPRESS_CONFIG_EXTRA"]
    assert (a["PAAS_DISALLOW_FILE_EDIT"]["value"], b["PAAS_DISALLOW_FILE_EDIT"]["value"]) == ("1", "0")


# --- Property-based ------------------------------------------------------------------------------

_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(name=st.text(max_size=400))
def test_any_instance_name_keeps_structure_and_valid_names(name):
    docs = render("wordpress", name=name)
    assert shape(docs) == BASELINE["wordpress"]
    check_semantics(docs)
    base = one(docs, "Deployment")["metadata"]["labels"]["app.kubernetes.io/instance"]
    assert DNS_1035_LABEL_RE.match(base) and len(base) <= 37
    assert list(yaml.safe_load_all(manifests_to_yaml(docs))) == docs


@_settings
@given(value=st.text(max_size=150))
def test_any_mail_from_name_is_either_refused_or_rendered_as_one_env_value(value):
    try:
        docs = render("ghost", config={"mail_from_name": value})
    except ValidationError as exc:
        assert set(exc.message_dict) == {"mail_from_name"}
        return
    assert _only_mail_from_added(docs) if value else shape(docs) == BASELINE["ghost"]
    assert list(yaml.safe_load_all(manifests_to_yaml(docs))) == docs


@_settings
@given(
    config=st.dictionaries(
        st.text(max_size=20), st.one_of(st.text(max_size=50), st.integers(), st.booleans(), st.none())
    )
)
def test_any_config_dict_is_either_refused_or_valid(config):
    try:
        docs = render("n8n", config=config)
    except ValidationError as exc:
        assert exc.message_dict
        return
    assert shape(docs) == BASELINE["n8n"]


@given(text=st.text())
def test_slugify_label_always_gives_a_dns_label_or_nothing(text):
    slug = slugify_label(text)
    assert slug == "" or (
        len(slug) <= 24
        and slug[0] != "-"
        and slug[-1] != "-"
        and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    )
