from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    """Subscriptions: purchase, renewal, suspension, cancellation and plan changes, and the link
    from a subscription to its app instance."""

    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from billing import hooks as billing_hooks
        from pods import hooks as pods_hooks

        from .services import reactions

        pods_hooks.instance_status_changed.connect(reactions.instance_status_changed)
        billing_hooks.balance_credited.connect(reactions.balance_credited)
        # A query billing asks while it answers, not a reaction (see billing.hooks).
        billing_hooks.renewal_provider(reactions.upcoming_renewals)
