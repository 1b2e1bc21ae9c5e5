"""Sending the outbox: templates to MIME with Flask-Mailman, then SMTP or an .eml file.

The rows and their payloads come from ``spacematch.mail`` (Flask-free); this module renders
``templates/mail/<kind>.txt`` and ``.html`` in the row's language with absolute links from
``BASE_URL`` and delivers. With ``MAIL_SERVER`` set it speaks SMTP (``MAIL_PORT``,
``MAIL_USE_TLS``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``); without, each mail is written to
``<instance>/mail/<row>-<kind>.eml`` (rewriting the same file if a retry writes it again) and
the log says where.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from spacematch.mail import outbox
from spacematch.models import Outbox
from spacematch.web.state import state

if TYPE_CHECKING:
    from flask_mailman import EmailMultiAlternatives, Mail

MAIL_KEY = "spacematch_mail"
SUBJECTS = {
    "confirm": _l("Je ruimtevraag voor %(initiative)s: je privélink"),
    "lost": _l("Je privélinks bij spacematch"),
    "digest": _l("Nieuwe passende ruimtes voor %(initiative)s"),
    "lease_end": _l("Je huur loopt af: passende ruimtes voor %(initiative)s"),
    "status_option": _l("Een ruimte is in optie voor %(initiative)s"),
    "status_assigned": _l("Een ruimte is toegewezen aan %(initiative)s"),
    "status_released": _l("De optie op een ruimte voor %(initiative)s is vervallen"),
    "introduction": _l("%(sender)s wil kennismaken over een ruimte"),
}
UNSUBSCRIBE_KINDS = ("digest", "lease_end")


def init_app(app: Flask) -> None:
    """The mail settings; Flask-Mailman itself is loaded by the first mail (``mailer``), so a
    command that sends none (`flask --help`, `create-user`) does not import it."""
    app.config["MAIL_DEFAULT_SENDER"] = app.config["MAIL_SENDER"]
    app.config["MAIL_BACKEND"] = "smtp"
    app.extensions[MAIL_KEY] = LazyMail()


class LazyMail:
    """Flask-Mailman for one app, made from the app's config on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mail: Mail | None = None

    def get(self, app: Flask) -> Mail:
        with self._lock:
            if self._mail is None:
                from flask_mailman import Mail

                self._mail = Mail(app)
            return self._mail


def mailer() -> Mail:
    """The app's Flask-Mailman extension (see ``LazyMail``)."""
    lazy: LazyMail = current_app.extensions[MAIL_KEY]
    return lazy.get(current_app._get_current_object())  # type: ignore[attr-defined]


def base_url() -> str:
    configured = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.url_root.rstrip("/")
    return "http://localhost:5000"


def message_domain() -> str:
    """The domain of the Message-IDs: the sender address's."""
    address = parseaddr(current_app.config["MAIL_SENDER"])[1]
    return address.rpartition("@")[2] or "spacematch.invalid"


def build(row: Outbox) -> EmailMultiAlternatives:
    """The row as a MIME message: plain text and HTML from its templates, in its language."""
    from flask_mailman import EmailMultiAlternatives

    mailer()
    payload = json.loads(row.payload)
    base = base_url()
    headers = {"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"}
    if row.kind in UNSUBSCRIBE_KINDS and payload.get("unsubscribe_path"):
        headers["List-Unsubscribe"] = f"<{base}{payload['unsubscribe_path']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if payload.get("reply_to"):
        headers["Reply-To"] = payload["reply_to"]
    with force_locale(row.language):
        subject = str(
            SUBJECTS[row.kind]
            % {"initiative": payload.get("initiative", ""), "sender": payload.get("sender", "")}
        )
        context = {"p": payload, "base": base, "kind": row.kind, "lang": row.language}
        text = render_template(f"mail/{row.kind}.txt", **context)
        html = render_template(f"mail/{row.kind}.html", **context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[row.recipient],
        headers=headers,
        connection=None,
    )
    message.attach_alternative(html, "text/html")
    return message


@dataclass
class Delivered:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _write_eml(row: Outbox, message: EmailMultiAlternatives) -> Path:
    folder = Path(current_app.instance_path) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row.id:08d}-{row.kind}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.message().as_bytes())
    os.replace(tmp, path)
    return path


def deliver(ids: list[int] | None = None, *, limit: int = 10) -> Delivered:
    """Claim due rows (or just ``ids``) and send them; failures wait for their back-off.

    A few rows per claim: their lease (``MAIL_LEASE_S``) must outlast sending them all, even
    at ``MAIL_TIMEOUT`` each, or another host could take one over while it is being sent."""
    store = state().store
    done = Delivered()
    config = current_app.config
    while True:
        rows = outbox.claim(store, ids=ids, limit=limit, lease_s=int(config["MAIL_LEASE_S"]))
        if not rows:
            return done
        connection = None
        try:
            if config["MAIL_SERVER"]:
                connection = mailer().get_connection()
                connection.open()
            for row in rows:
                try:
                    message = build(row)
                    if connection is None:
                        path = _write_eml(row, message)
                        done.files.append(path)
                        current_app.logger.warning(
                            "No mail server configured (SPACEMATCH_MAIL_SERVER): mail %s written "
                            "to %s",
                            row.message_id,
                            path,
                        )
                    else:
                        message.connection = connection
                        message.send()
                except Exception as err:  # the server refused or is down: retry later
                    outbox.mark_failed(store, row.id, f"{type(err).__name__}: {err}")
                    done.failed.append(row.id)
                    current_app.logger.warning("Mail %s not delivered: %s", row.id, err)
                else:
                    outbox.mark_sent(store, row.id)
                    done.sent.append(row.id)
        except Exception as err:  # no connection at all
            for row in rows:
                if row.id not in done.sent and row.id not in done.failed:
                    outbox.mark_failed(store, row.id, f"{type(err).__name__}: {err}")
                    done.failed.append(row.id)
            current_app.logger.warning("Mail server unreachable: %s", err)
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):  # closing a broken connection
                    connection.close()
        if ids is not None:
            return done


def deliver_now(*rows: Outbox | None) -> Delivered:
    """Right after the commit that wrote ``rows``: try them at once (``notify`` retries)."""
    ids = [r.id for r in rows if r is not None]
    if not ids or not current_app.config["MAIL_SEND_AT_ONCE"]:
        return Delivered()
    try:
        return deliver(ids)
    except Exception as err:  # never fail the request that caused the mail
        current_app.logger.warning("Mail not sent at once (notify will retry): %s", err)
        return Delivered()
