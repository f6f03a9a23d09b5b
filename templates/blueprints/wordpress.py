"""WordPress (official image, Apache variant) on MySQL 8.4.

Sources: https://github.com/docker-library/docs/blob/master/wordpress/content.md ,
docker-library/wordpress (apache docker-entrypoint.sh, wp-config-docker.php),
https://hub.docker.com/_/php ("Running as an arbitrary user").
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
    SecurityProfile,
    Share,
)
from .common import MYSQL_SECRET_KEYS, TCP_LIVENESS, mysql

PORT = 80
DATABASE = mysql(name="wordpress", user="wordpress")

# The eight keys and salts of wp-config.php. The image would generate random ones into
# wp-config.php; generating them ourselves keeps sessions valid if wp-config.php is rebuilt.
SALTS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)


def _secret_key(salt: str) -> str:
    return "wp-" + salt.lower().replace("_", "-")


# The image eval()s WORDPRESS_CONFIG_EXTRA inside wp-config.php. It is a constant: customer
# values reach PHP only as environment data read with getenv(), never as code.
_CONFIG_EXTRA = "define('DISALLOW_FILE_EDIT', getenv('PAAS_DISALLOW_FILE_EDIT') === '1');"


def _env(ctx: RenderContext) -> list[EnvVar]:
    return [
        EnvVar("WORDPRESS_DB_HOST", f"{ctx.database_host}:{DATABASE.port}"),
        EnvVar("WORDPRESS_DB_USER", DATABASE.user),
        EnvVar("WORDPRESS_DB_PASSWORD", SecretRef("db", "db-password")),
        EnvVar("WORDPRESS_DB_NAME", DATABASE.name),
        EnvVar("WORDPRESS_TABLE_PREFIX", ctx.config["table_prefix"]),
        # PHP reads "0" as false.
        EnvVar("WORDPRESS_DEBUG", "1" if ctx.config["debug"] else "0"),
        *(EnvVar(f"WORDPRESS_{salt}", SecretRef("app", _secret_key(salt))) for salt in SALTS),
        EnvVar("PAAS_DISALLOW_FILE_EDIT", "1" if ctx.config["disallow_file_edit"] else "0"),
        EnvVar("WORDPRESS_CONFIG_EXTRA", _CONFIG_EXTRA),
    ]


WORDPRESS = register(
    Blueprint(
        key="wordpress",
        name="WordPress",
        app_version="7.1.0",
        image="wordpress:7.1.0-php8.3-apache",
        port=PORT,
        data_mounts=(DataMount("/var/www/html"),),
        env=_env,
        probes=Probes(
            startup=Probe("tcp", period_seconds=5, failure_threshold=60),
            # Before the install wizard ran, WordPress redirects this to /wp-admin/install.php on
            # the same host, which the kubelet counts as success: readiness never blocks the wizard.
            readiness=Probe("http", path="/wp-login.php", proxied=True, period_seconds=10, failure_threshold=3),
            liveness=TCP_LIVENESS,
        ),
        # www-data (UID 33). Apache binds :80 without root or NET_BIND_SERVICE thanks to the safe,
        # namespaced sysctl below; the php image keeps Apache's run and lock dirs world-writable.
        security=SecurityProfile(
            run_as_user=33,
            run_as_group=33,
            fs_group=33,
            sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
        ),
        minimums=Minimums(cpu_millicores=250, memory_mb=768, storage_gb=2),
        config_fields=(
            ConfigField(
                name="table_prefix",
                kind="string",
                default="wp_",
                max_length=20,
                pattern=r"[A-Za-z0-9_]+",
                help_text="Prefix of WordPress's database tables: letters, digits and underscores.",
            ),
            ConfigField(name="debug", kind="boolean", default=False, help_text="Turn on WP_DEBUG."),
            ConfigField(
                name="disallow_file_edit",
                kind="boolean",
                default=True,
                help_text="Hide the theme and plugin file editors of the dashboard (DISALLOW_FILE_EDIT).",
            ),
        ),
        secret_keys=(*MYSQL_SECRET_KEYS, *(SecretKey(_secret_key(s), "app", nbytes=48) for s in SALTS)),
        database=DATABASE,
        share=Share(cpu=60, memory=50, storage=50),
        docs="WordPress (Apache) with its own MySQL 8.4 StatefulSet.",
    )
)
