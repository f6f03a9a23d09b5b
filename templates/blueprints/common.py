"""Pieces shared by several blueprints: the MySQL database, security profiles, probes and config fields."""

from ..types import ConfigField, DatabaseSpec, Probe, SecretKey, SecurityProfile

# docker-library `mysql` 8.4 LTS (Oracle Linux based): user `mysql` is UID/GID 999.
MYSQL_IMAGE = "mysql:8.4.10"
MYSQL_UID = 999

MYSQL_SECRET_KEYS = (
    SecretKey("db-root-password", "db", nbytes=24),
    SecretKey("db-password", "db", nbytes=24),
)


def mysql(*, name: str, user: str) -> DatabaseSpec:
    return DatabaseSpec(engine="mysql", image=MYSQL_IMAGE, name=name, user=user, uid=MYSQL_UID)


TIMEZONE = ConfigField(
    name="timezone",
    kind="timezone",
    default="Asia/Jakarta",
    help_text="IANA time zone, e.g. Asia/Jakarta or Europe/Berlin.",
)


# The `node` user (UID/GID 1000) of the Node.js-based images (n8n, Ghost); their entrypoints
# support starting as it.
NODE_USER = SecurityProfile(run_as_user=1000, run_as_group=1000, fs_group=1000)

# Liveness only asks "is the process still listening": an HTTP check there would restart an app
# whose database is briefly slow, which readiness already handles by taking it out of rotation.
TCP_LIVENESS = Probe("tcp", period_seconds=20, failure_threshold=6)
