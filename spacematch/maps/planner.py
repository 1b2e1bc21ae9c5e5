"""The planner's monitor: supply and demand per buurt, one choropleth per figure."""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from spacematch.maps.base import MapConfig, base_map

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

    def __init__(
        self, data: dict[str, Any], *, views: list[dict[str, Any]], fields: list[tuple[str, str]]
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is unannotated
        self._name = "ChoroplethSwitch"
        self.data, self.views, self.fields, self.no_data = data, views, fields, NO_DATA_COLOR


def supply_demand_map(
    config: MapConfig, *, buurten: dict[str, Any], values: dict[str, dict[str, float | None]],
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
