"""Every folium call lives in this package. Functions return folium objects; the views render them.

Leaflet and our own layer script are served by the app itself (``asset_base``), never by a CDN,
so the maps work in a municipal network that blocks CDNs. Only basemap tiles come from a tile
server, and the map still works when they fail to load.

``base`` holds the shared building blocks (config, base map and tiles, overlay and legend
elements); each other module builds the maps of one part of the app: ``overview`` (the public
overview), ``need`` (a need's fits), ``planner`` (the monitor) and ``officer``.

The package loads lazily: ``from spacematch import maps`` costs nothing, and folium (with pandas)
is imported when a view first builds a map, so the command line and start-up stay quick.
"""

from __future__ import annotations

import importlib
from typing import Any

# Which module defines each public name.
_WHERE = {
    "AMSTERDAM_CENTER": "config",
    "AREA_CREDIT": "config",
    "BALANCE_CLASSES": "overview",
    "CHOROPLETH_CLASSES": "planner",
    "ChoroplethSwitch": "planner",
    "LAYER_COLORS": "overview",
    "Legend": "base",
    "MapConfig": "config",
    "NO_DATA_COLOR": "planner",
    "RemoteGeoJson": "base",
    "RemoteOverlayControl": "base",
    "base_map": "base",
    "class_color": "planner",
    "fills": "planner",
    "fits_map": "need",
    "officer_properties_map": "officer",
    "overview_map": "overview",
    "property_map": "officer",
    "supply_demand_map": "planner",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """PEP 562: import the defining module on first use of one of its names."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
