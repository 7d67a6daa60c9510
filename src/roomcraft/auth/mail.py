"""Sign-in mail: through SMTP when configured, otherwise into the development outbox."""

import asyncio
import smtplib
from email.message import EmailMessage

import structlog

from roomcraft.auth import repository
from roomcraft.config import Settings
from roomcraft.db.session import Conn

log = structlog.get_logger(__name__)


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def send_magic_link(conn: Conn, settings: Settings, *, to: str, link: str) -> None:
    """Mail a sign-in link; without SMTP, outside production, keep it in the dev outbox."""
    subject = "Your Roomcraft sign-in link"
    body = (
        "Hello,\n\nUse this link to sign in to Roomcraft. It works once and expires in "
        f"{settings.magic_link_minutes} minutes:\n\n{link}\n\n"
        "If you did not ask for it, you can ignore this message.\n"
    )
    if settings.smtp_host:
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(_send_smtp, settings, message)
        log.info("auth.magic_link_mailed", to=to)
    elif settings.is_development or settings.env == "test":
        await repository.insert_outbox_message(conn, to=to, subject=subject, body=body, link=link)
        log.info("auth.magic_link_outboxed", to=to, link=link)
    else:
        log.error("auth.mail_not_configured", to=to)
