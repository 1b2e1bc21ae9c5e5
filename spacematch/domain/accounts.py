"""User accounts: creation with hashed passwords, the password rule, ending sessions.

Flask-free (werkzeug's hashing and zxcvbn only).

Password rule: at least ``MIN_PASSWORD_LENGTH`` (12) characters, and not guessable from the
common-password list: zxcvbn (a maintained port of Dropbox's estimator) matches the password
against its ranked list of 30,000 common passwords, English words, names, keyboard patterns,
dates and sequences, also reversed, in l33t and with digits appended; a password it expects to
fall within ``MIN_GUESSES`` (10^8, its score 3) guesses is refused.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from spacematch.models import ROLES, User

MIN_PASSWORD_LENGTH = 12
MIN_GUESSES = 10**8
# zxcvbn's run time grows with the length; beyond this a password is long enough anyway.
_ZXCVBN_CHARS = 64


class AccountError(ValueError):
    pass


def check_password(password: str, *, email: str = "") -> None:
    """Raise ``AccountError`` saying why a password is too weak; return when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    from zxcvbn import zxcvbn

    hints = [part for part in email.replace("@", " ").replace(".", " ").split() if part]
    result = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=hints)
    if float(result["guesses"]) < MIN_GUESSES:
        words = [m.get("matched_word") for m in result.get("sequence", [])]
        found = ", ".join(sorted({w for w in words if w}))
        raise AccountError(
            "this password is too easy to guess (it is built from common passwords, words or "
            "patterns" + (f": {found}" if found else "") + "); choose a longer phrase"
        )


def create_user(session: Session, *, email: str, role: str, password: str) -> User:
    """Create a user, or reset the role and password of an existing one with that e-mail.

    A reset ends every session of the account (its session version moves)."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if "@" not in email:
        raise AccountError(f"not an e-mail address: {email!r}")
    check_password(password, email=email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=role, password_hash="", session_version=0)
        session.add(user)
    else:
        user.session_version = (user.session_version or 0) + 1
    user.role = role
    user.password_hash = generate_password_hash(password)
    session.flush()
    return user


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no account {email.strip().lower()!r}")
    return user


def end_sessions(session: Session, *, user_id: int) -> None:
    """End every session of the account (in one UPDATE: two logouts at once both count)."""
    session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )


def end_sessions_of(session: Session, email: str) -> User:
    """``end_sessions`` by e-mail address, for the admin's command."""
    user = _user(session, email)
    end_sessions(session, user_id=user.id)
    session.refresh(user)
    return user


def set_active(session: Session, email: str, active: bool) -> User:
    """(De)activate an account; deactivation ends its sessions too."""
    user = _user(session, email)
    user.active = active
    if not active:
        user.session_version = (user.session_version or 0) + 1
    session.flush()
    return user
