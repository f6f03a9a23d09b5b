import base64
import copy

import kubernetes_validate
import pytest
import yaml
from django.test import override_settings
from kubernetes_validate.utils import all_versions

from catalog.models import Plan
from catalog.services import catalog_seed
from templates.exceptions import MissingSecrets, PlanTooSmall, UnknownTemplate
from templates.naming import instance_base_name
from templates.output import manifests_to_yaml, redact_secrets
from templates.registry import get_blueprint, template_keys
from templates.resources import namespace_quota, plan_allocation, plan_requests
from templates.secrets import secrets_generate_missing

from .helpers import (
    INSTANCE_ID,
    NAMESPACE,
    USER_ID,
    by_kind,
    check_restricted,
    check_semantics,
    containers,
    env_of,
    one,
    plan,
    pod_specs,
    render,
)

# The oldest and newest schemas kubernetes-validate 1.37.0 bundles (1.25 .. 1.37), and the
# middle one clusters commonly run.
K8S_VERSIONS = ["1.25", "1.33", "1.37"]


def test_the_bundled_schema_versions_are_the_ones_we_validate_against():
    bundled = {v.rsplit(".", 1)[0] for v in all_versions()}
    assert set(K8S_VERSIONS) <= bundled


def _validate_strict(docs):
    for doc in docs:
        for version in K8S_VERSIONS:
            assert kubernetes_validate.validate(doc, version, strict=True) == version


@pytest.mark.django_db
def test_every_seeded_template_and_plan_renders_schema_valid_manifests():
    catalog_seed()
    plans = list(Plan.objects.select_related("service"))
    assert {(p.service.template, p.slug) for p in plans} == {
        (key, slug) for key in ("n8n", "ghost", "wordpress") for slug in ("starter", "pro")
    }
    for the_plan in plans:
        docs = render(the_plan.service.template, the_plan=the_plan)
        _validate_strict(docs)
        check_semantics(docs)
        check_restricted(docs)
        # What kubectl would read back from the YAML is exactly what was rendered.
        assert list(yaml.safe_load_all(manifests_to_yaml(docs))) == docs


@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
@pytest.mark.parametrize(("cpu", "memory", "storage"), [(250, 768, 2), (64_000, 262_144, 10_240)])
def test_smallest_and_largest_plans_render_valid_manifests(key, cpu, memory, storage):
    docs = render(key, the_plan=plan(key, cpu=cpu, memory=memory, storage=storage))
    _validate_strict(docs)
    check_semantics(docs)


