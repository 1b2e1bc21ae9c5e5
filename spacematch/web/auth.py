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

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from spacematch.models import User
from spacematch.web.forms import form_problems
from spacematch.web.state import state

bp = Blueprint("auth", __name__)


class LoginUser(UserMixin):
    """The session's view of a stored user (detached from any DB session)."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
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
    def load_user(user_id: str) -> LoginUser | None:
        if not user_id.isdigit():
            return None
        with state().store.sessions() as session:
            user = session.get(User, int(user_id))
            return LoginUser(user) if user is not None and user.active else None

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
                return current_app.login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired()])


def _safe_next(target: str | None, user: LoginUser | None = None) -> str:
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    # Without a page to return to, each role starts where its work is.
    if user is not None and user.has_role("officer"):
        return url_for("officer.properties")
    if user is not None and user.has_role("planner"):
        return url_for("planner.index")
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    invalid = False  # a form with a missing field (400); wrong credentials answer 200
    if form.validate_on_submit():
        with state().store.sessions() as session:
            user = session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        if (
            user is not None
            and user.active
            and check_password_hash(user.password_hash, form.password.data)
        ):
            account = LoginUser(user)
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
    logout_user()
    return redirect(url_for("main.index"))
