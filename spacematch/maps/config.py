"""What every map needs to know of the app, without importing folium (so the web side can build
it at start-up while the maps themselves load on first use)."""

from __future__ import annotations

from dataclasses import dataclass

AMSTERDAM_CENTER = (52.3676, 4.9041)
AREA_CREDIT = "Bron: Gemeente Amsterdam"


@dataclass(frozen=True)
class MapConfig:
    tiles_url: str
    tiles_attribution: str
    asset_base: str = "/static"  # where leaflet/ and spacematch/ assets are served
