"""Generate spacematch's demo property layers and demo needs under ``layers/demo/``.

Every property and need written here is invented: none is a real vacancy or a real initiative.
Only the buurt polygons they are placed in are real (Bron: Gemeente Amsterdam). The output is
seeded and deterministic: the same seed gives byte-identical files.

    .venv/bin/python scripts/make_demo_data.py [--seed 2026] [--out layers/demo]
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from spacematch.domain.areas import ATTRIBUTION, read_shipped_areas  # noqa: E402
from spacematch.models import USES  # noqa: E402

# fmt: off
STADSDELEN = {"A": "Centrum", "B": "Westpoort", "E": "West", "F": "Nieuw-West", "K": "Zuid",
              "M": "Oost", "N": "Noord", "S": "Weesp", "T": "Zuidoost"}
# Rent level per stadsdeel relative to the city average: Centrum and Zuid highest.
RENT_LEVEL = {"A": 1.45, "K": 1.3, "E": 1.15, "M": 1.05, "B": 0.85, "F": 0.8, "N": 0.8,
              "T": 0.75, "S": 0.75}
# fmt: on
CRS_RD = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
DEMO_NL = "Gegenereerde demodata: dit zijn geen echte leegstaande panden of kavels."
DEMO_EN = "Generated demo data: these are not real vacancies."
NEEDS_NL = "Gegenereerde demodata: dit zijn geen echte initiatieven of personen."
NEEDS_EN = "Generated demo data: these are not real initiatives or people."
INDUSTRIAL = re.compile(r"bedrijven|haven|terrein|vervoerscentrum|driehoek|hemknoop", re.I)
GREEN = re.compile(r"park(-|$)|bos$|polder$|^landelijk|^sportpark|^park ", re.I)
FIRST_DAY, LAST_DAY = dt.date(2026, 9, 1), dt.date(2027, 12, 31)  # available_from
NEEDED_FROM = dt.date(2026, 12, 1), dt.date(2027, 9, 30)


@dataclass(frozen=True)
class LayerSpec:
    """How one demo property layer is made."""

    slug: str
    prefix: str
    share: float  # of all properties
    weights: tuple[float, ...]  # per stadsdeel, in the order of STADSDELEN
    base_rent: float  # EUR/m2/year at rent level 1.0
    rent_range: tuple[float, float]
    tijdelijk: float  # share of meanwhile spaces
    accessible: float
    department: str  # {sd}: the stadsdeel's name
    contact: str  # a team mailbox, never a person


# fmt: off
LAYERS = (  # weights per stadsdeel:  A   B    E   F   K   M   N   S  T
    LayerSpec("bedrijfsruimte", "BDR", 0.40, (13, 11, 12, 12, 13, 12, 12, 4, 11),
              165, (60, 420), 0.25, 0.60, "Stadsdeel {sd} – Bedrijfsruimte",
              "bedrijfsruimte-{sd_slug}-demo@example.org"),
    LayerSpec("maatschappelijk", "MAV", 0.23, (10, 0.5, 13, 17, 13, 14, 14, 5, 13),
              95, (45, 200), 0.22, 0.75, "Vastgoed – Maatschappelijk Vastgoed",
              "maatschappelijk-vastgoed-demo@example.org"),
    LayerSpec("ateliers", "ATL", 0.22, (9, 3, 14, 12, 8, 13, 20, 4, 15),
              70, (40, 110), 0.30, 0.40, "Broedplaatsen (Kunst & Cultuur)",
              "broedplaatsen-demo@example.org"),
    LayerSpec("kavels", "KAV", 0.15, (1, 25, 3, 18, 4, 8, 22, 9, 10),
              12, (5, 25), 0.40, 0.65, "Directie Grond en Ontwikkeling",
              "grondzaken-demo@example.org"),
)
WESTPOORT_BDR = ("Directie Grond en Ontwikkeling – Bedrijventerreinen",
                 "bedrijventerreinen-demo@example.org")
KINDS = {"maatschappelijk": "maatschappelijke ruimte", "ateliers": "atelier", "kavels": "kavel"}
BDR_USES = {  # primary-use weights: kantoor, werkplaats, winkel, horeca, opslag
    "A": (0.35, 0.08, 0.32, 0.17, 0.08),
    "B": (0.15, 0.40, 0.02, 0.03, 0.40),
    "*": (0.35, 0.20, 0.20, 0.08, 0.17),
}
BDR_NAMES = {"kantoor": "kantoorruimte", "werkplaats": "werkplaats", "winkel": "winkelruimte",
             "horeca": "horecaruimte", "opslag": "opslagruimte"}
# fmt: on


class Areas:
    """The real buurten, with lookups for codes, names and sampling weights."""

    def __init__(self) -> None:
        records = read_shipped_areas()
        self.names = {r["code"]: r["name"] for r in records}
        buurten = sorted((r for r in records if r["level"] == "buurt"), key=lambda r: r["code"])
        self.codes = [r["code"] for r in buurten]
        self.geoms = {r["code"]: shapely.from_wkb(r["geom"]) for r in buurten}
        self.tree = shapely.STRtree([self.geoms[c] for c in self.codes])
        self.area = np.array([self.geoms[c].area for c in self.codes])
        self._inner: dict[tuple[str, float], shapely.Geometry] = {}

    def inner(self, code: str, margin: float) -> shapely.Geometry:
        """The buurt shrunk by ``margin`` metres, so rounded output stays strictly inside."""
        key = (code, margin)
        if key not in self._inner:
            geom = self.geoms[code].buffer(-margin)
            big_enough = geom.area > 0.05 * self.geoms[code].area
            self._inner[key] = geom if big_enough else self.geoms[code]
            shapely.prepare(self._inner[key])
        return self._inner[key]

    def weights(self, per_sd: tuple[float, ...], industrial: float, green: float) -> np.ndarray:
        """Probability of each buurt: stadsdeel weight, split by a damped buurt area."""
        raw = self.area**0.35
        raw *= [industrial if INDUSTRIAL.search(self.names[c]) else 1.0 for c in self.codes]
        raw *= [green if GREEN.search(self.names[c]) else 1.0 for c in self.codes]
        p = np.zeros(len(self.codes))
        for sd, w in zip(STADSDELEN, per_sd, strict=True):
            mask = np.array([c[0] == sd for c in self.codes])
            p[mask] = w * raw[mask] / raw[mask].sum()
        return p / p.sum()

    def draw(self, rng: np.random.Generator, p: np.ndarray, n: int) -> list[int]:
        """``n`` buurt indices: counts per stadsdeel fixed by ``p``, buurten drawn within each."""
        sds = np.array([c[0] for c in self.codes])
        quota = {sd: n * p[sds == sd].sum() for sd in STADSDELEN}
        counts = {sd: int(q) for sd, q in quota.items()}
        for sd in sorted(quota, key=lambda k: counts[k] - quota[k])[: n - sum(counts.values())]:
            counts[sd] += 1  # largest remainders first
        drawn: list[int] = []
        for sd, k in counts.items():
            idx = np.flatnonzero(sds == sd)
            drawn += [int(i) for i in rng.choice(idx, size=k, p=p[idx] / p[idx].sum())]
        return sorted(drawn)

    def only_in(self, geom: shapely.Geometry, code: str) -> bool:
        """True when ``geom`` lies strictly inside buurt ``code`` and touches no other buurt."""
        hits = self.tree.query(geom, predicate="intersects")
        return [self.codes[i] for i in hits] == [code] and self.geoms[code].contains_properly(geom)


def random_point(
    rng: np.random.Generator, areas: Areas, code: str, margin: float = 5.0
) -> list[float]:
    """A uniform random point inside a buurt, rounded to 1 cm."""
    inner = areas.inner(code, margin)
    minx, miny, maxx, maxy = inner.bounds
    while True:
        xs, ys = rng.uniform(minx, maxx, 64), rng.uniform(miny, maxy, 64)
        inside = np.flatnonzero(shapely.contains_xy(inner, xs, ys))
        for i in inside:
            x, y = round(float(xs[i]), 2), round(float(ys[i]), 2)
            if areas.only_in(shapely.Point(x, y), code):
                return [x, y]


def random_plot(
    rng: np.random.Generator, areas: Areas, code: str, placed: list[shapely.Geometry]
) -> shapely.Polygon:
    """A rotated, slightly irregular quadrilateral plot of 200-5,000 m2 inside one buurt."""
    target = float(np.exp(rng.uniform(np.log(200), np.log(5000))))
    for attempt in range(400):
        if attempt and attempt % 40 == 0:
            target = max(200.0, target * 0.7)
        aspect = rng.uniform(1.0, 3.0)
        w, h = np.sqrt(target * aspect), np.sqrt(target / aspect)
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        corners += rng.uniform(-0.08, 0.08, (4, 2)) * min(w, h)
        angle = rng.uniform(0, np.pi)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        cx, cy = random_point(rng, areas, code, margin=2.0)
        coords = np.round(corners @ rot.T + [cx, cy], 1)
        poly = orient(shapely.Polygon(coords), sign=1.0)
        if (
            poly.is_valid
            and 200 <= poly.area <= 5000
            and areas.only_in(poly, code)
            and not any(poly.intersects(p) for p in placed)
        ):
            return poly
    raise RuntimeError(f"no room for a plot in buurt {code}")


def truncated_lognormal(
    rng: np.random.Generator, median: float, sigma: float, lo: float, hi: float
) -> float:
    """A log-normal draw, redrawn until it lies within [lo, hi]."""
    while True:
        value = float(rng.lognormal(np.log(median), sigma))
        if lo <= value <= hi:
            return value


def random_date(
    rng: np.random.Generator, first: dt.date, last: dt.date, skew: float = 1.0
) -> dt.date:
    """A date in [first, last], earlier ones likelier when ``skew`` > 1; most often the first of
    a month, as leases usually start."""
    days = int(rng.random() ** skew * ((last - first).days + 1))
    day = first + dt.timedelta(days=min(days, (last - first).days))
    if rng.random() < 0.65:
        day = day.replace(day=1)
    return max(day, first)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the end of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def slug(text: str) -> str:
    """An ASCII slug for mailbox names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def make_properties(
    rng: np.random.Generator, areas: Areas, total: int
) -> tuple[dict[str, list[dict]], dict[str, Counter[str]]]:
    """All demo property layers (GeoJSON features by layer slug) and their counts per stadsdeel."""
    counts = [round(total * spec.share) for spec in LAYERS]
    counts[0] += total - sum(counts)
    layers: dict[str, list[dict]] = {}
    tally: dict[str, Counter[str]] = {}
    for spec, n in zip(LAYERS, counts, strict=True):
        plots = spec.slug == "kavels"
        industrial = 0.5 if spec.slug == "maatschappelijk" else 4.0
        p = areas.weights(spec.weights, industrial=industrial, green=1.0 if plots else 0.3)
        drawn = areas.draw(rng, p, n)
        per_buurt: Counter[str] = Counter()
        placed: dict[str, list[shapely.Geometry]] = {}
        features = []
        for number, idx in enumerate(drawn, start=1):
            code = areas.codes[idx]
            per_buurt[code] += 1
            if plots:
                geom = random_plot(rng, areas, code, placed.setdefault(code, []))
                placed[code].append(geom)
                coords = [list(xy) for xy in geom.exterior.coords]
                geometry, plot_area = {"type": "Polygon", "coordinates": [coords]}, geom.area
            else:
                xy = random_point(rng, areas, code)
                geometry, plot_area = {"type": "Point", "coordinates": xy}, 0.0
            props = property_attributes(rng, spec, code[0], plot_area)
            kind = KINDS.get(spec.slug) or BDR_NAMES[props["uses"].split(",")[0]]
            house = f"{int(rng.integers(1, 250))}{rng.choice(['', '', '', 'A', 'B', '-H', '-1'])}"
            props["id"] = f"{spec.prefix}-{number:04d}"
            props["name"] = f"Demo: {kind} {areas.names[code]} {per_buurt[code]}"
            props["address"] = f"{areas.names[code]} {house} (demo)"
            features.append({"type": "Feature", "geometry": geometry, "properties": props})
        layers[spec.slug] = features
        tally[spec.slug] = Counter(areas.codes[i][0] for i in drawn)
    return layers, tally


