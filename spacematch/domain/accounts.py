"""User accounts: creation with hashed passwords. Flask-free (werkzeug's hashing only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from spacematch.models import ROLES, User


class AccountError(ValueError):
    pass


def create_user(session: Session, *, email: str, role: str, password: str) -> User:
    """Create a user, or reset the role and password of an existing one with that e-mail."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if "@" not in email:
        raise AccountError(f"not an e-mail address: {email!r}")
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=role, password_hash="")
        session.add(user)
    user.role = role
    user.password_hash = generate_password_hash(password)
    session.flush()
    return user
