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

# Point layers: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies),
# none of them the red or blue of the demand/supply choropleth; markers get a dark outline.
LAYER_COLORS = ("#E69F00", "#009E73", "#CC79A7", "#000000", "#F0E442", "#8C564B", "#999999")
POINT_OUTLINE = "#1b1b1b"

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
    balance_legend: Legend | None = None
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
        balance_legend = Legend(labels["balance"], rows, layers=[overlays[-1]])
    points = []
    for i, (slug, title) in enumerate(layers):
        color = LAYER_COLORS[i % len(LAYER_COLORS)]
        sep = "&" if "?" in properties_url else "?"
        points.append(RemoteGeoJson(
            f"{properties_url}{sep}layer={slug}&status=beschikbaar", name=title, key=slug,
            bbox=True, list_id="map-list",
            tooltip_field="name", link_template=property_link,
            style={"radius": 6, "color": POINT_OUTLINE, "fillColor": color, "fillOpacity": 0.9,
                   "weight": 1.5},
            fields=[(k, labels[k]) for k in ("address", "area_m2", "rent_eur_month", "uses",
                                             "available_from", "available_until", "buurt_name",
                                             "department", "contact")],
        ))  # fmt: skip
    overlays.extend(points)
    for overlay in overlays:
        overlay.add_to(m)
    # Set exactly when balance_url is; added after the overlays: its script names their variables.
    if balance_legend is not None:
        balance_legend.add_to(m)
    if points:
        Legend(
            labels.get("properties", ""),
            [(p.layer_name, LAYER_COLORS[i % len(LAYER_COLORS)]) for i, p in enumerate(points)],
            layers=points,
            shape="circle",
        ).add_to(m)
    RemoteOverlayControl(overlays).add_to(m)
    return m
