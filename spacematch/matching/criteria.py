"""The matching rules: hard filters and size, price and place scores, vectorised over numpy arrays.

Every function broadcasts, so the same code ranks properties for one need (property arrays,
need scalars) and needs for one property (need arrays, property scalars).

Rules (DESIGN "Matching"), and the decisions the design leaves open:

* size: 1 when min <= area <= max, linear to 0 at 0.5 x min and at 2 x max; outside is excluded.
* price: monthly rent = rent_eur_m2_year x area_m2 / 12; 1 when <= budget, linear to 0 at
  1.5 x budget; above is excluded.
* place: 1 inside a preferred area (the property's buurt lies in one of the need's areas, any
  level) or within ``max_distance_m`` of the need's point; 0.5 in a buurt adjacent to a preferred
  buurt. *Distance decay* (our definition): a need without a point may still give
  ``max_distance_m``; it is then a tolerance around its preferred areas, and a property outside
  the preferred and adjacent buurten but within that distance of a preferred area scores
  ``0.5 x (1 - d / max_distance_m)`` (0.5 at the edge, 0 at the limit). Anything further, and with
  a point anything beyond ``max_distance_m`` that is not in or adjacent to a preferred area, is
  excluded. A need with neither areas nor a point has no place rule (score 1).
* availability: ``available_from <= needed_from + 90 days``. *Meanwhile rule* (our definition):
  when ``available_until`` is set (inclusive, the last day of use) the property must be
  available for ``min_months`` calendar months from ``max(needed_from, available_from)``, i.e.
  ``available_until + 1 day >= start + min_months`` (a month from 31 January ends 28/29 February).
* distances are from the property's representative point (x, y) in RD New.
* total: the weighted mean (weights normalised to sum 1), rounded to 6 decimals so that scores
  that look equal tie exactly and the tie-breaks (earlier availability, lower id) decide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from spacematch.models import USE_BITS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


CRITERIA = ("size", "price", "place")
DEFAULT_WEIGHTS: dict[str, float] = {"size": 0.35, "price": 0.35, "place": 0.30}
AVAILABLE_WITHIN_DAYS = 90
# Days since 1970-01-01 for "no end date"; far beyond any real date, safe to add to. A plain int
# (compared with and stored into int64 arrays, where it acts as np.int64), so that importing the
# criteria does not load numpy.
PERMANENT = 2**40
# Totals are rounded so that equal-looking scores tie exactly and the tie-breaks decide.
SCORE_DECIMALS = 6

# Place kinds, in order of precedence when several apply, and their fixed scores (NEAR decays).
EXCLUDED, PREFERRED, POINT, ADJACENT, NEAR, ANYWHERE = 0, 1, 2, 3, 4, 5
_KIND_SCORES = (0.0, 1.0, 1.0, 0.5, 0.0, 1.0)
_TINY = 1e-12


def uses_mask(uses: list[str] | tuple[str, ...] | str) -> int:
    """Bitmask over ``models.USES``; unknown uses are ignored (they can never be shared)."""
    if isinstance(uses, str):
        uses = uses.split(",")
    mask = 0
    for use in uses:
        mask |= USE_BITS.get(use.strip(), 0)
    return mask


def normalise_weights(weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Weights as an array (size, price, place) summing to 1. Missing criteria weigh 0."""
    import numpy as np

    weights = DEFAULT_WEIGHTS if weights is None else weights
    unknown = set(weights) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria in weights: {', '.join(sorted(unknown))}")
    values = np.array([float(weights.get(c, 0.0)) for c in CRITERIA])
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("weights must be finite and non-negative")
    total = float(values.sum())
    if total <= 0:
        raise ValueError("weights must not all be zero")
    return values / total


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Calendar month arithmetic on day numbers; the day is clipped to the target month's end."""
    import numpy as np

    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    result: npt.NDArray[np.int64] = (first + np.minimum(day_of_month, length - 1)).astype(np.int64)
    return result


