"""Problems found in a layer file, and the error that refuses the file.

Every stage of the layer import (the reader, the size and vertex limits, the mapping, the
attribute checks) reports through :class:`Problems`, so one refusal lists every problem found with
its feature number. The stages share this vocabulary from here rather than import each other.
Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point); Flask-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The Property fields a layer file can feed; problems about them are listed in this order.
FIELDS = (
    "id",
    "name",
    "address",
    "area_m2",
    "rent_eur_m2_year",
    "uses",
    "available_from",
    "available_until",
    "accessible",
    "status",
    "department",
    "contact",
    # Source-only fields: they feed the columns above or the import's policy, never stored as is.
    "kind",  # the unit's kind (vheSoort): skipped kinds, unknown kinds
    "contracts",  # contract numbers: any means the unit is let (status verhuurd)
    "bag_ids",  # BAG verblijfsobject ids (stored, linked from the property page)
    "street",  # address parts, composed into address when the file has no address column
    "house_number",
    "house_letter",
    "house_addition",
    "postcode",
)
_FIELD_ORDER = {
    f: i for i, f in enumerate(("layer", "mapping", "file", "crs", "geometry", *FIELDS))
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer file; ``feature`` is 1-based, None for the whole file."""

    feature: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [f"feature {self.feature}" if self.feature is not None else None, self.field]
        return ": ".join([p for p in parts if p] + [self.message])


class LayerError(Exception):
    """A layer file was refused; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            problems,
            key=lambda p: (p.feature or 0, _FIELD_ORDER.get(p.field or "", 99), p.message),
        )
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems; adding from a boolean mask keeps the checks vectorised."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        # Feature number of each row once skipped features were taken out (None: row + 1).
        self.numbers: np.ndarray | None = None

    def feature(self, row: int) -> int:
        """The 1-based feature number in the file of a 0-based row."""
        return int(self.numbers[row]) if self.numbers is not None else row + 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def file(self, field: str | None, message: str) -> None:
        self.items.append(Problem(None, field, message))

    def mask(
        self, mask: np.ndarray, field: str | None, message: str | Callable[[int], str]
    ) -> None:
        """One problem per True in ``mask``; a callable message gets the 0-based row.

        Only flagged rows are visited, so a clean file costs one vectorised check per rule.
        """
        for i in np.flatnonzero(mask):
            text = message if isinstance(message, str) else message(int(i))
            self.items.append(Problem(self.feature(int(i)), field, text))
