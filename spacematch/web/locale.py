"""The request's language: one rule for pages, API messages and mails."""

from __future__ import annotations

from flask import current_app, request, session


def language(*, remember: bool = True) -> str:
    """``?lang=`` first (remembered in the session unless ``remember`` is false: the OGC API
    sets no cookie), then the browser's preference; else Dutch."""
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted is not None and wanted in languages:
        if remember:
            session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    best: str | None = request.accept_languages.best_match(languages)
    return best or str(languages[0])
