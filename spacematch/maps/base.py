"""The shared building blocks of every map: the config, the base map with its tiles, and the
elements our layer script draws (remote or embedded GeoJSON overlays, their control, a legend).
"""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

from spacematch.maps.config import AMSTERDAM_CENTER, AREA_CREDIT, MapConfig

__all__ = ["AMSTERDAM_CENTER", "AREA_CREDIT", "MapConfig"]  # re-exported for the map modules


class RemoteGeoJson(MacroElement):
    """A GeoJSON overlay the browser fetches from the app's API (optionally per bounding box).

    Keeps page HTML small however many features exist, and builds popups with textContent so
    user-written text is never parsed as HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        {%- if this.show %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        spacematch.remoteLayer({{ this._parent.get_name() }}, {{ this.get_name() }},
            {{ this.url|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        url: str | None,
        *,
        name: str,
        key: str,
        style: dict,
        bbox: bool = False,
        tooltip_field: str | None = None,
        fields: list[tuple[str, str]] | None = None,
        link_template: str | None = None,
        show: bool = True,
        data: dict | None = None,
        color_by: str | None = None,
        fit: bool = False,
        classes: tuple[tuple[float | None, str], ...] | None = None,
        class_field: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "RemoteGeoJson"
        self.layer_name = name
        self.url = url
        self.show = show
        self.options = {
            "key": key, "style": style, "bbox": bbox, "tooltipField": tooltip_field,
            "fields": fields, "linkTemplate": link_template, "data": data, "colorBy": color_by,
            "fit": fit, "classes": classes, "classField": class_field,
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
        {% endmacro %}
        """
    )

    def __init__(self, layers: list[RemoteGeoJson]) -> None:
        super().__init__()
        self._name = "RemoteOverlayControl"
        self.layers = layers


def base_map(config: MapConfig, *, location=AMSTERDAM_CENTER, zoom_start: int = 12) -> folium.Map:
    """A folium map of Amsterdam whose scripts and styles all come from the app itself."""
    m = folium.Map(
        location=location, zoom_start=zoom_start, tiles=None, prefer_canvas=True, control_scale=True
    )
    m.default_js = [
        ("leaflet", f"{config.asset_base}/vendor/leaflet/leaflet.js"),
        ("spacematch_layers", f"{config.asset_base}/spacematch/layers.js"),
    ]
    m.default_css = [
        ("leaflet_css", f"{config.asset_base}/vendor/leaflet/leaflet.css"),
        ("spacematch_css", f"{config.asset_base}/spacematch/map.css"),
    ]
    folium.TileLayer(
        tiles=config.tiles_url,
        attr=f"{config.tiles_attribution} | {AREA_CREDIT}",
        name="BRT-Achtergrondkaart",
        max_zoom=19,
        control=False,
    ).add_to(m)
    return m


class Legend(MacroElement):
    """A legend control whose rows are text nodes (no HTML from data)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        spacematch.legend({{ this._parent.get_name() }},
            {{ this.title|tojson }}, {{ this.rows|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        self.title, self.rows = title, rows
