"""Accounts: login/logout, and the role checks every protected view uses.

Roles: officer (vastgoed), planner, admin. An admin may do everything an officer or planner may.
Anonymous users on a protected page are sent to /login; a logged-in user with the wrong role
gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from spacematch.domain.accounts import end_sessions
from spacematch.models import User
from spacematch.web.forms import form_problems
from spacematch.web.state import state

bp = Blueprint("auth", __name__)


class LoginUser(UserMixin):
    """The session's view of a stored user (detached from any DB session).

    Its id in the session cookie is ``"<user id>:<session version>"``: the user loader refuses a
    cookie whose version is not the account's current one, so moving the version (logout, a new
    password, deactivation, ``flask end-sessions``) ends every session of the account, copied
    cookies included."""

    def __init__(self, user: User) -> None:
        self.user_id = user.id
        self.id = f"{user.id}:{user.session_version or 0}"
        self.email = user.email
        self.role = user.role

    def has_role(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


def init_app(app) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = None
    manager.init_app(app)

    @manager.user_loader
    def load_user(session_id: str) -> LoginUser | None:
        user_id, _, version = session_id.partition(":")
        if not (
            user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()
        ):
            return None  # also a cookie from before session versions: log in again
        if int(user_id) > 2**31 - 1:
            return None
        with state().store.sessions() as db:
            user = db.get(User, int(user_id))
        if user is None or not user.active or (user.session_version or 0) != int(version):
            return None
        return LoginUser(user)

    app.register_blueprint(bp)


def has_role(*roles: str) -> bool:
    """Is the current user logged in with one of these roles (admin always counts)?"""
    return bool(current_user.is_authenticated and current_user.has_role(*roles))


def role_required(*roles: str) -> Callable:
    """Decorator: anonymous -> redirect to /login (401 JSON on /api), wrong role -> 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                # LoginManager.init_app sets app.login_manager; Flask's type doesn't declare it.
                manager: LoginManager = current_app.login_manager  # type: ignore[attr-defined]
                return manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired()])


def _safe_next(target: str | None, user: LoginUser | None = None) -> str:
    """A local path to go to after login, else where the user's work is. Refused: another host
    (``//x``, ``/\\x``, which browsers read as ``//x``), and any control character (a newline
    would otherwise reach the ``Location`` header and fail the request)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    # Without a page to return to, each role starts where its work is.
    if user is not None and user.has_role("officer"):
        return url_for("officer.properties")
    if user is not None and user.has_role("planner"):
        return url_for("planner.index")
    return url_for("main.index")


def dummy_hash() -> str:
    """A hash of a random password with the same method as real accounts, made once per app: a
    login for an unknown or inactive account checks it, so it takes as long as a real one."""
    import secrets

    dummy: str = state().cache.get(
        "dummy_hash", 0, lambda: generate_password_hash(secrets.token_urlsafe(16))
    )
    return dummy


def _fresh_session() -> None:
    """Nothing of the anonymous session survives login but the chosen language: the CSRF
    token (and anything else planted before) is replaced."""
    lang = session.get("lang")
    session.clear()
    if lang is not None:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    invalid = False  # a form with a missing field (400); wrong credentials answer 200
    if form.validate_on_submit():
        with state().store.sessions() as db:
            user = db.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        usable = user if user is not None and user.active else None
        # Always one hash check, against a dummy for unknown or inactive accounts: the answer
        # takes as long whether or not the address has an account (no enumeration by timing).
        stored = usable.password_hash if usable is not None else dummy_hash()
        if check_password_hash(stored, form.password.data) and usable is not None:
            _fresh_session()
            account = LoginUser(usable)
            login_user(account)
            return redirect(_safe_next(request.args.get("next"), account))
        form.email.errors = [_("E-mail of wachtwoord onjuist.")]
    elif request.method == "POST":
        invalid = True
    problems = form_problems(form) if request.method == "POST" else []
    status = 400 if invalid else 200
    return render_template("auth/login.html", form=form, problems=problems), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out, and end every session of the account (a copied cookie dies too)."""
    if current_user.is_authenticated:
        with state().store.session() as db:
            end_sessions(db, user_id=current_user.user_id)
    logout_user()
    _fresh_session()
    return redirect(url_for("main.index"))
