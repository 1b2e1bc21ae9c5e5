"""The officer blueprint, shared by its three page modules (list, one property, allocation)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from spacematch.matching.reasons import number
from spacematch.web.locale import language

bp = Blueprint("officer", __name__)

OFFICER_ROLES = ("officer", "admin")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    """``num(value, decimals)``: a number in the user's language (Dutch 0,85; English 0.85)."""
    lang = language()
    return {"num": lambda value, decimals=2: number(float(value), lang, decimals)}
