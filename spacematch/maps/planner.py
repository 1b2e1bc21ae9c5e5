"""The planner's monitor: supply and demand per buurt, one choropleth per figure."""

from __future__ import annotations

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
    """Buurt polygons fetched once from the app (``url``), restyled by whichever figure the radio
    buttons pick (``spacematch.choropleth`` in layers.js).

    One layer for every figure, and no features in the page: the server sends each polygon with
    its tooltip texts and its fill colour per figure (``properties.fill``, by ``class_color``);
    tooltips are built with textContent, never parsed as HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        spacematch.choropleth({{ this._parent.get_name() }}, {{ this.url|tojson }},
            {{ this.views|tojson }}, {{ this.fields|tojson }}, {{ this.no_data|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, url: str, *, views: list[dict[str, str]], fields: list[tuple[str, str]]
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is unannotated
        self._name = "ChoroplethSwitch"
        self.url, self.views, self.fields, self.no_data = url, views, fields, NO_DATA_COLOR


def supply_demand_map(
    config: MapConfig, *, url: str, layers: list[tuple[str, str]], tooltip: list[tuple[str, str]]
) -> folium.Map:
    """A choropleth per monitor figure over the buurten; radio buttons pick the one shown.

    ``url`` answers an RFC 7946 FeatureCollection (simplified polygons, feature id = buurt code,
    properties = the tooltip texts and ``fill``: the colour per figure); ``layers`` the figures
    as (field, title), the first shown. No colormap legend on the map (branca's loads d3 from a
    CDN): the page draws one from ``CHOROPLETH_CLASSES``.
    """
    m = base_map(config, zoom_start=11)
    views = [{"field": field, "title": title} for field, title in layers]
    ChoroplethSwitch(url, views=views, fields=tooltip).add_to(m)
    return m


def fills(values: dict[str, float | None]) -> dict[str, str]:
    """One buurt's fill colour per monitor figure, from its values by field."""
    return {field: class_color(values[field], CHOROPLETH_CLASSES[field]) for field in values}
