"""The e-mail channel: one message per notification over SMTP, STARTTLS and login as configured.

The Message-ID is derived from the idempotency key, so a retry after a lost reply is recognisable as
the same message. Refused recipients and 5xx replies are permanent; connection trouble and 4xx
replies are retried.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from alerts.settings import AlertSettings
from wastewatch.points import Store
from wastewatch.settings import Settings


class EmailNotifier:
    name = "email"

    def __init__(
        self, host: str, port: int, sender: str, recipients: Sequence[str], *, starttls: bool = True,
        user: str | None = None, password: str | None = None, timeout_s: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not recipients:
            raise ValueError("e-mail needs recipients (WASTEWATCH_ALERTS_SMTP_TO)")
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self.starttls, self.user, self._password, self.timeout_s = starttls, user, password, timeout_s
        self._tls_context = tls_context

    def message(self, notification: Notification) -> EmailMessage:
        """The e-mail: subject in the first language, body in both."""
        first = notification.language
        second = "en" if first == "id" else "id"
        msg = EmailMessage()
        msg["Subject"] = notification.text(first)["subject"]
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{notification.idempotency_key}@wastewatch>"
        msg["X-Wastewatch-Idempotency-Key"] = notification.idempotency_key
        body = notification.text(first)["body"] + "\n\n----\n\n" + notification.text(second)["body"]
        msg.set_content(body)
        return msg

    def send(self, notification: Notification) -> Receipt:
        msg = self.message(notification)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self._tls_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self._password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifierError(f"SMTP refused every recipient: {exc.recipients}", retryable=False) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifierError(f"SMTP login refused: {exc.smtp_code}", retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise NotifierError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(f"SMTP unreachable: {exc.__class__.__name__}: {exc}") from exc
        detail = f"accepted by {self.host}:{self.port}"
        if refused:
            detail += f", refused {sorted(refused)}"
        return Receipt(self.name, detail)

    def close(self) -> None:
        return None


def _build(settings: Settings, alerts: AlertSettings, store: Store | None) -> EmailNotifier:
    smtp = settings.smtp
    assert smtp.host is not None
    return EmailNotifier(
        smtp.host, smtp.port, smtp.sender, alerts.smtp_to, starttls=smtp.starttls, user=smtp.user,
        password=smtp.password.get_secret_value() if smtp.password else None, timeout_s=smtp.timeout_s,
    )


CHANNEL = Channel("email", configured=lambda settings, alerts: bool(settings.smtp.host and alerts.smtp_to), build=_build)
