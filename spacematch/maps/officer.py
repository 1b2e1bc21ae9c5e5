"""The vastgoed officer's maps: the filtered property list and one property with its
candidates."""

from __future__ import annotations

from typing import Any

import folium

from spacematch.maps.base import (
    Legend,
    MapConfig,
    RemoteGeoJson,
    RemoteOverlayControl,
    base_map,
)

# layers.js's score ramp (``scoreColor``) at scores 1, 0.5 and 0, for the candidates' legend.
SCORE_COLOURS = (("high", "#440154"), ("mid", "#2e728c"), ("low", "#b5de2b"))


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
    fields: tuple[str, ...] = ("address", "status", "area_m2", "rent_eur_month", "uses")
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
    config: MapConfig,
    *,
    property_fc: dict[str, Any],
    candidates_fc: dict[str, Any],
    labels: dict[str, str],
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
    rows = [(labels["property"], "#ffd400")]
    rows += [(labels[f"score_{k}"], colour) for k, colour in SCORE_COLOURS]
    Legend(labels["legend"], rows, layers=[prop, candidates, candidates, candidates],
           shape="circle").add_to(m)  # fmt: skip
    RemoteOverlayControl([prop, candidates]).add_to(m)
    return m
