"""What an import did with each feature of the file: the import report.

Every feature ends in exactly one outcome - ``imported`` (vacant, with a use class: offered and
matched), ``let`` (a contract number: stored with status verhuurd, shown to officers only),
``unknown_kind`` (no use class: stored, not matched until its kind is mapped) or ``skipped`` (a
kind that is not space for initiatives, such as dwellings) - so the outcome counts add up to the
file's features. Where a stored feature lies is counted besides: ``snapped`` (within the snap
distance of a buurt, taken into the nearest one) and ``outside`` (kept "buiten Amsterdam").

The report is kept with the layer (``Layer.report``, JSON) for the officers' report page and CSV;
Flask-free.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads with the import run that made these arrays
    import numpy as np

OUTCOMES = ("imported", "let", "unknown_kind", "skipped")
PLACES = ("inside", "snapped", "outside")
CSV_COLUMNS = ("feature", "id", "outcome", "kind", "place", "distance_m")
# (feature number, source id, outcome, kind, place, distance to the nearest buurt or None)
ReportRow = tuple[int, str, str, str, str, float | None]


@dataclass
class ImportReport:
    """Counts and one row per feature: (feature number, source id, outcome, kind, place,
    distance to the nearest buurt in metres or None)."""

    features: int
    rows: list[ReportRow] = field(default_factory=list)
    unknown_values: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        by_outcome = Counter(r[2] for r in self.rows)
        by_place = Counter(r[4] for r in self.rows if r[2] != "skipped")
        out = {o: by_outcome.get(o, 0) for o in OUTCOMES}
        out["stored"] = out["imported"] + out["let"] + out["unknown_kind"]
        out["snapped"] = by_place.get("snapped", 0)
        out["outside"] = by_place.get("outside", 0)
        return out

    def per_kind(self, outcome: str) -> dict[str, int]:
        """Counts per kind for one outcome (skipped, unknown_kind), most frequent first."""
        counts = Counter(r[3] or "(leeg)" for r in self.rows if r[2] == outcome)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def summary_lines(self) -> list[str]:
        """The report as short English lines for the CLI."""
        c = self.counts
        lines = [
            f"{self.features} features: {c['imported']} offered, {c['let']} let (verhuurd), "
            f"{c['unknown_kind']} of unknown kind, {c['skipped']} skipped",
            f"located: {c['snapped']} snapped to the nearest buurt, "
            f"{c['outside']} outside Amsterdam",
        ]
        for outcome, label in (("skipped", "skipped"), ("unknown_kind", "unknown kind")):
            kinds = self.per_kind(outcome)
            if kinds:
                lines.append(f"{label}: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
        if self.unknown_values:
            shown = ", ".join(f"{k} {n}" for k, n in self.unknown_values.items())
            lines.append(f"unknown use values (map them in [values.uses]): {shown}")
        return lines

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": self.features,
                "rows": self.rows,
                "unknown_values": self.unknown_values,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ImportReport | None:
        if not text:
            return None
        data = json.loads(text)
        rows: list[ReportRow] = [tuple(r) for r in data["rows"]]
        return cls(data["features"], rows, data.get("unknown_values", {}))

    def to_csv(self, rows: list[ReportRow] | None = None) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows if rows is None else rows:
            distance = row[5]
            writer.writerow([*row[:5], "" if distance is None else f"{distance:.1f}"])
        return buffer.getvalue()


def build_report(
    *,
    total: int,
    numbers: np.ndarray,
    skipped_numbers: np.ndarray,
    skipped_ids: np.ndarray,
    skipped_kinds: np.ndarray,
    ids: np.ndarray,
    kinds: np.ndarray,
    status: np.ndarray,
    unknown_kind: np.ndarray,
    place: np.ndarray,
    distance: np.ndarray,
    unknown_values: dict[int, list[str]],
) -> ImportReport:
    """One row per feature in file order, from the import's aligned arrays.

    Built column by column (numpy masks, then one ``zip``), not feature by feature: a whole
    country's file has a million rows."""
    import numpy as np

    n = len(ids)
    unknown = np.fromiter((v is not None for v in unknown_kind), dtype=bool, count=n)
    let = np.asarray(status, dtype=object) == "verhuurd"
    outcome = np.full(n, "imported", dtype=object)
    outcome[unknown] = "unknown_kind"
    outcome[let] = "let"
    kind = [str(k or "") for k in kinds]
    for i in np.flatnonzero(unknown & ~let):
        kind[i] = str(unknown_kind[i])
    dist = np.asarray(distance, dtype=float)
    d: list[float | None] = dist.tolist()
    for i in np.flatnonzero(~np.isfinite(dist)):
        d[i] = None
    rows: list[tuple[int, str, str, str, str, float | None]] = list(
        zip(
            np.asarray(numbers, dtype=np.int64).tolist(),
            [str(v) for v in ids],
            outcome.tolist(),
            kind,
            [str(p) for p in place],
            d,
            strict=True,
        )
    )
    for number, sid, what in zip(skipped_numbers, skipped_ids, skipped_kinds, strict=True):
        rows.append((int(number), "" if sid is None else str(sid), "skipped", str(what), "", None))
    rows.sort(key=lambda r: r[0])
    values: Counter[str] = Counter()
    for items in unknown_values.values():
        values.update(items)
    ordered = dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
    return ImportReport(total, rows, ordered)


def report_of(text: str) -> ImportReport | None:
    """The stored report of a layer (None for layers imported before reports existed)."""
    return ImportReport.from_json(text)


def as_dict(report: ImportReport) -> dict[str, Any]:
    return {"features": report.features, "counts": report.counts}
