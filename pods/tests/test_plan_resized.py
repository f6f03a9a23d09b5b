"""An operator resizes a plan: once the change commits, the instances holding capacity on it are
reconciled to the new size (``catalog.hooks.plan_resized``); a lost reaction is caught by the sweep."""

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from catalog.services import plan_update
from pods import services
from pods.models import ServiceInstance

from .factories import make_instance, seeded_plan

pytestmark = pytest.mark.django_db

Status = ServiceInstance.Status


def _running(cluster, owner, **kwargs) -> ServiceInstance:
    instance = make_instance(owner, **kwargs)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING, instance.status_message
    return instance


def _cpu_limit(cluster, instance) -> str:
    [deployment] = [
        d
        for d in cluster.objects("deployments", instance.namespace)
        if d["metadata"]["labels"].get("paas/instance-id") == str(instance.pk)
    ]
    return deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]


def _generations() -> dict:
    return dict(ServiceInstance.objects.values_list("pk", "generation"))


def test_a_resized_plan_reaches_its_instances_after_the_commit(cluster, django_capture_on_commit_callbacks):
    # given: on n8n starter, a running app, a stopped one and a deleted one; a running app on pro
    plan = seeded_plan("n8n", "starter")
    running = _running(cluster, UserFactory())
    stopped = _running(cluster, UserFactory())
    services.instance_stop(instance=stopped)
    deleted = make_instance(UserFactory())
    services.instance_delete(instance=deleted)
    elsewhere = _running(cluster, UserFactory(), plan="pro")
    before, old_cpu, elsewhere_cpu = _generations(), _cpu_limit(cluster, running), _cpu_limit(cluster, elsewhere)
    # when: an operator doubles the plan's CPU
    with django_capture_on_commit_callbacks(execute=True):
        plan_update(plan=plan, data={"cpu_millicores": plan.cpu_millicores * 2})
        # then: nothing reacts while the change is not committed
        assert _generations() == before
    # and once it is: the running and the stopped app get a new generation, reconciled at once
    after = _generations()
    assert after[running.pk] == before[running.pk] + 1 and after[stopped.pk] == before[stopped.pk] + 1
    assert after[deleted.pk] == before[deleted.pk] and after[elsewhere.pk] == before[elsewhere.pk]
    assert _cpu_limit(cluster, running) != old_cpu
    assert _cpu_limit(cluster, elsewhere) == elsewhere_cpu


def test_a_resize_that_rolls_back_reconciles_nothing(cluster, django_capture_on_commit_callbacks):
    plan = seeded_plan("n8n", "starter")
    instance = make_instance(UserFactory())
    before = _generations()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        plan_update(plan=plan, data={"memory_mb": plan.memory_mb * 2})
        raise RuntimeError("the operator's request failed after the update")
    assert _generations() == before
    assert ServiceInstance.objects.get(pk=instance.pk).generation == before[instance.pk]


def test_a_price_change_alone_reconciles_nothing(cluster, django_capture_on_commit_callbacks):
    plan = seeded_plan("n8n", "starter")
    make_instance(UserFactory())
    before = _generations()
    with django_capture_on_commit_callbacks(execute=True):
        plan_update(plan=plan, data={"price_monthly": plan.price_monthly + 1})
    assert _generations() == before


def test_a_lost_resize_reaction_is_caught_up_by_the_sweep(cluster, django_capture_on_commit_callbacks):
    # given: a running app whose plan was resized without the reaction running (a written row, as a
    # crash between the commit and the listener would leave it)
    plan = seeded_plan("n8n", "starter")
    instance = _running(cluster, UserFactory())
    type(plan).objects.filter(pk=plan.pk).update(cpu_millicores=plan.cpu_millicores * 2)
    old_cpu = _cpu_limit(cluster, instance)
    # when: the periodic sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep()
    # then: it found the app out of line and the reconcile it queued applied the new size
    assert report.queued == [instance.pk]
    assert _cpu_limit(cluster, instance) != old_cpu