def property_attributes(rng: np.random.Generator, spec: LayerSpec, sd: str, area: float) -> dict:
    """Size (``area`` for plots), rent, uses, dates, access, status and owner of one property."""
    tijdelijk = rng.random() < spec.tijdelijk
    if spec.slug == "ateliers":
        area = rng.triangular(20, 32, 60)
        uses = ["atelier"] + (["werkplaats"] * (rng.random() < 0.25))
    elif spec.slug == "maatschappelijk":
        area = truncated_lognormal(rng, 220, 0.6, 80, 800)
        uses = ["maatschappelijk"] + (["kantoor"] * (rng.random() < 0.3))
    elif spec.slug == "kavels":
        uses = ["grond"]
    else:
        area = truncated_lognormal(rng, 170, 0.75, 50, 1500)
        names, w = list(BDR_NAMES), np.array(BDR_USES.get(sd, BDR_USES["*"]))
        first = int(rng.choice(len(names), p=w))
        uses = [names[first]]
        if rng.random() < 0.3:
            w[first] = 0
            uses.append(names[int(rng.choice(len(names), p=w / w.sum()))])
    uses = sorted(set(uses), key=USES.index)
    lo, hi = spec.rent_range
    rent = float(np.clip(spec.base_rent * RENT_LEVEL[sd] * rng.lognormal(0, 0.2), lo, hi))
    rent = round(rent * 2) / 2 if spec.slug == "kavels" else float(round(rent))
    if tijdelijk and spec.slug != "ateliers" and rng.random() < 0.15:
        rent = 0.0  # free meanwhile use (bruikleen)
    start = random_date(rng, FIRST_DAY, LAST_DAY, skew=1.5)  # most vacancies come free soon
    until = add_months(start, int(rng.integers(6, 61))) if tijdelijk else None
    department, contact = spec.department, spec.contact
    if spec.slug == "bedrijfsruimte" and sd == "B":  # no stadsdeel office runs the port area
        department, contact = WESTPOORT_BDR
    fill = {"sd": STADSDELEN[sd], "sd_slug": slug(STADSDELEN[sd])}
    return {
        "area_m2": round(float(area)), "rent_eur_m2_year": rent, "uses": ",".join(uses),
        "available_from": start.isoformat(), "available_until": until and until.isoformat(),
        "accessible": bool(rng.random() < spec.accessible),
        "status": "in_optie" if rng.random() < 0.04 else "beschikbaar",
        "department": department.format(**fill), "contact": contact.format(**fill),
    }  # fmt: skip


