"""For an operator setting up a cluster: can the backend reach it, and may it do its job?"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pods.cluster import ClusterError
from pods.cluster.permissions import PERMISSIONS
from pods.services.cluster import cluster_settings, get_cluster


class Command(BaseCommand):
    help = "Connect to the configured cluster, print its version and check every permission the backend needs."

    def handle(self, *args, **options):
        backend = settings.PAAS_CLUSTER_BACKEND
        try:
            config = cluster_settings()
            cluster = get_cluster()
            version = cluster.version()
        except ClusterError as exc:
            raise CommandError(f"Cannot reach the cluster ({backend}): {exc.message}") from None
        source = config.kubeconfig or "KUBECONFIG, ~/.kube/config or the in-cluster service account"
        self.stdout.write(f"backend:   {backend} ({source})")
        self.stdout.write(f"server:    {cluster.server}")
        self.stdout.write(f"version:   {version.get('gitVersion', '?')} ({version.get('platform', '?')})")
        missing = []
        for permission in PERMISSIONS:
            for verb in permission.verbs:
                resource, _, sub = permission.resource.partition("/")
                try:
                    allowed, reason = cluster.can_i(verb, resource, group=permission.group, subresource=sub)
                except ClusterError as exc:
                    raise CommandError(f"The access review failed: {exc.message}") from None
                label = f"{verb} {permission.resource}" + (f".{permission.group}" if permission.group else "")
                if allowed:
                    self.stdout.write(f"  ok       {label}")
                elif permission.required:
                    missing.append(label)
                    self.stdout.write(
                        self.style.ERROR(f"  MISSING  {label}: {permission.why}") + (f" ({reason})" if reason else "")
                    )
                else:
                    self.stdout.write(self.style.WARNING(f"  optional {label} not granted: {permission.why}"))
        if missing:
            raise CommandError(f"{len(missing)} permission(s) missing; apply k8s/rbac.yaml to the backend's account.")
        self.stdout.write(self.style.SUCCESS("The backend has every permission it needs."))
