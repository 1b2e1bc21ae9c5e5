"""The officer blueprint, shared by its three page modules (list, one property, allocation)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("officer", __name__)

OFFICER_ROLES = ("officer", "admin")
