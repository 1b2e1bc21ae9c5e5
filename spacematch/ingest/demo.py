"""Loading the shipped demo layers and demo needs (generated data, never real vacancies)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from spacematch.db import Store
from spacematch.domain.areas import LAYERS_DIR, AreaIndex
from spacematch.domain.needs import create_need, validate_need
from spacematch.ingest.importer import import_layer
from spacematch.models import Need, Property

DEMO_DIR = LAYERS_DIR / "demo"
DEMO_LAYERS = {
    "bedrijfsruimte": "Bedrijfsruimte (demo)",
    "maatschappelijk": "Maatschappelijk vastgoed (demo)",
    "ateliers": "Ateliers en broedplaatsen (demo)",
    "kavels": "Kavels (demo)",
}


def store_is_empty(store: Store) -> bool:
    """No properties and no needs: the only state in which the demo may be loaded."""
    with store.sessions() as session:
        properties = session.scalar(select(func.count()).select_from(Property))
        needs = session.scalar(select(func.count()).select_from(Need))
    return not properties and not needs


def load_demo(store: Store, *, demo_dir: Path = DEMO_DIR, progress: bool = False) -> dict[str, int]:
    """Import the demo property layers and needs; returns counts per layer and of needs."""
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
    counts: dict[str, int] = {}
    for slug, title in DEMO_LAYERS.items():
        result = import_layer(
            store,
            demo_dir / f"{slug}.geojson",
            layer=slug,
            title=title,
            is_demo=True,
            progress=progress,
            areas=areas,
        )
        counts[slug] = result.count
    with open(demo_dir / "needs.json", encoding="utf-8") as fh:
        records = json.load(fh)["needs"]
    # Demo needs carry fixed dates, so they may lie in the past when the demo is loaded later.
    validated = [validate_need(r, areas=areas, allow_past=True) for r in records]
    with store.session() as session:
        for need in validated:
            create_need(session, need, is_demo=True)
    counts["needs"] = len(validated)
    return counts
