"""Every write on subscriptions."""

from .actions import (
    subscription_cancel,
    subscription_change_plan,
    subscription_extend,
    subscription_instance_control,
    subscription_renew,
    subscription_resume,
    subscription_suspend,
    subscription_update,
)
from .clock import ClockReport, billing_clock
from .purchase import subscription_purchase
from .reactions import followups_due, instance_followup, resume_paid, resumes_due

__all__ = [
    "ClockReport",
    "billing_clock",
    "followups_due",
    "instance_followup",
    "resume_paid",
    "resumes_due",
    "subscription_cancel",
    "subscription_change_plan",
    "subscription_extend",
    "subscription_instance_control",
    "subscription_purchase",
    "subscription_renew",
    "subscription_resume",
    "subscription_suspend",
    "subscription_update",
]
