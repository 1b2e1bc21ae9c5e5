"""The map of one need's page: its fits and its preferred areas."""

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


def fits_map(
    config: MapConfig,
    *,
    areas: dict[str, Any],
    fits: dict[str, Any],
    point: dict[str, Any] | None,
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
        # Numbered like the list beside the map (the number, not a colour, tells them apart).
        RemoteGeoJson(None, name=labels["fits"], key="fits", data=fits, tooltip_field="label",
                      number_field="rank", list_link=labels.get("to_list"),
                      link_template=property_link, fit=bool(fits["features"]),
                      style={"radius": 12, "weight": 2, "color": "#ffffff",
                             "fillColor": "#0b4f8a", "fillOpacity": 1},
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
                style={
                    "radius": 7,
                    "color": "#000",
                    "weight": 3,
                    "fillColor": "#ffdd00",
                    "fillOpacity": 1,
                },
            )
        )
    for overlay in overlays:
        overlay.add_to(m)
    rows = [(labels["fits"], "#0b4f8a"), (labels["areas"], "#0050a0")]
    layers = overlays[1::-1][:2]
    if point is not None:
        rows.append((labels["point"], "#ffdd00"))
        layers.append(overlays[2])
    Legend(labels.get("legend", ""), rows, layers=layers, shape="circle").add_to(m)
    RemoteOverlayControl(overlays).add_to(m)
    return m
