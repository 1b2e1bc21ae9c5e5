"""Every folium call lives in this package. Functions return folium objects; the views render them.

Leaflet and our own layer script are served by the app itself (``asset_base``), never by a CDN,
so the maps work in a municipal network that blocks CDNs. Only basemap tiles come from a tile
server, and the map still works when they fail to load.

``base`` holds the shared building blocks (config, base map and tiles, overlay and legend
elements); each other module builds the maps of one part of the app: ``overview`` (the public
overview), ``need`` (a need's fits), ``planner`` (the monitor) and ``officer``.
"""

from spacematch.maps.base import (
    AMSTERDAM_CENTER,
    AREA_CREDIT,
    Legend,
    MapConfig,
    RemoteGeoJson,
    RemoteOverlayControl,
    base_map,
)
from spacematch.maps.need import fits_map
from spacematch.maps.officer import officer_properties_map, property_map
from spacematch.maps.overview import BALANCE_CLASSES, LAYER_COLORS, overview_map
from spacematch.maps.planner import (
    CHOROPLETH_CLASSES,
    NO_DATA_COLOR,
    ChoroplethSwitch,
    class_color,
    supply_demand_map,
)

__all__ = [
    "AMSTERDAM_CENTER",
    "AREA_CREDIT",
    "BALANCE_CLASSES",
    "CHOROPLETH_CLASSES",
    "LAYER_COLORS",
    "NO_DATA_COLOR",
    "ChoroplethSwitch",
    "Legend",
    "MapConfig",
    "RemoteGeoJson",
    "RemoteOverlayControl",
    "base_map",
    "class_color",
    "fits_map",
    "officer_properties_map",
    "overview_map",
    "property_map",
    "supply_demand_map",
]
