"""Every pods test is checked, on every request the emulator saw: each is one the shipped
ClusterRole allows, and no write lands outside the namespace of the instance it concerns."""

import pytest

from pods.cluster.permissions import PERMISSIONS
from pods.models import ClusterOrphan, ServiceInstance
from templates.naming import namespace_for_user
from templates.renderer import LABEL_INSTANCE_ID, LABEL_USER_ID

# The namespace-wide objects every customer namespace has (see templates.renderer.render_namespace).
NAMESPACE_OBJECTS = {"paas-quota", "paas-limits", "default-deny", "allow-dns", "allow-acme-solver"}


def _label(body, key):
    return (((body or {}).get("metadata") or {}).get("labels") or {}).get(key) if isinstance(body, dict) else None


@pytest.fixture(autouse=True)
def _writes_stay_in_their_tenant(request):
    # Asked for here, the emulator outlives this fixture's check.
    emulator = request.getfixturevalue("cluster") if "cluster" in request.fixturenames else None
    yield
    if emulator is None:
        return
    instances = {str(i.pk): i for i in ServiceInstance.objects.all()}
    # Orphans carry our labels (that is how the sweep found them): removing them is ours to do.
    orphans = set(ClusterOrphan.objects.values_list("namespace", "name"))
    bases = {}
    for instance in instances.values():
        bases.setdefault(instance.namespace, set()).add(instance.host.split(".")[0])
    granted = {(p.group, p.resource, verb) for p in PERMISSIONS for verb in p.verbs}
    for record in emulator.requests.records():
        if record.field_manager == "test" or record.group == "authorization.k8s.io":
            continue
        resource = f"{record.resource}/{record.subresource}" if record.subresource else record.resource
        # Server-side apply of a missing object is authorised as a create too: "patch" covers both.
        assert (record.group, resource, record.verb) in granted, f"not in the ClusterRole: {record.verb} {resource}"
    for record in emulator.requests.writes():
        if record.field_manager == "test" or record.group == "authorization.k8s.io":
            continue  # the test's own out-of-band edits; access reviews store nothing
        # A namespace is written by name, everything else inside one.
        namespace = record.name if record.resource == "namespaces" else record.namespace
        assert namespace in bases, f"write outside any customer's namespace: {record.method} {record.path}"
        owner = _label(record.body, LABEL_USER_ID)
        if owner is not None:
            assert namespace == namespace_for_user(owner), f"{record.path} carries another tenant's label"
        instance_id = _label(record.body, LABEL_INSTANCE_ID)
        if instance_id is not None:
            assert instances[instance_id].namespace == namespace, f"{record.path}: instance of another namespace"
        if record.verb == "delete" and record.resource != "namespaces":
            ours = (
                record.name in NAMESPACE_OBJECTS
                or (namespace, record.name) in orphans
                or any(base in record.name for base in bases[namespace])
            )
            assert ours, f"deleted a stranger: {record.path}"
