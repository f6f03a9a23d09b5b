"""Domain errors of subscriptions; the API handler turns each into its status and code."""

from paas.exceptions import Conflict


class SubscriptionLimitReached(Conflict):
    code = "subscription_limit_reached"
    default_message = "You have reached the number of subscriptions an account may hold."
