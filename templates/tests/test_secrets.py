from templates.secrets import secret_keys, secrets_generate_missing


def test_generates_every_declared_key_with_strong_distinct_values():
    values = secrets_generate_missing(template_key="wordpress")
    assert set(values) == set(secret_keys(template_key="wordpress"))
    assert len(values) == 10  # two database passwords and eight salts
    assert len(set(values.values())) == 10
    assert all(len(v) >= 32 for v in values.values())


def test_existing_values_are_never_replaced():
    existing = {"n8n-encryption-key": "kept-as-is", "legacy-key": "also-kept"}
    values = secrets_generate_missing(template_key="n8n", existing=existing)
    assert values == existing
    assert existing == {"n8n-encryption-key": "kept-as-is", "legacy-key": "also-kept"}  # not mutated


def test_only_missing_values_are_generated():
    first = secrets_generate_missing(template_key="ghost")
    partial = {"db-root-password": first["db-root-password"]}
    second = secrets_generate_missing(template_key="ghost", existing=partial)
    assert second["db-root-password"] == first["db-root-password"]
    assert second["db-password"] != first["db-password"]


def test_each_call_generates_new_values():
    assert secrets_generate_missing(template_key="n8n") != secrets_generate_missing(template_key="n8n")
