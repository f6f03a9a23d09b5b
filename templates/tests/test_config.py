import pytest
from django.core.exceptions import ValidationError

from templates.config import MAX_KEYS, config_defaults, config_validate
from templates.exceptions import UnknownTemplate


def test_defaults_fill_every_field_in_declaration_order():
    assert config_defaults(template_key="n8n") == {"timezone": "Asia/Jakarta", "execution_retention_hours": 336}
    assert list(config_validate(template_key="ghost", config=None)) == [
        "mail_from_name",
        "mail_from_address",
        "use_gravatar",
    ]


def test_given_values_are_kept_and_nulls_mean_default():
    assert config_validate(template_key="n8n", config={"timezone": "UTC", "execution_retention_hours": None}) == {
        "timezone": "UTC",
        "execution_retention_hours": 336,
    }


def test_the_input_is_not_mutated():
    config = {"timezone": "UTC"}
    config_validate(template_key="n8n", config=config)
    assert config == {"timezone": "UTC"}


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({"execution_retention_hours": True}, {"execution_retention_hours"}),
        ({"execution_retention_hours": 0}, {"execution_retention_hours"}),
        ({"execution_retention_hours": 10**9}, {"execution_retention_hours"}),
        ({"execution_retention_hours": 1.5}, {"execution_retention_hours"}),
        ({"timezone": "asia/jakarta"}, {"timezone"}),
        ({"timezone": 7}, {"timezone"}),
        ({"timezone": "Nowhere", "typo": 1}, {"timezone", "typo"}),
    ],
)
def test_errors_are_reported_per_field(config, errors):
    with pytest.raises(ValidationError) as excinfo:
        config_validate(template_key="n8n", config=config)
    assert set(excinfo.value.message_dict) == errors


def test_prefix_names_the_fields_of_a_nested_config():
    with pytest.raises(ValidationError) as excinfo:
        config_validate(template_key="n8n", config={"timezone": "Nowhere"}, field_prefix="config.")
    assert set(excinfo.value.message_dict) == {"config.timezone"}
    with pytest.raises(ValidationError) as excinfo:
        config_validate(template_key="n8n", config=["x"], field_prefix="config.")
    assert excinfo.value.message_dict == {"config": ["Must be a JSON object."]}


def test_too_many_keys_and_huge_keys_are_bounded():
    with pytest.raises(ValidationError) as excinfo:
        config_validate(template_key="n8n", config={f"k{i}": i for i in range(MAX_KEYS + 1)})
    assert list(excinfo.value.message_dict) == ["config"]
    with pytest.raises(ValidationError) as excinfo:
        config_validate(template_key="n8n", config={"k" * 10_000: 1})
    assert all(len(key) <= 64 for key in excinfo.value.message_dict)


def test_email_field_accepts_empty_and_valid_addresses():
    assert config_validate(template_key="ghost", config={"mail_from_address": ""})["mail_from_address"] == ""
    assert (
        config_validate(template_key="ghost", config={"mail_from_address": "a@b.co"})["mail_from_address"] == "a@b.co"
    )


def test_unknown_template():
    with pytest.raises(UnknownTemplate):
        config_validate(template_key="nope", config={})
