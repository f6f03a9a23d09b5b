"""Pieces shared by several blueprints: the MySQL database and common config fields."""

from ..types import ConfigField, DatabaseSpec, SecretKey

# docker-library `mysql` 8.4 LTS (Oracle Linux based): user `mysql` is UID/GID 999.
MYSQL_IMAGE = "mysql:8.4.10"
MYSQL_UID = 999

MYSQL_SECRET_KEYS = (
    SecretKey("db-root-password", "db", nbytes=24),
    SecretKey("db-password", "db", nbytes=24),
)


def mysql(*, name: str, user: str) -> DatabaseSpec:
    return DatabaseSpec(engine="mysql", image=MYSQL_IMAGE, name=name, user=user)


TIMEZONE = ConfigField(
    name="timezone",
    kind="timezone",
    default="Asia/Jakarta",
    help_text="IANA time zone, e.g. Asia/Jakarta or Europe/Berlin.",
)
