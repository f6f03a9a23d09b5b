"""The shipped blueprints. Adding an app: write ``<app>.py`` calling ``register(...)`` and import it here
(see docs/templates.md for the checklist)."""

from . import ghost, n8n, wordpress

__all__ = ["ghost", "n8n", "wordpress"]
