"""The map object, not its HTML: assets are the app's own, overlays are there."""

import re

from spacematch.maps import (
    MapConfig,
    RemoteGeoJson,
    RemoteOverlayControl,
    base_map,
    overview_map,
)

CONFIG = MapConfig(tiles_url="https://tiles.example/{z}/{x}/{y}.png", tiles_attribution="T")
LABELS = {
    k: k
    for k in (
        "buurten",
        "address",
        "area_m2",
        "rent_eur_month",
        "uses",
        "available_from",
        "available_until",
        "buurt_name",
        "department",
        "contact",
        "balance",
        "available_m2",
        "m2_asked",
        "balance_m2",
        "open_needs",
        "shortage_large",
        "shortage",
        "even",
        "surplus",
        "surplus_large",
    )
}


def test_base_map_uses_only_local_assets():
    m = base_map(CONFIG)
    urls = [url for _, url in m.default_js + m.default_css]
    assert urls and all(url.startswith("/static/") for url in urls)
    html = m.get_root().render()
    external = {u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if "://" in u}
    assert external == set()


def test_overview_has_one_overlay_per_layer_plus_buurten():
    m = overview_map(
        CONFIG,
        layers=[("ateliers", "Ateliers"), ("kavels", "Kavels")],
        properties_url="/api/properties",
        areas_url="/api/areas.geojson?level=buurt",
        property_link=None,
        labels=LABELS,
    )
    overlays = [c for c in m._children.values() if isinstance(c, RemoteGeoJson)]
    assert [o.layer_name for o in overlays] == ["buurten", "Ateliers", "Kavels"]
    assert overlays[0].options["bbox"] is False
    assert all(o.options["bbox"] for o in overlays[1:])
    assert overlays[1].url == "/api/properties?layer=ateliers&status=beschikbaar"
    controls = [c for c in m._children.values() if isinstance(c, RemoteOverlayControl)]
    assert len(controls) == 1 and controls[0].layers == overlays


def test_overview_has_a_hidden_balance_choropleth_with_a_legend():
    from spacematch.maps import BALANCE_CLASSES, Legend

    m = overview_map(
        CONFIG,
        layers=[("ateliers", "Ateliers")],
        properties_url="/api/p",
        areas_url="/api/a",
        balance_url="/api/sd",
        property_link="/p/__ID__",
        labels=LABELS,
    )
    overlays = {o.options["key"]: o for o in m._children.values() if isinstance(o, RemoteGeoJson)}
    balance = overlays["balance"]
    assert balance.url == "/api/sd" and balance.show is False
    assert balance.options["classField"] == "balance_m2"
    assert balance.options["classes"] == BALANCE_CLASSES
    assert overlays["ateliers"].options["linkTemplate"] == "/p/__ID__"
    legend, points = [c for c in m._children.values() if isinstance(c, Legend)]
    assert [colour for _, colour in legend.rows] == [c for _, c in BALANCE_CLASSES]
    assert legend.layers == [balance]  # shown only while the choropleth is on
    # one row per point layer, tied to it, in colours none of which the choropleth uses
    assert points.layers == [overlays["ateliers"]] and points.shape == "circle"
    assert not {c for _, c in points.rows} & {c for _, c in BALANCE_CLASSES}


def test_property_map_legend_names_the_property_and_the_score_colours_layers_js_draws():
    from pathlib import Path

    from spacematch.maps import Legend, property_map
    from spacematch.maps.officer import SCORE_COLOURS

    empty = {"type": "FeatureCollection", "features": []}
    keys = ("candidates", "property", "score_text", "priority_text", "legal_form", "reasons")
    keys += ("address", "area_m2", "status", "legend", "score_high", "score_mid", "score_low")
    m = property_map(CONFIG, property_fc=empty, candidates_fc=empty, labels={k: k for k in keys})
    (legend,) = [c for c in m._children.values() if isinstance(c, Legend)]
    assert [label for label, _ in legend.rows] == [
        "property",
        "score_high",
        "score_mid",
        "score_low",
    ]
    # The candidates' colours are the map script's own ramp at scores 1, 0.5 and 0.
    js = (Path(__file__).parents[1] / "spacematch/static/spacematch/layers.js").read_text()
    ramp_js = js.split("var RAMP =")[1].split(";")[0]
    ramp = [tuple(map(int, c)) for c in re.findall(r"\[(\d+), (\d+), (\d+)\]", ramp_js)]

    def score_colour(score: float) -> str:
        s = score * (len(ramp) - 1)
        i = min(int(s), len(ramp) - 2)
        t = s - i
        rgb = [int(v + (ramp[i + 1][k] - v) * t + 0.5) for k, v in enumerate(ramp[i])]
        return "#" + "".join(f"{v:02x}" for v in rgb)

    assert [c for _, c in legend.rows[1:]] == [score_colour(s) for s in (1, 0.5, 0)]
    assert dict(SCORE_COLOURS)["high"] == legend.rows[1][1]
    names = [layer.layer_name for layer in legend.layers]
    assert names == ["property", "candidates", "candidates", "candidates"]
