"""n8n: workflow automation, on SQLite on its own volume.

Sources: https://docs.n8n.io/hosting/configuration/environment-variables/ ,
https://docs.n8n.io/hosting/logging-monitoring/monitoring/ , n8n-io/n8n-hosting (kubernetes/, charts/n8n).
"""

from ..registry import register
from ..types import (
    Blueprint,
    ConfigField,
    DataMount,
    EnvVar,
    Minimums,
    Probe,
    Probes,
    RenderContext,
    SecretKey,
    SecretRef,
)
from .common import NODE_USER, TIMEZONE

PORT = 5678


def _env(ctx: RenderContext) -> list[EnvVar]:
    url = f"https://{ctx.fqdn}/"
    return [
        # Set explicitly: a Service env var named N8N_PORT ("tcp://10.x.y.z:5678") crashes n8n,
        # which is also why the pod has enableServiceLinks: false.
        EnvVar("N8N_PORT", str(PORT)),
        EnvVar("N8N_HOST", ctx.fqdn),
        EnvVar("N8N_PROTOCOL", "https"),
        EnvVar("N8N_EDITOR_BASE_URL", url),
        # WEBHOOK_URL is the documented name; newer releases read N8N_WEBHOOK_URL and only warn
        # about the old one, so both are set.
        EnvVar("WEBHOOK_URL", url),
        EnvVar("N8N_WEBHOOK_URL", url),
        EnvVar("N8N_PROXY_HOPS", "1"),
        EnvVar("DB_TYPE", "sqlite"),
        # A pool size above zero puts SQLite in WAL mode, which n8n recommends.
        EnvVar("DB_SQLITE_POOL_SIZE", "2"),
        EnvVar("N8N_ENCRYPTION_KEY", SecretRef("app", "n8n-encryption-key")),
        EnvVar("N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS", "true"),
        EnvVar("N8N_DIAGNOSTICS_ENABLED", "false"),
        EnvVar("GENERIC_TIMEZONE", ctx.config["timezone"]),
        EnvVar("TZ", ctx.config["timezone"]),
        EnvVar("EXECUTIONS_DATA_PRUNE", "true"),
        EnvVar("EXECUTIONS_DATA_MAX_AGE", str(ctx.config["execution_retention_hours"])),
    ]


N8N = register(
    Blueprint(
        key="n8n",
        name="n8n",
        app_version="2.42.4",
        image="n8nio/n8n:2.42.4",
        port=PORT,
        data_mounts=(DataMount("/home/node/.n8n"),),
        env=_env,
        probes=Probes(
            # First boot runs the database migrations: give it up to five minutes.
            startup=Probe("http", path="/healthz/readiness", period_seconds=5, failure_threshold=60),
            readiness=Probe("http", path="/healthz/readiness", period_seconds=10, failure_threshold=6),
            liveness=Probe("http", path="/healthz", period_seconds=20, failure_threshold=6),
        ),
        # n8n's own chart runs it exactly like this.
        security=NODE_USER,
        minimums=Minimums(cpu_millicores=250, memory_mb=512, storage_gb=1),
        config_fields=(
            TIMEZONE,
            ConfigField(
                name="execution_retention_hours",
                kind="integer",
                default=336,
                min_value=1,
                max_value=24 * 365,
                help_text="Finished executions older than this are deleted (n8n's default: 336 hours).",
            ),
        ),
        # n8n encrypts stored credentials with this key: it must never change for the instance's life.
        secret_keys=(SecretKey("n8n-encryption-key", "app", nbytes=32),),
        immutable_app_secret=True,
        docs="SQLite in WAL mode on the instance volume; no queue mode.",
    )
)
