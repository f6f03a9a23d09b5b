"""Email backends for tests: the seam where a provider or SMTP server misbehaves."""

import smtplib

from django.conf import settings
from django.core.mail.backends import locmem


class FlakyEmailBackend(locmem.EmailBackend):
    """Drops the connection on the first ``settings.FLAKY_EMAIL_FAILURES`` sends, then delivers to the outbox."""

    calls = 0

    def send_messages(self, email_messages):
        FlakyEmailBackend.calls += 1
        if FlakyEmailBackend.calls <= settings.FLAKY_EMAIL_FAILURES:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)
