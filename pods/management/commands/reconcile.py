"""Bring instances in line with the cluster by hand, and print what changed.

manage.py reconcile                 the sweep: compare all, reconcile those that differ
manage.py reconcile --all           reconcile every live instance
manage.py reconcile --instance ID   reconcile one
... --dry-run                       print what would change, change nothing
"""

import uuid

from django.core.management.base import BaseCommand, CommandError

from pods import services
from pods.cluster import ClusterError
from pods.models import ServiceInstance
from pods.services.changes import Change


def _describe(change: Change) -> str:
    where = f"{change.namespace}/" if change.namespace else ""
    return f"{change.why.lower():>9} {change.kind} {where}{change.name}"


class Command(BaseCommand):
    help = "Reconcile instances with the cluster (the sweep by default) and print what changed."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--all", action="store_true", help="Reconcile every live instance.")
        target.add_argument("--instance", metavar="ID", help="Reconcile one instance.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")

    def handle(self, *args, all=False, instance=None, dry_run=False, **options):
        try:
            ids = self._targets(all_=all, instance=instance)
        except ClusterError as exc:
            raise CommandError(exc.message) from None
        if not ids:
            self.stdout.write("Every instance is in line with the cluster.")
            return
        changed = 0
        for number, instance_id in enumerate(ids, start=1):
            self._progress(number, len(ids))
            try:
                changed += self._one(instance_id, dry_run=dry_run)
            except ClusterError as exc:
                self.stderr.write(f"\n{instance_id}: {exc.message}")
        self.stderr.write("")
        verb = "would change" if dry_run else "changed"
        self.stdout.write(self.style.SUCCESS(f"{len(ids)} instance(s) looked at, {changed} write(s) {verb}."))

    def _targets(self, *, all_: bool, instance: str | None) -> list:
        live = ServiceInstance.objects.live()
        if instance:
            found = live.filter(pk=instance).values_list("pk", flat=True) if _is_uuid(instance) else []
            if not found:
                raise CommandError(f"No live instance {instance!r}.")
            return list(found)
        if all_:
            return list(live.order_by("created_at").values_list("pk", flat=True))
        report = services.sweep(dry_run=True)
        self.stdout.write(
            f"{report.instances} instance(s), {report.in_sync} in line, {len(report.queued)} to reconcile."
        )
        for orphan in report.orphans:
            meta = orphan["metadata"]
            self.stdout.write(f"   orphan {orphan['kind']} {meta.get('namespace', '')}/{meta['name']}")
        return report.queued

    def _one(self, instance_id, *, dry_run: bool) -> int:
        if dry_run:
            changes = services.reconcile_preview(instance_id)
            status = ""
        else:
            result = services.reconcile(instance_id)
            if result.outcome == services.Outcome.BUSY:
                self.stderr.write(f"\n{instance_id}: busy (another worker is reconciling it)")
                return 0
            changes, status = result.changes, f" -> {result.status} ({result.outcome})"
        if changes or status:
            self.stdout.write(f"\n{instance_id}{status}")
            for change in changes:
                self.stdout.write(f"  {_describe(change)}")
        return len(changes)

    def _progress(self, done: int, total: int, width: int = 30) -> None:
        filled = width * done // total
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stderr.flush()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
