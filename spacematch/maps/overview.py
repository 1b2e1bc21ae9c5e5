"""The public overview map: buurt boundaries, the demand-against-supply choropleth and one
overlay per property layer."""

from __future__ import annotations

import folium

from spacematch.maps.base import (
    Legend,
    MapConfig,
    RemoteGeoJson,
    RemoteOverlayControl,
    base_map,
)

LAYER_COLORS = ("#d7191c", "#2b83ba", "#1a9641", "#7b3294", "#e66101", "#008837", "#404040")

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
