"""Allocation rounds on the web: the JSON API (officers open, draw, override, record answers;
everyone reads), the public page ``/toewijzingen`` with its GeoJSON, and the officer's round
page. Thin: parse, call ``spacematch.matching.round_store``, render."""

from __future__ import annotations

from spacematch.web.rounds.json_api import api
from spacematch.web.rounds.pages import bp, policy_text

__all__ = ["api", "bp", "policy_text"]
