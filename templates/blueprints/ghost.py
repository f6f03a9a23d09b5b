"""Ghost 6: publishing, on MySQL 8 (the only database Ghost supports in production).

Sources: https://docs.ghost.org/faq/supported-databases , https://ghost.org/docs/config/ ,
docker-library/ghost (6/bookworm Dockerfile and docker-entrypoint.sh).
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
    SecretRef,
    Share,
)
from .common import MYSQL_SECRET_KEYS, NODE_USER, TCP_LIVENESS, mysql

PORT = 2368
DATABASE = mysql(name="ghost", user="ghost")


def _mail_from(name: str, address: str, fqdn: str) -> str | None:
    if not name and not address:
        return None  # Ghost's default: noreply@<site domain>
    if not name:
        return address
    # A quoted display name; quotes and backslashes are escaped as RFC 5322 asks.
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address or "noreply@" + fqdn}>'


def _env(ctx: RenderContext) -> list[EnvVar]:
    env = [
        EnvVar("url", f"https://{ctx.fqdn}"),
        EnvVar("NODE_ENV", "production"),
        EnvVar("database__client", "mysql"),
        EnvVar("database__connection__host", ctx.database_host or ""),
        EnvVar("database__connection__port", str(DATABASE.port)),
        EnvVar("database__connection__user", DATABASE.user),
        EnvVar("database__connection__password", SecretRef("db", "db-password")),
        EnvVar("database__connection__database", DATABASE.name),
        EnvVar("privacy__useGravatar", "true" if ctx.config["use_gravatar"] else "false"),
        # Logs go to the container's stdout, not to files on the content volume.
        EnvVar("logging__transports", '["stdout"]'),
    ]
    mail_from = _mail_from(ctx.config["mail_from_name"], ctx.config["mail_from_address"], ctx.fqdn)
    if mail_from is not None:
        env.append(EnvVar("mail__from", mail_from))
    return env


# Ghost has no health route: the public site endpoint of the Admin API is cheap and needs the DB.
_SITE = "/ghost/api/admin/site/"

GHOST = register(
    Blueprint(
        key="ghost",
        name="Ghost",
        app_version="6.45.0",
        image="ghost:6.45.0",
        port=PORT,
        data_mounts=(DataMount("/var/lib/ghost/content"),),
        env=_env,
        probes=Probes(
            # The first start creates the schema in MySQL, which itself may still be initialising.
            startup=Probe("http", path=_SITE, proxied=True, period_seconds=10, failure_threshold=60),
            readiness=Probe("http", path=_SITE, proxied=True, period_seconds=10, failure_threshold=3),
            liveness=TCP_LIVENESS,
        ),
        # Started as non-root, the entrypoint only seeds the content directory instead of chowning it.
        security=NODE_USER,
        minimums=Minimums(cpu_millicores=250, memory_mb=768, storage_gb=2),
        config_fields=(
            ConfigField(
                name="mail_from_name",
                kind="string",
                default="",
                max_length=100,
                help_text="Display name on the emails Ghost sends (staff invites, member sign-in).",
            ),
            ConfigField(
                name="mail_from_address",
                kind="email",
                default="",
                max_length=254,
                help_text="Sender address of those emails; empty means noreply@<site domain>.",
            ),
            ConfigField(
                name="use_gravatar",
                kind="boolean",
                default=False,
                help_text="Look up staff avatars on gravatar.com (sends hashed emails to a third party).",
            ),
        ),
        secret_keys=MYSQL_SECRET_KEYS,
        database=DATABASE,
        share=Share(cpu=60, memory=50, storage=50),
        docs="Ghost with its own MySQL 8.4 StatefulSet. Mail transport (SMTP) is not configured yet.",
    )
)
