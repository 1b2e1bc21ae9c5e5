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


# Open demand against available supply per buurt: available m² minus m² asked.
BALANCE_CLASSES: tuple[tuple[float | None, str], ...] = (
    (None, "#ca0020"), (-250.0, "#f4a582"), (-25.0, "#f7f7f7"), (25.0, "#92c5de"),
    (250.0, "#0571b0"),
)  # fmt: skip


def overview_map(
    config: MapConfig,
    *,
    layers: list[tuple[str, str]],
    properties_url: str,
    areas_url: str,
    balance_url: str | None = None,
    property_link: str | None,
    labels: dict[str, str],
) -> folium.Map:
    """Buurt boundaries, a demand-against-supply choropleth, and one overlay per property layer
    (clustered server-side when a view holds many)."""
    m = base_map(config)
    overlays = [
        RemoteGeoJson(
            areas_url,
            name=labels["buurten"],
            key="buurten",
            bbox=False,
            tooltip_field="name",
            style={"color": "#555555", "weight": 1, "fill": False, "interactive": True},
        )
    ]
    if balance_url:
        overlays.append(RemoteGeoJson(
            balance_url, name=labels["balance"], key="balance", tooltip_field="name",
            style={"color": "#666666", "weight": 0.5, "fillOpacity": 0.6},
            classes=BALANCE_CLASSES, class_field="balance_m2", show=False,
            fields=[(k, labels[k])
                    for k in ("available_m2", "m2_asked", "balance_m2", "open_needs")],
        ))  # fmt: skip
        names = ("shortage_large", "shortage", "even", "surplus", "surplus_large")
        rows = [
            (labels[name], colour) for name, (_, colour) in zip(names, BALANCE_CLASSES, strict=True)
        ]
        Legend(labels["balance"], rows).add_to(m)
    for i, (slug, title) in enumerate(layers):
        color = LAYER_COLORS[i % len(LAYER_COLORS)]
        sep = "&" if "?" in properties_url else "?"
        overlays.append(RemoteGeoJson(
            f"{properties_url}{sep}layer={slug}&status=beschikbaar", name=title, key=slug,
            bbox=True,
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


def fits_map(
    config: MapConfig,
    *,
    areas: dict,
    fits: dict,
    point: dict | None,
    labels: dict[str, str],
    property_link: str | None = None,
) -> folium.Map:
    """One need's fits, numbered and coloured by score, with its preferred areas outlined.

    Small enough to embed (at most a few dozen features); popups still use textContent.
    """
    m = base_map(config)
    overlays = [
        RemoteGeoJson(None, name=labels["areas"], key="areas", data=areas, tooltip_field="name",
                      style={"color": "#0050a0", "weight": 2, "dashArray": "4 4",
                             "fillOpacity": 0.05}, fit=not fits["features"]),
        RemoteGeoJson(None, name=labels["fits"], key="fits", data=fits, tooltip_field="label",
                      color_by="score", link_template=property_link, fit=bool(fits["features"]),
                      style={"radius": 8, "weight": 2, "fillOpacity": 0.85},
                      fields=[(k, labels[k]) for k in ("score_text", "address", "area_m2",
                                                       "rent_eur_month", "uses", "reasons")]),
    ]  # fmt: skip
    if point is not None:
        overlays.append(
            RemoteGeoJson(
                None,
                name=labels["point"],
                key="point",
                data=point,
                style={"radius": 6, "color": "#000", "fillOpacity": 1},
            )
        )
    for overlay in overlays:
        overlay.add_to(m)
    RemoteOverlayControl(overlays).add_to(m)
    return m


# -- planner monitor: supply and demand per buurt ------------------------------------------------

NO_DATA_COLOR = "#cccccc"
# Class breaks (lower bounds, ascending) and ColorBrewer colours per monitor figure.
CHOROPLETH_CLASSES: dict[str, tuple[tuple[float, str], ...]] = {
    "available_m2": ((0, "#f7f7f7"), (1, "#c7e9c0"), (250, "#74c476"), (1000, "#31a354"),
                     (2500, "#006d2c")),
    "m2_asked": ((0, "#f7f7f7"), (1, "#fdd49e"), (25, "#fdbb84"), (100, "#e34a33"),
                 (250, "#b30000")),
    "balance_m2": ((float("-inf"), "#ca0020"), (-250, "#f4a582"), (-25, "#f7f7f7"), (25, "#92c5de"),
                   (250, "#0571b0")),
    "matched_share": ((0, "#d7191c"), (0.25, "#fdae61"), (0.5, "#ffffbf"), (0.75, "#a6d96a"),
                      (1.0, "#1a9641")),
}  # fmt: skip


def class_color(value: float | None, classes: tuple[tuple[float, str], ...]) -> str:
    """The colour of the highest class whose lower bound the value reaches; grey for no value."""
    if value is None:
        return NO_DATA_COLOR
    color = NO_DATA_COLOR
    for lower, fill in classes:
        if value >= lower:
            color = fill
    return color


class ChoroplethSwitch(MacroElement):
    """Buurt polygons embedded once, restyled by whichever figure the radio buttons pick.

    One layer instead of one folium.GeoJson per figure keeps the page small (the polygons are
    the bulk); tooltips are built with textContent, never parsed as HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var views = {{ this.views|tojson }};
            var fields = {{ this.fields|tojson }};
            var current = 0;
            var layer = L.geoJSON({{ this.data|tojson }}, {
                style: function (f) {
                    return {fillColor: views[current].colors[f.id] || {{ this.no_data|tojson }},
                            color: "#666666", weight: 0.5, fillOpacity: 0.75};
                },
                onEachFeature: function (f, l) {
                    l.bindTooltip(function () {
                        var div = document.createElement("div");
                        fields.forEach(function (pair) {
                            var line = document.createElement("div");
                            var v = f.properties[pair[0]];
                            var text = v === null || v === undefined ? "\u2013" : v;
                            line.textContent = pair[1] + ": " + text;
                            div.appendChild(line);
                        });
                        return div;
                    }, {sticky: true});
                }
            }).addTo(map);
            var bases = {};
            views.forEach(function (view, i) {
                var group = L.layerGroup();
                group.on("add", function () { current = i; layer.setStyle(layer.options.style); });
                bases[view.title] = group;
                if (i === 0) { group.addTo(map); }
            });
            L.control.layers(bases, null, {collapsed: false}).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, *, views: list[dict], fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "ChoroplethSwitch"
        self.data, self.views, self.fields, self.no_data = data, views, fields, NO_DATA_COLOR


def supply_demand_map(
    config: MapConfig, *, buurten: dict, values: dict[str, dict[str, float | None]],
    layers: list[tuple[str, str]], tooltip: list[tuple[str, str]],
) -> folium.Map:  # fmt: skip
    """A choropleth per monitor figure over the buurten; radio buttons pick the one shown.

    ``buurten``: an RFC 7946 FeatureCollection (simplified polygons, feature id = buurt code,
    properties = the tooltip texts); ``values``: per figure, the number per buurt code. No
    colormap legend on the map (branca's loads d3 from a CDN): the page draws one from
    ``CHOROPLETH_CLASSES``.
    """
    m = base_map(config, zoom_start=11)
    views = [
        {"title": title, "colors": {code: class_color(v, CHOROPLETH_CLASSES[field])
                                    for code, v in values[field].items()}}
        for field, title in layers
    ]  # fmt: skip
    ChoroplethSwitch(buurten, views=views, fields=tooltip).add_to(m)
    return m


# -- vastgoed officer: the filtered property list and one property with its candidates -----------


def officer_properties_map(
    config: MapConfig,
    *,
    properties_url: str,
    property_link: str,
    labels: dict[str, str],
    bounds: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """The officer's filtered properties, fetched by bounding box from ``properties_url``.

    ``properties_url`` carries the very query string the officer's table was filtered with, so
    the map and the table show the same properties. ``bounds`` (WGS84 minlon, minlat, maxlon,
    maxlat), e.g. of the filtered area, sets the first view.
    """
    m = base_map(config)
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    fields = ("address", "status", "area_m2", "rent_eur_month", "uses")
    fields += ("available_from", "available_until", "buurt_name")
    overlay = RemoteGeoJson(
        properties_url,
        name=labels["properties"],
        key="properties",
        bbox=True,
        tooltip_field="name",
        link_template=property_link,
        style={"radius": 5, "color": "#2b83ba", "fillColor": "#2b83ba", "fillOpacity": 0.7},
        fields=[(k, labels[k]) for k in fields],
    )
    overlay.add_to(m)
    RemoteOverlayControl([overlay]).add_to(m)
    return m


def property_map(
    config: MapConfig, *, property_fc: dict, candidates_fc: dict, labels: dict[str, str]
) -> folium.Map:
    """One property (highlighted) and its candidate needs, coloured by score: a need's point
    when it gave one, else the outline of its preferred areas. The view fits the candidates
    (which lie around the property), or the property alone when it has none.

    Both collections are embedded (a few dozen features at most); popups use textContent.
    """
    m = base_map(config, zoom_start=15)
    candidates = RemoteGeoJson(
        None,
        name=labels["candidates"],
        key="candidates",
        data=candidates_fc,
        tooltip_field="label",
        color_by="score",
        fit=bool(candidates_fc["features"]),
        style={"radius": 7, "weight": 2, "fillOpacity": 0.15, "dashArray": "4 4"},
        fields=[(k, labels[k]) for k in ("score_text", "priority_text", "legal_form", "reasons")],
    )
    prop = RemoteGeoJson(
        None,
        name=labels["property"],
        key="property",
        data=property_fc,
        tooltip_field="name",
        fit=not candidates_fc["features"],
        fields=[(k, labels[k]) for k in ("address", "area_m2", "status")],
        style={"radius": 9, "color": "#000000", "fillColor": "#ffd400", "fillOpacity": 0.9},
    )
    for overlay in (candidates, prop):
        overlay.add_to(m)
    RemoteOverlayControl([prop, candidates]).add_to(m)
    return m