def test_strict_validation_does_catch_a_stray_field():
    # Guards the test above: a schema check that accepts anything would prove nothing.
    deployment = copy.deepcopy(one(render("n8n"), "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.33", strict=True)
    deployment = copy.deepcopy(one(render("n8n"), "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "5678"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.33", strict=True)


def test_every_registered_template_is_covered():
    assert template_keys() == ["ghost", "n8n", "wordpress"]


# --- What gets rendered --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kinds"),
    [
        (
            "n8n",
            [
                "Namespace",
                "ResourceQuota",
                "LimitRange",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "Secret",
                "PersistentVolumeClaim",
                "Service",
                "Service",
                "Deployment",
                "Ingress",
            ],
        ),
        (
            "ghost",
            [
                "Namespace",
                "ResourceQuota",
                "LimitRange",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "NetworkPolicy",
                "Secret",
                "PersistentVolumeClaim",
                "Service",
                "Service",
                "Service",
                "StatefulSet",
                "Deployment",
                "Ingress",
            ],
        ),
    ],
)
def test_manifests_come_in_apply_order(key, kinds):
    assert [d["kind"] for d in render(key)] == kinds


def test_common_labels_on_every_instance_object():
    docs = render("ghost", name="Blog")
    base = instance_base_name(instance_name="Blog", instance_id=INSTANCE_ID, fallback="ghost")
    instance_docs = [d for d in docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/instance")]
    assert len(instance_docs) == len(docs) - 6  # all but the namespace-level objects
    for doc in instance_docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ghost"
        assert labels["app.kubernetes.io/instance"] == base
        assert labels["app.kubernetes.io/managed-by"] == "paas"
        assert labels["paas/instance-id"] == str(INSTANCE_ID)
        assert labels["paas/user-id"] == str(USER_ID)
        assert doc["metadata"]["name"].startswith(base)
        assert doc["metadata"]["namespace"] == NAMESPACE


def test_namespace_is_labelled_for_pod_security_restricted():
    namespace = one(render("wordpress"), "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["paas/user-id"] == str(USER_ID)


@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
def test_pods_meet_pod_security_restricted(key):
    check_restricted(render(key))


def test_wordpress_binds_port_80_as_www_data_with_the_safe_sysctl():
    [spec] = [s for s in pod_specs(render("wordpress")) if s["containers"][0]["name"] == "wordpress"]
    assert spec["securityContext"]["runAsUser"] == 33
    assert spec["securityContext"]["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]
    assert spec["containers"][0]["ports"][0]["containerPort"] == 80


def test_n8n_specifics():
    docs = render("n8n", config={"timezone": "Europe/Berlin"})
    [container] = containers(docs)
    env = env_of(container)
    assert container["image"] == "n8nio/n8n:2.42.4"
    assert env["N8N_PORT"] == {"name": "N8N_PORT", "value": "5678"}
    assert env["DB_TYPE"]["value"] == "sqlite"
    assert env["GENERIC_TIMEZONE"]["value"] == "Europe/Berlin"
    assert env["N8N_ENCRYPTION_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "n8n-encryption-key"
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/home/node/.n8n"}]
    assert pod_specs(docs)[0]["enableServiceLinks"] is False
    [secret] = by_kind(docs, "Secret")
    assert secret["immutable"] is True
    # No Service is named after the app (its env var would be N8N_PORT).
    assert all(s["metadata"]["name"] != "n8n" for s in by_kind(docs, "Service"))
    assert not by_kind(docs, "StatefulSet")


def test_ghost_uses_its_own_mysql_8():
    docs = render("ghost")
    sts = one(docs, "StatefulSet")
    [mysql] = sts["spec"]["template"]["spec"]["containers"]
    assert mysql["image"] == "mysql:8.4.10"
    assert "--datadir=/var/lib/mysql/data" in mysql["args"]
    ghost = next(c for c in containers(docs) if c["name"] == "ghost")
    env = env_of(ghost)
    assert env["database__client"]["value"] == "mysql"
    assert env["database__connection__host"]["value"] == sts["metadata"]["name"]
    assert env["database__connection__password"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{sts['metadata']['name']}",
        "key": "db-password",
    }
    assert env["url"]["value"] == "https://" + one(docs, "Ingress")["spec"]["rules"][0]["host"]
    # Ghost redirects plain http to its https url: probes present themselves as the ingress does.
    headers = ghost["readinessProbe"]["httpGet"]["httpHeaders"]
    assert {"name": "X-Forwarded-Proto", "value": "https"} in headers


def test_wordpress_gets_all_eight_salts_from_its_secret():
    docs = render("wordpress")
    env = env_of(next(c for c in containers(docs) if c["name"] == "wordpress"))
    salts = [n for n in env if n.endswith(("_KEY", "_SALT")) and n.startswith("WORDPRESS_")]
    assert len(salts) == 8
    assert all("valueFrom" in env[n] for n in salts)
    assert env["WORDPRESS_DB_HOST"]["value"].endswith("-db:3306")


@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
def test_no_secret_value_appears_in_plain_text(key):
    values = secrets_generate_missing(template_key=key)
    docs = render(key, secrets=values)
    text = manifests_to_yaml([d for d in docs if d["kind"] != "Secret"])
    for value in values.values():
        assert value not in text
    rendered = {}
    for secret in by_kind(docs, "Secret"):
        assert "stringData" not in secret
        rendered.update({k: base64.b64decode(v).decode() for k, v in secret["data"].items()})
    assert rendered == values
    # Every env var that names a secret reads it through secretKeyRef.
    secret_names = {s["metadata"]["name"] for s in by_kind(docs, "Secret")}
    for container in containers(docs):
        for env in container["env"]:
            if "valueFrom" in env:
                assert env["valueFrom"]["secretKeyRef"]["name"] in secret_names


def test_same_inputs_render_the_same_manifests():
    values = secrets_generate_missing(template_key="wordpress")
    assert render("wordpress", secrets=values) == render("wordpress", secrets=values)


def test_missing_secrets_are_refused_without_echoing_values():
    values = secrets_generate_missing(template_key="ghost")
    del values["db-password"]
    with pytest.raises(MissingSecrets) as excinfo:
        render("ghost", secrets=values)
    assert excinfo.value.keys == ["db-password"]
    assert values["db-root-password"] not in str(excinfo.value)


def test_redacted_output_hides_secret_values():
    values = secrets_generate_missing(template_key="n8n")
    text = manifests_to_yaml(redact_secrets(render("n8n", secrets=values)))
    assert values["n8n-encryption-key"] not in text
    assert base64.b64encode(values["n8n-encryption-key"].encode()).decode() not in text


# --- Ingress and settings ------------------------------------------------------------------------


@override_settings(
    PAAS_INGRESS_CLASS="traefik", PAAS_CLUSTER_ISSUER="letsencrypt-prod", PAAS_APPS_DOMAIN="apps.example.id"
)
def test_ingress_uses_the_settings():
    docs = render("n8n", name="Flows")
    ingress = one(docs, "Ingress")
    host = f"flows-{INSTANCE_ID.hex[:12]}.apps.example.id"
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["rules"][0]["host"] == host
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": f"flows-{INSTANCE_ID.hex[:12]}-tls"}]
    assert env_of(containers(docs)[0])["N8N_HOST"]["value"] == host


@override_settings(PAAS_INGRESS_CLASS="")
def test_no_ingress_class_leaves_it_to_the_cluster_default():
    assert "ingressClassName" not in one(render("n8n"), "Ingress")["spec"]


def test_base_domain_argument_wins_over_the_setting():
    ingress = one(render("n8n", base_domain="Example.COM."), "Ingress")
    assert ingress["spec"]["rules"][0]["host"].endswith(".example.com")


@pytest.mark.parametrize("domain", ["exa mple.com", "-bad.com", "a" * 64 + ".com"])
def test_invalid_base_domain_is_refused(domain):
    with pytest.raises(ValueError, match="base domain"):
        render("n8n", base_domain=domain)


@override_settings(PAAS_INGRESS_NAMESPACE="traefik-system")
def test_network_policies_deny_by_default_and_allow_only_the_ingress_and_own_database():
    docs = render("ghost")
    policies = {d["metadata"]["name"]: d["spec"] for d in by_kind(docs, "NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = next(p for n, p in policies.items() if n.endswith("-allow-ingress"))
    assert ingress["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik-system"}}}
    ]
    to_db = next(p for n, p in policies.items() if n.endswith("-allow-web-to-db"))
    base = one(docs, "Deployment")["metadata"]["labels"]["app.kubernetes.io/instance"]
    assert to_db["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == base
    assert to_db["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    egress = next(p for n, p in policies.items() if n.endswith("-allow-egress"))
    assert "169.254.0.0/16" in egress["egress"][0]["to"][0]["ipBlock"]["except"]


def test_n8n_gets_no_database_policy():
    names = [d["metadata"]["name"] for d in by_kind(render("n8n"), "NetworkPolicy")]
    assert not [n for n in names if n.endswith("-allow-web-to-db")]


# --- Resources and quota -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
def test_plan_resources_land_in_limits_and_requests(key):
    the_plan = plan(key, cpu=1000, memory=2048, storage=20)
    docs = render(key, the_plan=the_plan)
    cs = containers(docs)
    limits_cpu = sum(int(c["resources"]["limits"]["cpu"].rstrip("m")) for c in cs)
    limits_mem = sum(int(c["resources"]["limits"]["memory"].rstrip("Mi")) for c in cs)
    assert (limits_cpu, limits_mem) == (1000, 2048)
    for c in cs:
        req, lim = c["resources"]["requests"], c["resources"]["limits"]
        assert 0 < int(req["cpu"].rstrip("m")) <= int(lim["cpu"].rstrip("m"))
        assert 0 < int(req["memory"].rstrip("Mi")) <= int(lim["memory"].rstrip("Mi"))
    storage = [
        int(p["spec"]["resources"]["requests"]["storage"].rstrip("Mi")) for p in by_kind(docs, "PersistentVolumeClaim")
    ]
    storage += [
        int(t["spec"]["resources"]["requests"]["storage"].rstrip("Mi"))
        for s in by_kind(docs, "StatefulSet")
        for t in s["spec"]["volumeClaimTemplates"]
    ]
    assert sum(storage) == 20 * 1024


def test_quota_is_the_sum_of_the_namespace_plans():
    plans = [
        plan("n8n", cpu=500, memory=1024, storage=5),
        plan("ghost", cpu=1000, memory=2048, storage=20),
        plan("wordpress", cpu=500, memory=1024, storage=5),
    ]
    docs = render("ghost", the_plan=plans[1], namespace_plans=plans)
    hard = one(docs, "ResourceQuota")["spec"]["hard"]

    # Plus room for one cert-manager HTTP-01 solver pod (100m/64Mi limits, 10m/64Mi requests).
    assert hard["limits.cpu"] == f"{500 + 1000 + 500 + 100}m"
    assert hard["limits.memory"] == f"{1024 + 2048 + 1024 + 64}Mi"
    assert hard["requests.storage"] == f"{5 + 20 + 5}Gi"
    requests_cpu = sum(r.cpu_request for p in plans for r in filter(None, vars(plan_allocation(p)).values()))
    assert hard["requests.cpu"] == f"{requests_cpu + 10}m"
    assert hard["persistentvolumeclaims"] == "5"  # n8n 1, ghost 2, wordpress 2
    assert hard["pods"] == "6"
    assert hard["services"] == "9"  # 5 app and database Services, 3 pause-page Services, 1 solver
    assert hard["services.loadbalancers"] == "0"
    assert hard["services.nodeports"] == "0"


def test_quota_defaults_to_the_one_plan():
    hard = one(render("n8n", the_plan=plan("n8n", cpu=750, memory=1536, storage=3)), "ResourceQuota")["spec"]["hard"]
    assert hard == namespace_quota([plan("n8n", cpu=750, memory=1536, storage=3)])
    assert hard["limits.cpu"] == "850m"
    assert hard["requests.storage"] == "3Gi"


def test_quota_keeps_room_for_retained_volumes_but_not_their_pods():
    running, deleted = plan("n8n", cpu=500, memory=1024, storage=5), plan("ghost", cpu=1000, memory=2048, storage=20)
    alone = namespace_quota([running])
    hard = namespace_quota([running], retained=[deleted])
    assert hard["requests.storage"] == "25Gi"
    assert hard["persistentvolumeclaims"] == "3"
    for key in ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods", "services"):
        assert hard[key] == alone[key]


@pytest.mark.parametrize("key", ["n8n", "ghost", "wordpress"])
def test_plan_requests_are_what_the_rendered_containers_request(key):
    # Capacity admission counts node room with plan_requests: it must agree with the manifests.
    the_plan = plan(key, cpu=1500, memory=3000, storage=10)
    cs = containers(render(key, the_plan=the_plan))
    requested = plan_requests(the_plan)
    assert requested.cpu_millicores == sum(int(c["resources"]["requests"]["cpu"].rstrip("m")) for c in cs)
    assert requested.memory_mb == sum(int(c["resources"]["requests"]["memory"].rstrip("Mi")) for c in cs)


@pytest.mark.parametrize("key", ["n8n", "ghost"])
def test_a_stopped_instance_keeps_its_volumes_and_routes_its_host_to_the_pause_page(key, settings):
    settings.PAAS_PAUSE_SERVICE_HOST = "paas-web.paas-system.svc.cluster.local"
    running, stopped = render(key), render(key, running=False)
    _validate_strict(stopped)
    check_semantics(stopped)
    # The same objects, so stopping deletes nothing (volumes, Secrets and Services stay).
    assert [(d["kind"], d["metadata"]["name"]) for d in stopped] == [
        (d["kind"], d["metadata"]["name"]) for d in running
    ]
    assert {d["spec"]["replicas"] for d in stopped if d["kind"] in {"Deployment", "StatefulSet"}} == {0}
    assert {d["spec"]["replicas"] for d in running if d["kind"] in {"Deployment", "StatefulSet"}} == {1}
    paused = next(d for d in stopped if d["kind"] == "Service" and d["metadata"]["name"].endswith("-paused"))
    assert paused["spec"]["type"] == "ExternalName"
    assert paused["spec"]["externalName"] == "paas-web.paas-system.svc.cluster.local"

    def backend(docs):
        return one(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]

    assert backend(running).endswith("-web")
    assert backend(stopped) == paused["metadata"]["name"]


def test_a_plan_too_small_to_split_is_refused():
    with pytest.raises(PlanTooSmall):
        render("ghost", the_plan=plan("ghost", cpu=1, memory=1024, storage=5))


def test_unknown_template_is_refused():
    with pytest.raises(UnknownTemplate):
        render("joomla", the_plan=plan("joomla"), secrets={})


def test_plan_of_another_service_is_refused():
    with pytest.raises(ValueError, match="another service"):
        from templates.renderer import render_manifests

        render_manifests(
            service=plan("ghost").service,
            plan=plan("n8n"),
            instance_name="x",
            namespace=NAMESPACE,
            config={},
            instance_id=INSTANCE_ID,
            user_id=USER_ID,
            secrets=secrets_generate_missing(template_key="ghost"),
        )


@pytest.mark.parametrize("bad", [{"namespace": "Not_Valid"}, {"instance_id": "42"}, {"user_id": "'; drop"}])
def test_malformed_ids_and_namespace_are_refused(bad):
    with pytest.raises(ValueError):
        render("n8n", **bad)


def test_blueprint_minimums_fit_their_split():
    for key in template_keys():
        m = get_blueprint(key).minimums
        allocation = plan_allocation(plan(key, cpu=m.cpu_millicores, memory=m.memory_mb, storage=m.storage_gb))
        assert allocation.app.memory_limit >= 256
