"""The catalog a fresh installation starts with (``manage.py seed``).

Sizes: ``starter`` fits a personal site or a few workflows; ``pro`` doubles CPU and memory and
quadruples storage. Ghost and WordPress split a plan with their own MySQL (see the blueprints'
shares). Prices in IDR per month.
"""

from decimal import Decimal

from templates.registry import get_blueprint

_STARTER = {"slug": "starter", "name": "Starter", "cpu_millicores": 500, "memory_mb": 1024, "storage_gb": 5}
_PRO = {"slug": "pro", "name": "Pro", "cpu_millicores": 1000, "memory_mb": 2048, "storage_gb": 20}


def _service(slug: str, *, category: str, description: str, starter: str, pro: str) -> dict:
    blueprint = get_blueprint(slug)
    return {
        "slug": slug,
        "name": blueprint.name,
        "template": blueprint.key,
        "version": blueprint.app_version,
        "category": category,
        "description": description,
        "plans": [
            {**_STARTER, "price_monthly": Decimal(starter)},
            {**_PRO, "price_monthly": Decimal(pro)},
        ],
    }


SEED_SERVICES = [
    _service(
        "n8n",
        category="automation",
        description="Workflow automation: connect apps and APIs with a visual editor.",
        starter="75000.00",
        pro="150000.00",
    ),
    _service(
        "ghost",
        category="publishing",
        description="A publishing platform for blogs, newsletters and paid memberships.",
        starter="60000.00",
        pro="120000.00",
    ),
    _service(
        "wordpress",
        category="website",
        description="The website and blog builder, with its themes and plugins.",
        starter="50000.00",
        pro="100000.00",
    ),
]
