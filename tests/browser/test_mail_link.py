"""A browser follows the confirmation link of a mail that a real SMTP server received."""

from __future__ import annotations

import re
from mailbox import Mailbox, text_of

import pytest

from browser.conftest import DEAD_TILES
from browser.test_initiative import fill_need
from spacematch import create_app, get_store

pytestmark = pytest.mark.browser


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def live_app(seeded_template, tmp_path, mailbox):
    """The browser suite's app, with mail going to the local SMTP server."""
    import shutil

    path = tmp_path / "live.sqlite3"
    shutil.copyfile(seeded_template, path)
    app = create_app({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-test",
        "TILES_URL": DEAD_TILES, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mailbox.port,
    })  # fmt: skip
    yield app
    get_store(app).dispose()


def test_confirmation_link_from_the_received_mail_confirms_the_address(
    page, browser, live_server, mailbox
):
    p = page.page
    p.goto(f"{live_server}/needs/new")
    fill_need(p)
    p.select_option("#alerts", "weekly")
    p.click("button[type=submit]")
    p.wait_for_url("**/needs/*")
    assert "Je e-mailadres is bevestigd" not in p.content()
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "sam@example.org"
    link = re.search(r"https?://\S+/needs/\S+\?confirm=\S+", text_of(message)).group(0)
    assert link.startswith(live_server)  # absolute, to this app
    mail_client = browser.new_context(locale="nl-NL")  # as if opened from the mail programme
    try:
        opened = mail_client.new_page()
        opened.goto(link)
        assert opened.locator("#alerts").inner_text().count("Je e-mailadres is bevestigd") == 1
        assert opened.locator("#alerts-choice").input_value() == "weekly"
    finally:
        mail_client.close()
