"""A round's published policy: the priority tiers, eligibility and deadline, parsed from what
an officer posts with every problem named, and the locality test the tiers use. Plain values,
Flask-free and store-free like the mechanism in ``rounds.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COMMUNITY_FORMS = ("cooperatie", "sociale_onderneming", "stichting", "vereniging")


@dataclass(frozen=True)
class TierRule:
    """Needs with one of ``legal_forms`` (empty: any) and, when ``local`` is True, a preferred
    area that is the space's buurt or wijk. The first rule that holds gives the tier (1, 2, ...);
    a need no rule admits gets the tier after the last rule."""

    legal_forms: tuple[str, ...]
    local: bool = False

    def holds(self, legal_form: str, local: bool) -> bool:
        form_ok = not self.legal_forms or legal_form in self.legal_forms
        return form_ok and (local or not self.local)


DEFAULT_TIERS = (TierRule(COMMUNITY_FORMS, local=True), TierRule(COMMUNITY_FORMS, local=False))


@dataclass(frozen=True)
class Policy:
    """What a round publishes before anyone draws: tiers, eligibility, deadline, tie-break.

    Eligibility is always the hard filters of matching (use, size, budget, date, access, term,
    place); ``min_score`` optionally raises the bar. The tie-break is always the lottery.
    """

    tiers: tuple[TierRule, ...] = DEFAULT_TIERS
    min_score: float | None = None
    deadline: str | None = None  # ISO date: interests after it do not count
    eligibility: str = "hard_filters"
    tie_break: str = "lottery"

    def tier_of(self, legal_form: str, local: bool) -> int:
        for k, rule in enumerate(self.tiers, start=1):
            if rule.holds(legal_form, local):
                return k
        return len(self.tiers) + 1

    @property
    def tier_count(self) -> int:
        return len(self.tiers) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "tiers": [
                {"tier": k, "legal_forms": list(r.legal_forms), "local": r.local}
                for k, r in enumerate(self.tiers, start=1)
            ],
            "other_tier": len(self.tiers) + 1,
            "eligibility": self.eligibility,
            "min_score": self.min_score,
            "deadline": self.deadline,
            "tie_break": self.tie_break,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, legal_forms: Sequence[str]) -> Policy:
        """Parse a posted policy (None: the default); raises PolicyError naming each bad field."""
        import datetime as dt

        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise PolicyError({"policy": "must be an object"})
        errors: dict[str, str] = {}
        unknown = set(data) - {
            "tiers", "other_tier", "eligibility", "min_score", "deadline", "tie_break"
        }  # fmt: skip
        if unknown:
            errors["policy"] = "unknown fields: " + ", ".join(sorted(unknown))
        tiers: tuple[TierRule, ...] = DEFAULT_TIERS
        if "tiers" in data:
            raw = data["tiers"]
            if not isinstance(raw, list) or len(raw) > 5:
                errors["tiers"] = "must be a list of at most 5 rules"
            else:
                out = []
                for k, rule in enumerate(raw):
                    forms = rule.get("legal_forms") if isinstance(rule, Mapping) else None
                    local = rule.get("local", False) if isinstance(rule, Mapping) else None
                    tier = rule.get("tier", k + 1) if isinstance(rule, Mapping) else None
                    if (
                        not isinstance(rule, Mapping)
                        or set(rule) - {"legal_forms", "local", "tier"}
                        or tier != k + 1
                        or isinstance(tier, bool)
                        or not isinstance(forms, list)
                        or any(f not in legal_forms for f in forms)
                        or not isinstance(local, bool)
                    ):
                        errors[f"tiers.{k}"] = (
                            "needs legal_forms (a list of " + ", ".join(legal_forms) + "), "
                            f"optionally local (true or false) and tier ({k + 1})"
                        )
                        continue
                    out.append(TierRule(tuple(dict.fromkeys(forms)), local))
                tiers = tuple(out)
        other = data.get("other_tier", len(tiers) + 1)
        if other != len(tiers) + 1 or isinstance(other, bool):
            errors["other_tier"] = "is the number after the last tier (it cannot be chosen)"
        min_score = data.get("min_score")
        if min_score is not None and (
            isinstance(min_score, bool)
            or not isinstance(min_score, int | float)
            or not 0 <= min_score <= 1
        ):
            errors["min_score"] = "must be a number from 0 to 1, or null"
        deadline = data.get("deadline")
        if deadline is not None:
            try:
                deadline = dt.date.fromisoformat(str(deadline)).isoformat()
            except ValueError:
                errors["deadline"] = "must be a date (YYYY-MM-DD) or null"
        if data.get("eligibility", "hard_filters") != "hard_filters":
            errors["eligibility"] = "must be hard_filters"
        if data.get("tie_break", "lottery") != "lottery":
            errors["tie_break"] = "must be lottery"
        if errors:
            raise PolicyError(errors)
        return cls(
            tiers=tiers,
            min_score=None if min_score is None else float(min_score),
            deadline=deadline,
        )


class PolicyError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def is_local(preferred_areas: Sequence[str], buurt: str | None) -> bool:
    """Do the need's preferred areas include the space's buurt or its wijk (the buurt code's
    first two characters, as in Amsterdam's codes: wijk AA, buurt AA01)?"""
    if not buurt:
        return False
    return bool({buurt, buurt[:2]} & set(preferred_areas))
