"""Browser fixtures: the app served on 127.0.0.1 by werkzeug in a thread, on a SQLite copy of the
seeded store, and Debian's Chromium driven by Playwright (never a downloaded browser).

Without /usr/bin/chromium these tests skip, unless SPACEMATCH_REQUIRE_BROWSER=1 (CI) makes that
a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from spacematch import create_app, get_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# A tile server that cannot answer: the maps must work without tiles.
DEAD_TILES = "http://127.0.0.9:9/tiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory, sqlite_template) -> Path:
    """The areas template plus the shipped demo, built once per session."""
    from spacematch.db import Store
    from spacematch.ingest.demo import load_demo

    path = tmp_path_factory.mktemp("seeded") / "seeded.sqlite3"
    shutil.copyfile(sqlite_template, path)
    store = Store(f"sqlite:///{path}")
    load_demo(store)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def live_app(seeded_template, tmp_path):
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(seeded_template, path)
    app = create_app({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-test",
        "TILES_URL": DEAD_TILES,
    })  # fmt: skip
    yield app
    get_store(app).dispose()


@pytest.fixture
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SPACEMATCH_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A Playwright page that records every request and fails on any JavaScript dialog."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.requests: list[tuple[str, str]] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append((r.resource_type, r.url)))
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def foreign_requests(self) -> list[tuple[str, str]]:
        """Requests to any host but the app's, except basemap tile images."""
        own = urlsplit(self.base).netloc
        tiles = urlsplit(DEAD_TILES).netloc
        return [
            (kind, url) for kind, url in self.requests
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own
            and not (kind == "image" and urlsplit(url).netloc == tiles)
        ]  # fmt: skip


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="nl-NL")
    wrapped = Page(context.new_page(), live_server)
    wrapped.page.set_default_timeout(15_000)
    yield wrapped
    context.close()