# Needs: sector -> (weight, profiles of (uses, smallest and largest min_area_m2), name templates)
# fmt: off
SECTORS: dict[str, tuple[float, list[tuple[tuple[str, ...], int, int]], list[str]]] = {
    "voedsel": (0.15, [(("winkel",), 40, 150), (("winkel", "opslag"), 60, 200),
                       (("winkel", "horeca"), 60, 180), (("opslag",), 40, 200)],
                ["Voedselcoöperatie {p}", "Buurtkeuken {p}", "Stichting Voedselhub {p}",
                 "Kookcollectief {p}", "Buurtsuper {p}"]),
    "energie": (0.08, [(("kantoor",), 25, 80), (("kantoor", "opslag"), 40, 150),
                       (("grond",), 300, 2000)],
                ["Energiecoöperatie {p}", "Buurtwarmte {p}", "Zonnedakcoöperatie {p}",
                 "Energiewerkplaats {p}"]),
    "zorg": (0.13, [(("maatschappelijk",), 80, 250), (("kantoor", "maatschappelijk"), 60, 200)],
             ["Zorgcoöperatie {p}", "Buurtzorgpunt {p}", "Stichting Huiskamer {p}",
              "Mantelzorgcafé {p}"]),
    "wonen": (0.06, [(("kantoor",), 25, 80), (("maatschappelijk",), 60, 150),
                     (("grond",), 800, 3000)],
              ["Wooncoöperatie {p}", "Bewonersvereniging {p}", "Stichting Woongroep {p}"]),
    "cultuur": (0.18, [(("atelier",), 20, 45), (("atelier", "werkplaats"), 30, 60),
                       (("maatschappelijk",), 100, 300)],
                ["Kunstenaarscollectief {p}", "Stichting Podium {p}", "Muziekwerkplaats {p}",
                 "Theatergroep {p}", "Fotocollectief {p}"]),
    "maken": (0.14, [(("werkplaats",), 60, 250), (("atelier", "werkplaats"), 30, 80),
                     (("werkplaats", "opslag"), 80, 300)],
              ["Repair Café {p}", "Fablab {p}", "Fietsenwerkplaats {p}", "Houtwerkplaats {p}",
               "Naaiatelier {p}"]),
    "sport": (0.07, [(("maatschappelijk",), 150, 500), (("grond",), 500, 3000)],
              ["Sportvereniging {p}", "Buurtsport {p}", "Stichting Skatepark {p}",
               "Boksschool {p}"]),
    "onderwijs": (0.09, [(("maatschappelijk",), 80, 300),
                         (("kantoor", "maatschappelijk"), 60, 200)],
                  ["Huiswerkklas {p}", "Taalhuis {p}", "Stichting Leerwerkplaats {p}",
                   "Codeclub {p}"]),
    "overig": (0.10, [(("kantoor",), 20, 100), (("kantoor", "maatschappelijk"), 60, 200),
                      (("werkplaats", "opslag"), 50, 200)],
               ["Buurtcoöperatie {p}", "Ruilwinkel {p}", "Bibliotheek van Dingen {p}",
                "Stichting Buurtbudget {p}"]),
}
SECTOR_NL = {
    "voedsel": "lokaal, betaalbaar en gezond eten voor de buurt",
    "energie": "de energietransitie in de wijk, met zonnepanelen en energieadvies",
    "zorg": "ontmoeting en zorg dichtbij huis voor ouderen en mantelzorgers",
    "wonen": "betaalbaar en gemeenschappelijk wonen",
    "cultuur": "kunst, muziek en theater gemaakt door en voor buurtbewoners",
    "maken": "repareren, maken en leren werken met hout, metaal en textiel",
    "sport": "laagdrempelig sporten en bewegen voor jong en oud",
    "onderwijs": "taalles, huiswerkbegeleiding en leren voor iedereen",
    "overig": "delen, ruilen en samenwerken in de buurt",
}
# Where initiatives are based: roughly where people live.
NEED_WEIGHTS = (8, 0.5, 14, 16, 14, 13, 12, 3, 11)  # A B E F K M N S T
# The legal form a name implies; otherwise one drawn with these weights.
LEGAL_HINTS = {"coöperatie": "cooperatie", "stichting": "stichting", "vereniging": "vereniging"}
LEGAL_FORMS = {"stichting": 0.3, "vereniging": 0.15, "sociale_onderneming": 0.25, "mkb": 0.1,
               "informeel": 0.2}