def basic_filter(
    area: np.ndarray,
    rent: np.ndarray,
    uses: np.ndarray,
    avail_from: np.ndarray,
    accessible: np.ndarray,
    *,
    min_area: np.ndarray | float,
    max_area: np.ndarray | float,
    budget: np.ndarray | float,
    need_uses: np.ndarray | int,
    needed_from: np.ndarray | int,
    need_accessible: np.ndarray | bool,
) -> np.ndarray:
    """Shared use, size limits, price limit, available in time, step-free if required.

    Status is checked by the caller (the R-tree holds only available properties).
    """
    import numpy as np

    ok: npt.NDArray[np.bool_] = (uses & need_uses) != 0
    ok &= area >= 0.5 * min_area
    ok &= area <= 2.0 * max_area
    ok &= rent <= 1.5 * budget
    ok &= avail_from <= needed_from + AVAILABLE_WITHIN_DAYS
    ok &= accessible | ~np.asarray(need_accessible, dtype=bool)
    return ok


def meanwhile_ok(
    avail_from: np.ndarray,
    avail_until: np.ndarray,
    needed_from: np.ndarray | int,
    min_months: np.ndarray | int,
) -> np.ndarray:
    """Permanent space passes; meanwhile space must last ``min_months`` from the start of use."""
    import numpy as np

    start = np.maximum(needed_from, avail_from)
    ok: npt.NDArray[np.bool_] = (avail_until >= PERMANENT) | (
        avail_until + 1 >= add_months(start, min_months)
    )
    return ok


def size_score(
    area: np.ndarray, min_area: np.ndarray | float, max_area: np.ndarray | float
) -> np.ndarray:
    """1 inside [min, max]; linear to 0 at 0.5 x min below and 2 x max above.

    The minimum of the two ramps is exactly >= 1 inside the range (float subtraction and
    division are monotone), so one expression covers all three cases.
    """
    import numpy as np

    area = np.asarray(area, dtype=float)
    below = (area - 0.5 * min_area) / np.maximum(0.5 * min_area, _TINY)
    above = (2.0 * max_area - area) / np.maximum(max_area, _TINY)
    return np.clip(np.minimum(below, above), 0.0, 1.0)


def price_score(rent: np.ndarray, budget: np.ndarray | float) -> np.ndarray:
    """1 within budget; linear to 0 at 1.5 x budget."""
    import numpy as np

    rent = np.asarray(rent, dtype=float)
    over = (1.5 * budget - rent) / np.maximum(0.5 * budget, _TINY)
    return np.where(rent <= budget, 1.0, np.clip(over, 0.0, 1.0))


def place_scores(
    kind: np.ndarray,
    within_point: np.ndarray | None,
    near_distance: np.ndarray | None,
    max_distance: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Place kind and score, from the buurt's kind (``PREFERRED``, ``ADJACENT`` or ``EXCLUDED``).

    Precedence: preferred, within the point's distance, adjacent, near a preferred area.
    ``near_distance`` is the distance to the preferred areas for tolerance needs (NaN where not
    measured: NaN compares false). ``EXCLUDED`` is left where no rule admits the property.
    """
    import numpy as np

    kind = np.array(kind, dtype=np.int8)
    if within_point is not None:
        kind[within_point & (kind != PREFERRED)] = POINT
    near = None
    if near_distance is not None:
        near = (kind == EXCLUDED) & (near_distance <= max_distance)
        kind[near] = NEAR
    score = np.array(_KIND_SCORES)[kind]
    if near is not None and near_distance is not None and near.any():
        dmax = np.broadcast_to(max_distance, near.shape)[near]
        score[near] = np.clip(0.5 * (1.0 - near_distance[near] / np.maximum(dmax, _TINY)), 0.0, 0.5)
    return kind, score


def total_score(
    weights: np.ndarray, size: np.ndarray, price: np.ndarray, place: np.ndarray
) -> np.ndarray:
    """Weighted mean, rounded so that ties are exact."""
    import numpy as np

    total: npt.NDArray[np.float64] = np.round(
        weights[0] * size + weights[1] * price + weights[2] * place, SCORE_DECIMALS
    )
    return total


def monthly_rent(rent_eur_m2_year: np.ndarray | float, area_m2: np.ndarray | float) -> np.ndarray:
    import numpy as np

    rent: npt.NDArray[np.float64] = (
        np.asarray(rent_eur_m2_year, dtype=float) * np.asarray(area_m2, dtype=float) / 12.0
    )
    return rent


def clean(value: float) -> float:
    """A score as plain JSON-able float (no -0.0, no numpy types)."""
    value = float(value)
    return 0.0 if value == 0 or math.isnan(value) else value
