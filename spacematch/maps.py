"""Every folium call lives here. Functions return folium objects; the views render them.

Leaflet and our own layer script are served by the app itself (``asset_base``), never by a CDN,
so the maps work in a municipal network that blocks CDNs. Only basemap tiles come from a tile
server, and the map still works when they fail to load.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
from branca.element import MacroElement
from jinja2 import Template

AMSTERDAM_CENTER = (52.3676, 4.9041)
AREA_CREDIT = "Bron: Gemeente Amsterdam"
LAYER_COLORS = ("#d7191c", "#2b83ba", "#1a9641", "#7b3294", "#e66101", "#008837", "#404040")


@dataclass(frozen=True)
class MapConfig:
    tiles_url: str
    tiles_attribution: str
    asset_base: str = "/static"  # where leaflet/ and spacematch/ assets are served


class RemoteGeoJson(MacroElement):
    """A GeoJSON overlay the browser fetches from the app's API (optionally per bounding box).

    Keeps page HTML small however many features exist, and builds popups with textContent so
    user-written text is never parsed as HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup().addTo({{ this._parent.get_name() }});
        spacematch.remoteLayer({{ this._parent.get_name() }}, {{ this.get_name() }},
            {{ this.url|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, *, name: str, key: str, style: dict, bbox: bool,
                 tooltip_field: str | None = None, fields: list[tuple[str, str]] | None = None,
                 link_template: str | None = None, show: bool = True) -> None:
        super().__init__()
        self._name = "RemoteGeoJson"
        self.layer_name = name
        self.url = url
        self.show = show
        self.options = {
            "key": key, "style": style, "bbox": bbox, "tooltipField": tooltip_field,
            "fields": fields, "linkTemplate": link_template,
        }  # fmt: skip


class RemoteOverlayControl(MacroElement):
    """A layer control for RemoteGeoJson overlays (folium's LayerControl only knows its own)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control.layers(null, {
            {%- for layer in this.layers %}
            {{ layer.layer_name|tojson }}: {{ layer.get_name() }},
            {%- endfor %}
        }, {collapsed: false}).addTo({{ this._parent.get_name() }});
        {%- for layer in this.layers if not layer.show %}
        {{ this._parent.get_name() }}.removeLayer({{ layer.get_name() }});
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, layers: list[RemoteGeoJson]) -> None:
        super().__init__()
        self._name = "RemoteOverlayControl"
        self.layers = layers


def base_map(config: MapConfig, *, location=AMSTERDAM_CENTER, zoom_start: int = 12) -> folium.Map:
    """A folium map of Amsterdam whose scripts and styles all come from the app itself."""
    m = folium.Map(location=location, zoom_start=zoom_start, tiles=None, prefer_canvas=True,
                   control_scale=True)
    m.default_js = [
        ("leaflet", f"{config.asset_base}/vendor/leaflet/leaflet.js"),
        ("spacematch_layers", f"{config.asset_base}/spacematch/layers.js"),
    ]
    m.default_css = [
        ("leaflet_css", f"{config.asset_base}/vendor/leaflet/leaflet.css"),
        ("spacematch_css", f"{config.asset_base}/spacematch/map.css"),
    ]
    folium.TileLayer(
        tiles=config.tiles_url, attr=f"{config.tiles_attribution} | {AREA_CREDIT}",
        name="BRT-Achtergrondkaart", max_zoom=19, control=False,
    ).add_to(m)
    return m


def overview_map(config: MapConfig, *, layers: list[tuple[str, str]], properties_url: str,
                 areas_url: str, property_link: str | None, labels: dict[str, str]) -> folium.Map:
    """Buurt boundaries and one overlay per property layer, each fetched by bounding box."""
    m = base_map(config)
    overlays = [
        RemoteGeoJson(
            areas_url, name=labels["buurten"], key="buurten", bbox=False, tooltip_field="name",
            style={"color": "#555555", "weight": 1, "fill": False, "interactive": True},
        )
    ]
    for i, (slug, title) in enumerate(layers):
        color = LAYER_COLORS[i % len(LAYER_COLORS)]
        sep = "&" if "?" in properties_url else "?"
        overlays.append(RemoteGeoJson(
            f"{properties_url}{sep}layer={slug}&status=beschikbaar", name=title, key=slug, bbox=True,
            tooltip_field="name", link_template=property_link,
            style={"radius": 5, "color": color, "fillColor": color, "fillOpacity": 0.7,
                   "weight": 1},
            fields=[(k, labels[k]) for k in ("address", "area_m2", "rent_eur_month", "uses",
                                             "available_from", "available_until", "buurt_name",
                                             "department", "contact")],
        ))  # fmt: skip
    for overlay in overlays:
        overlay.add_to(m)
    RemoteOverlayControl(overlays).add_to(m)
    return m