MIN_MONTHS = {6: 0.1, 12: 0.25, 18: 0.1, 24: 0.2, 36: 0.15, 60: 0.12, 120: 0.08}
FIRST_NAMES = ("Anouk", "Bram", "Chaima", "Daan", "Emre", "Fatima", "Gijs", "Hanna", "Imane",
               "Joris", "Kofi", "Lotte", "Mohamed", "Noor", "Oscar", "Priya", "Rachid", "Sanne",
               "Tess", "Youssef")
LAST_NAMES = ("de Vries", "Jansen", "Bakker", "El Amrani", "Yılmaz", "Pinas", "Visser", "Smit",
              "Mulder", "de Jong", "Boateng", "Kramer", "van Dijk", "Ouali", "Sewdien", "Hoekstra")
# fmt: on


def pick(rng: np.random.Generator, weights: dict) -> Any:
    """One key of ``weights``, drawn with the (unnormalised) weights as probabilities."""
    keys, p = list(weights), np.array(list(weights.values()), dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def reference_rent(uses: tuple[str, ...], sd: str) -> float:
    """The asking rent (EUR/m2/year) an initiative can expect for the cheapest of its uses."""
    base = {"atelier": 70.0, "grond": 12.0, "maatschappelijk": 95.0}
    return min(base.get(u, 165.0) for u in uses) * RENT_LEVEL[sd]


def need_areas(rng: np.random.Generator, areas: Areas, home: str, p: np.ndarray) -> list[str]:
    """1-3 preferred area codes: the home buurt, wijk or stadsdeel, then mostly nearby ones."""
    level = pick(rng, {"buurt": 0.25, "wijk": 0.5, "stadsdeel": 0.25})
    codes = [{"buurt": home, "wijk": home[:2], "stadsdeel": home[0]}[level]]
    for _ in range(pick(rng, {0: 0.5, 1: 0.35, 2: 0.15})):
        near = p * [c[0] == home[0] for c in areas.codes] if rng.random() < 0.75 else p
        other = areas.codes[int(rng.choice(len(areas.codes), p=near / near.sum()))]
        extra = other if rng.random() < 0.5 else other[:2]
        if not any(extra.startswith(c) or c.startswith(extra) for c in codes):
            codes.append(extra)
    return codes


def make_needs(rng: np.random.Generator, areas: Areas, n: int) -> list[dict]:
    """Demo needs as the JSON API takes them."""
    to_wgs84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    home_p = areas.weights(NEED_WEIGHTS, industrial=0.5, green=0.3)
    taken: set[str] = set()
    needs = []
    for _ in range(n):
        sector = pick(rng, {s: spec[0] for s, spec in SECTORS.items()})
        _, profiles, templates = SECTORS[sector]
        uses, lo, hi = profiles[int(rng.integers(len(profiles)))]
        home = areas.codes[int(rng.choice(len(areas.codes), p=home_p))]
        codes = need_areas(rng, areas, home, home_p)
        place = areas.names[codes[0]]
        for attempt in range(20):
            title = str(rng.choice(templates)).format(p=place) + (f" {attempt}" * (attempt > 4))
            if title not in taken:
                break
        taken.add(title)
        legal_form = next((f for hint, f in LEGAL_HINTS.items() if hint in title.lower()), None)
        min_area = int(round(rng.uniform(lo, hi) / 5) * 5)
        max_area = int(round(min_area * rng.uniform(1.3, 2.2) / 5) * 5)
        factor = rng.uniform(0.15, 0.35) if rng.random() < 0.05 else rng.lognormal(0.05, 0.3)
        budget = reference_rent(uses, home[0]) * (min_area + max_area) / 2 / 12 * factor
        need = {
            "initiative": f"{title} (demo)", "sector": sector,
            "legal_form": legal_form or pick(rng, LEGAL_FORMS),
            "contact_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (demo)",
            "contact_email": f"{slug(title)[:40].strip('-')}@example.org",
            "description": f"{title} werkt aan {SECTOR_NL[sector]} en zoekt {min_area}–{max_area} "
                           f"m² ruimte ({', '.join(uses)}) in of bij {place} (demo-initiatief).",
            "min_area_m2": min_area, "max_area_m2": max_area,
            "max_rent_eur_month": max(50, int(round(budget / 25) * 25)),
            "uses": list(uses), "areas": codes,
            "needed_from": random_date(rng, NEEDED_FROM[0], NEEDED_FROM[1]).isoformat(),
            "min_months": pick(rng, MIN_MONTHS), "accessible": bool(rng.random() < 0.2),
            "status": "open",
        }  # fmt: skip
        if rng.random() < 0.3:
            lon, lat = to_wgs84.transform(*random_point(rng, areas, home, margin=10.0))
            need["point"] = [round(lon, 6), round(lat, 6)]
            need["max_distance_m"] = int(rng.choice([500, 750, 1000, 1500, 2000, 2500, 3000]))
        needs.append(need)
    return needs


def write_json(path: Path, head: dict, key: str, items: list[dict]) -> None:
    """``head`` plus a list under ``key``, one item per line, keys sorted: stable and diffable."""
    lines = ",\n".join(json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items)
    text = json.dumps(head, ensure_ascii=False)[:-1] + f', "{key}": [\n{lines}\n]}}\n'
    path.write_text(text, encoding="utf-8")


def summary(tally: dict[str, Counter[str]]) -> str:
    """Counts per layer and per stadsdeel, as a Markdown table."""
    sds = list(STADSDELEN)
    rows = ["| | " + " | ".join(f"{c} {STADSDELEN[c]}" for c in sds) + " | total |",
            "| --- " * (len(sds) + 2) + "|"]  # fmt: skip
    for label, counts in tally.items():
        cells = " | ".join(str(counts[c]) for c in sds)
        rows.append(f"| {label} | {cells} | {sum(counts.values())} |")
    return "\n".join(rows)


README = """# Demo data / demodata

**Alle records in deze map zijn gegenereerde demodata: het zijn geen echte leegstaande panden,
kavels of initiatieven.** Namen, adressen, huren, data en contactgegevens zijn verzonnen; de
mailadressen eindigen op `@example.org`.

**Every record in this folder is generated demo data: none is a real vacancy, plot or
initiative.** Names, addresses, rents, dates and contacts are invented; mailboxes are at
`@example.org`.

Only the buurt polygons the records are placed in are real (**{attribution}**,
`layers/areas/`): every point lies strictly inside one buurt and every plot entirely inside one.

| file | content |
| --- | --- |
{files}
| `needs.json` | {n_needs} demo needs, as `POST /api/needs` takes them (`point` in WGS84 lon/lat) |

The property layers are GeoJSON in RD New (EPSG:28992, declared in the file) and use the
Property field names of the design, so they import without a mapping.

## Regenerate / opnieuw maken

    .venv/bin/python scripts/make_demo_data.py
    # defaults: --seed {seed} --properties {n_props} --needs {n_needs} --out layers/demo

Seed: **{seed}**. Dezelfde seed geeft byte-identieke bestanden; the same seed gives byte-identical
files, so regenerate only when the generator changes, and commit the script and output together.

## Counts per stadsdeel / aantallen per stadsdeel

Properties by the stadsdeel of their buurt; needs by the stadsdeel of their first preferred area.

{table}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "layers" / "demo",
                        help="output folder (default: layers/demo in the repository)")  # fmt: skip
    parser.add_argument("--properties", type=int, default=1500)
    parser.add_argument("--needs", type=int, default=300)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    areas = Areas()
    layers, tally = make_properties(rng, areas, args.properties)
    needs = make_needs(rng, areas, args.needs)
    args.out.mkdir(parents=True, exist_ok=True)
    made_by = f"(scripts/make_demo_data.py --seed {args.seed})"
    for name, features in layers.items():
        head = {"type": "FeatureCollection", "name": f"spacematch demo: {name}",
                "description": f"{DEMO_NL} {DEMO_EN} {made_by}", "crs": CRS_RD}  # fmt: skip
        write_json(args.out / f"{name}.geojson", head, "features", features)
    description = f"{NEEDS_NL} {NEEDS_EN} {made_by}"
    write_json(args.out / "needs.json", {"description": description}, "needs", needs)
    tally["total"] = sum(tally.values(), Counter())
    tally["needs (first area)"] = Counter(n["areas"][0][0] for n in needs)
    table = summary(tally)
    shape = {s: "polygons" if s == "kavels" else "points" for s in layers}
    files = "\n".join(f"| `{s}.geojson` | {len(f)} {s} ({shape[s]}) |" for s, f in layers.items())
    text = README.format(attribution=ATTRIBUTION, files=files, n_needs=len(needs),
                         seed=args.seed, n_props=args.properties, table=table)  # fmt: skip
    (args.out / "README.md").write_text(text, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
