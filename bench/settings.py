"""The product's settings, served with the benchmark's URLconf (``bench.urls``).

Only the benchmark's own server (started by ``bench/api.py`` and ``bench/heartbeat.py``) uses this
module: the bare comparison views never reach the product's URLs.
"""

from paas.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
