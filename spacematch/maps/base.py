"""The shared building blocks of every map: the config, the base map with its tiles, and the
elements our layer script draws (remote or embedded GeoJSON overlays, their control, a legend).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement
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
        style: dict[str, Any],
        bbox: bool = False,
        tooltip_field: str | None = None,
        fields: list[tuple[str, str]] | None = None,
        link_template: str | None = None,
        show: bool = True,
        data: dict[str, Any] | None = None,
        color_by: str | None = None,
        fit: bool = False,
        classes: tuple[tuple[float | None, str], ...] | None = None,
        class_field: str | None = None,
        number_field: str | None = None,
        list_link: str | None = None,
        list_id: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is unannotated
        self._name = "RemoteGeoJson"
        self.layer_name = name
        self.url = url
        self.show = show
        self.options = {
            "key": key, "style": style, "bbox": bbox, "tooltipField": tooltip_field,
            "fields": fields, "linkTemplate": link_template, "data": data, "colorBy": color_by,
            "fit": fit, "classes": classes, "classField": class_field,
            "numberField": number_field, "listLink": list_link,
            "listId": list_id, "layerName": name,
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
        spacematch.placeLayerControl({{ this._parent.get_name() }}, {{ this.get_name() }});
        spacematch.popupsOnTop({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, layers: list[RemoteGeoJson]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is unannotated
        self._name = "RemoteOverlayControl"
        self.layers = layers


# folium's map header forbids pinch zoom (WCAG 1.4.4) and sets html/body to 100 % height with no
# margin, which breaks our page layout: both are removed; base.html has the viewport meta.
_ZOOM_LOCK = re.compile(r"<meta name=\"viewport\"[^>]*>", re.S)
_FULL_PAGE = re.compile(r"<style>\s*html, body \{[^}]*\}\s*</style>", re.S)
_MAP_ID = re.compile(r"<style>\s*#map \{[^}]*\}\s*</style>", re.S)


def page_header(header: str) -> str:
    """folium's map header without the zoom lock and the full-page styles."""
    for pattern in (_ZOOM_LOCK, _FULL_PAGE, _MAP_ID):
        header = pattern.sub("", header)
    return header


class PageMap(folium.Map):
    """A folium Map that lives inside a page: pinch zoom allowed, the page's own layout kept."""

    # folium's Map.render returns None; branca annotates Element.render as returning str.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        super().render(**kwargs)  # type: ignore[no-untyped-call]  # folium's render is unannotated
        header = str(self._template.module.header(self, kwargs))
        # Same name: replaces the header folium just added, in place (the root is the Figure).
        cast(Figure, self.get_root()).header.add_child(
            Element(page_header(header)), name=self.get_name()
        )


def base_map(
    config: MapConfig, *, location: tuple[float, float] = AMSTERDAM_CENTER, zoom_start: int = 12
) -> folium.Map:
    """A folium map of Amsterdam whose scripts and styles all come from the app itself."""
    m = PageMap(
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
    """A legend whose rows are text nodes (no HTML from data), shown below the map.

    ``layers`` ties the legend (one layer) or each row (one per row) to an overlay: a row shows
    only while its layer is on the map, the legend only while any row shows. ``shape`` is
    "square" for areas, "circle" for points.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        spacematch.legend({{ this._parent.get_name() }},
            {{ this.title|tojson }}, {{ this.rows|tojson }}, [
            {%- for layer in this.layers %}{{ layer.get_name() if layer else 'null' }},{% endfor -%}
            ], {{ this.shape|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        rows: list[tuple[str, str]],
        *,
        layers: Sequence[RemoteGeoJson | None] | None = None,
        shape: str = "square",
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is unannotated
        self._name = "Legend"
        self.title, self.rows, self.shape = title, rows, shape
        self.layers = layers or []
