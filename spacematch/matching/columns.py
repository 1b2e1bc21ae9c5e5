"""The ranked needs' attributes as columns, one row per need: what the batch path reads.

The index keeps these columns for its open needs; needs that are not stored (or a subset) get
the same columns built from their ``NeedQuery`` and place plans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacematch.matching import criteria as crit
from spacematch.matching.index import EPOCH_ORDINAL, MatchIndex
from spacematch.matching.need import NeedQuery
from spacematch.matching.places import PlacePlan, stack_rects


@dataclass
class NeedColumns:
    """One row per need: limits, uses, dates, place rules, and the place plans themselves."""

    needs: list[NeedQuery]
    plans: list[PlacePlan]
    ids: np.ndarray
    n_min: np.ndarray
    n_max: np.ndarray
    budget: np.ndarray
    uses: np.ndarray
    nf: np.ndarray
    months: np.ndarray
    accessible: np.ndarray
    has_point: np.ndarray
    px: np.ndarray
    py: np.ndarray
    dmax: np.ndarray
    tolerance: np.ndarray  # object: prepared union of the preferred areas, or None
    anywhere: np.ndarray
    code: np.ndarray  # (m, nb + 1) int8 place kind per buurt position
    rects: np.ndarray  # (m, width, 4) window rectangles, padded with empty boxes
    width: np.ndarray  # (m,) rectangles per need

    @property
    def has_tolerance(self) -> np.ndarray:
        """Needs with a distance tolerance around their areas (an object test, done once)."""
        found: np.ndarray | None = self.__dict__.get("_has_tolerance")
        if found is None:
            found = self.__dict__["_has_tolerance"] = np.array(
                [t is not None for t in self.tolerance.tolist()], dtype=bool
            )
        return found


def index_needs(ix: MatchIndex) -> NeedColumns:
    """The index's open needs, in index order (the columns are the index's own arrays)."""
    return NeedColumns(
        ix.needs,
        ix.plans,
        ix.need_ids,
        ix.n_min,
        ix.n_max,
        ix.n_budget,
        ix.n_uses,
        ix.n_from,
        ix.n_months,
        ix.n_accessible,
        ix.n_has_point,
        ix.n_px,
        ix.n_py,
        ix.n_dmax,
        ix.n_tolerance,
        ix.n_anywhere,
        ix.need_code,
        ix.n_rects,
        ix.n_width,
    )


def given_needs(ix: MatchIndex, needs: Sequence[NeedQuery]) -> NeedColumns:
    """Columns for needs given by the caller (stored or not), in the given order."""
    needs = list(needs)
    plans = [ix.plan(n) for n in needs]

    def column(get: Callable[[NeedQuery], object], dtype: npt.DTypeLike) -> np.ndarray:
        return np.array([get(n) for n in needs], dtype=dtype)

    nb1 = ix.lookup.n_buurten + 1
    return NeedColumns(
        needs,
        plans,
        column(lambda n: n.id if n.id is not None else -1, np.int64),
        column(lambda n: n.min_area_m2, float),
        column(lambda n: n.max_area_m2, float),
        column(lambda n: n.max_rent_eur_month, float),
        column(lambda n: crit.uses_mask(n.uses), np.int64),
        column(lambda n: n.needed_from.toordinal() - EPOCH_ORDINAL, np.int64),
        column(lambda n: n.min_months, np.int64),
        column(lambda n: n.accessible, bool),
        np.array([p.has_point for p in plans], dtype=bool),
        np.array([p.px for p in plans], dtype=float),
        np.array([p.py for p in plans], dtype=float),
        np.array([p.max_distance_m for p in plans], dtype=float),
        np.array([p.tolerance for p in plans] + [None], dtype=object)[:-1],
        np.array([p.anywhere for p in plans], dtype=bool),
        np.stack([p.code for p in plans]) if plans else np.zeros((0, nb1), dtype=np.int8),
        *stack_rects(plans),
    )
