"""A batch ranking as plain arrays, and the top N per need by one sort on a packed key."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacematch.matching import criteria as crit
from spacematch.matching.columns import NeedColumns
from spacematch.matching.index import MatchIndex
from spacematch.matching.match import Match
from spacematch.matching.need import NeedQuery
from spacematch.matching.scoring import Pairs

_SCORE_STEPS = 10**crit.SCORE_DECIMALS  # totals are multiples of 1e-6 in [0, 1]


@dataclass(frozen=True)
class Ranking:
    """Ranked pairs as plain arrays: the rows of need ``need_ids[i]`` are
    ``offsets[i]:offsets[i + 1]``, best first. ``positions`` index the ``MatchIndex``'s
    property arrays; ``property_ids`` are the ids. Needs without a fit have an empty segment."""

    need_ids: np.ndarray  # (m,) int64, -1 for a need that is not stored
    offsets: np.ndarray  # (m + 1,) int64
    positions: np.ndarray  # (r,) int64
    property_ids: np.ndarray  # (r,) object (str)
    score: np.ndarray  # (r,) float: the total
    size: np.ndarray
    price: np.ndarray
    place: np.ndarray
    kind: np.ndarray  # (r,) int8: criteria.PREFERRED, POINT, ADJACENT, NEAR or ANYWHERE
    needs: tuple[NeedQuery, ...]  # (m,) the needs ranked, in ``need_ids`` order

    def __len__(self) -> int:
        return len(self.need_ids)

    def segment(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def as_lists(self) -> dict[int, list[tuple[str, float]]]:
        """``{need_id: [(property_id, score), ...]}``, best first."""
        ids, scores = self.property_ids.tolist(), self.score.tolist()
        return {
            int(nid): [(ids[r], scores[r]) for r in range(self.offsets[i], self.offsets[i + 1])]
            for i, nid in enumerate(self.need_ids.tolist())
        }

    def matches(self, index: MatchIndex) -> dict[int, list[Match]]:
        """The same rows as ``Match`` objects (reasons rendered on demand), keyed by need id:
        what ``rematch_all`` returns."""
        pos, kind = self.positions.tolist(), self.kind.tolist()
        total, size, price, place = (
            a.tolist() for a in (self.score, self.size, self.price, self.place)
        )
        out: dict[int, list[Match]] = {}
        for i, need in enumerate(self.needs):
            out[int(self.need_ids[i])] = [
                Match(index, need, pos[r], kind[r], total[r], size[r], price[r], place[r])
                for r in range(int(self.offsets[i]), int(self.offsets[i + 1]))
            ]
        return out


def tie_rank(ix: MatchIndex) -> np.ndarray:
    """Each property's place in the tie-break order (earlier availability, then lower id =
    lower position), kept on the index (immutable, so computed once)."""
    rank: np.ndarray | None = ix.__dict__.get("_batch_tie_rank")
    if rank is None:
        order = np.lexsort((np.arange(ix.n), ix.avail_from))
        rank = np.empty(ix.n, dtype=np.int64)
        rank[order] = np.arange(ix.n)
        ix.__dict__["_batch_tie_rank"] = rank
    return rank


def top_rows(ix: MatchIndex, p: Pairs, base: int, span: int, limit: int | None) -> np.ndarray:
    """Row indices of each need's best ``limit`` pairs, grouped by need row and best first.

    One sort on a packed key: need row, score descending, tie-break rank (earlier
    availability, then lower id): the order ``engine._top`` gives need by need. ``base`` and
    ``span``: the need rows lie in [base, base + span)."""
    steps = np.rint(p.total * _SCORE_STEPS).astype(np.int64)
    rank = tie_rank(ix)[p.pos]
    if span * (_SCORE_STEPS + 1) * max(ix.n, 1) < 2**62:
        key = ((p.need - base) * (_SCORE_STEPS + 1) + (_SCORE_STEPS - steps)) * ix.n + rank
        # (need, property) pairs are distinct, so the keys are: any sort gives the same order,
        # and the default one is several times faster than a stable sort.
        order = np.argsort(key)
    else:
        order = np.lexsort((rank, -steps, p.need))
    if limit is None:
        return order
    need = p.need[order]
    start = np.searchsorted(need, need, side="left")  # first row of each row's need
    return order[np.arange(len(order)) - start < limit]


def assemble(ix: MatchIndex, cols: NeedColumns, rows: np.ndarray, parts: list[Pairs]) -> Ranking:
    """The ranking of need rows ``rows`` (ascending) from their winners, given per chunk in row
    order, each chunk grouped by need row and best first."""

    def cat(name: str, dtype: npt.DTypeLike) -> np.ndarray:
        got = [getattr(p, name) for p in parts]
        return np.concatenate(got) if got else np.empty(0, dtype=dtype)

    need = cat("need", np.int64)
    pos = cat("pos", np.int64)
    local = np.full(len(cols.needs), -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    counts = (
        np.bincount(local[need], minlength=len(rows))
        if len(need)
        else np.zeros(len(rows), np.int64)
    )
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Ranking(
        need_ids=cols.ids[rows].astype(np.int64),
        offsets=offsets,
        positions=pos,
        property_ids=ix.ids[pos],
        score=cat("total", float),
        size=cat("size", float),
        price=cat("price", float),
        place=cat("place", float),
        kind=cat("kind", np.int8),
        needs=tuple(cols.needs[i] for i in rows.tolist()),
    )
