"""Numbers, money, areas and dates look the same on every page, in the page's language.

``spacematch.formatting`` is checked against Babel's own formatter (CLDR data, a different code
path), and the need page and the officer's property page are checked to write the same
(need, property) score and the same rent the same way, per language.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from spacematch import formatting, get_store
from spacematch.i18n import gettext, known, translations
from spacematch.models import Need, Property

LANGS = ("nl", "en")
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@settings(max_examples=300, derandomize=True, database=None)
@given(value=finite, decimals=st.integers(0, 3), lang=st.sampled_from(LANGS))
def test_number_is_babels(value, decimals, lang):
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    expected = format_decimal(round(value, decimals) + 0.0, format=pattern, locale=lang)
    assert formatting.number(value, lang, decimals) == expected


@settings(max_examples=200, derandomize=True, database=None)
@given(value=finite, lang=st.sampled_from(LANGS))
def test_decimal_drops_trailing_zeros_like_babel(value, lang):
    expected = format_decimal(round(value, 2) + 0.0, format="#,##0.##", locale=lang)
    assert formatting.decimal(value, lang, 2) == expected


def test_money_area_distance_and_dates_per_language():
    assert formatting.euros(1500, "nl") == "€ 1.500"
    assert formatting.euros(1500, "en") == "€1,500"
    assert formatting.euros(-3.25, "nl", 2) == "€ -3,25"
    assert formatting.euros(-3.25, "en", 2) == "-€3.25"
    assert formatting.euros(-0.001, "nl", 2) == "€ 0,00"  # no "-0"
    assert formatting.area(1250.5, "nl") == "1.250,5 m²"
    assert formatting.area(1250, "en") == "1,250 m²"
    assert formatting.distance(1200, "nl") == "1,2 km" and formatting.distance(3000, "en") == "3 km"
    assert formatting.distance(434, "en") == "430 m"
    day = dt.date(2027, 3, 1)
    assert formatting.date(day, "nl") == format_date(day, "medium", locale="nl")
    assert formatting.date(day, "nl") != formatting.date(day, "en")
    assert formatting.score(1, "nl") == "1,00" and formatting.score(1, "en") == "1.00"


def test_core_catalogue_is_the_pages_catalogue():
    assert known("de") == "nl" and known("en") == "en"
    assert gettext("Dit veld is verplicht.", "en") == "This field is required."
    assert gettext("Dit veld is verplicht.", "nl") == "Dit veld is verplicht."
    assert gettext("Maximaal %(max)s tekens.", "en", max="200") == "At most 200 characters."
    assert translations("en") is translations("en")  # loaded once


def _need_and_shared_fit(app, client) -> tuple[Need, str, float]:
    """An open need, and a property that is both among its fits and among the property's
    candidates (so both pages show the pair's score)."""
    with get_store(app).sessions() as session:
        needs = session.scalars(select(Need).where(Need.status == "open").order_by(Need.id)).all()
    for need in needs:
        fits = client.get(f"/api/needs/{need.id}/matches?limit=3").get_json()["matches"]
        for fit in fits:
            pid = fit["property"]
            candidates = client.get(f"/api/properties/{pid}/candidates?limit=20").get_json()
            if any(c["need"] == need.id for c in candidates["matches"]):
                return need, pid, fit["score"]
    raise AssertionError("the demo has no need and property that rank each other")


@pytest.mark.parametrize("lang", LANGS)
def test_need_page_and_officer_page_write_numbers_the_same_way(seeded_app, client, login, lang):
    login("officer")
    need, pid, score = _need_and_shared_fit(seeded_app, client)
    with get_store(seeded_app).sessions() as session:
        prop = session.get(Property, pid)
        rent = prop.rent_eur_m2_year * prop.area_m2 / 12
    score_text = format_decimal(round(score, 2), format="#,##0.00", locale=lang)
    rent_text = format_decimal(round(rent), format="#,##0", locale=lang)
    need_page = client.get(f"/needs/{need.token}?lang={lang}").get_data(as_text=True)
    fit = need_page[need_page.index(f'data-property="{pid}"') :]
    fit = fit[: fit.index("</li>")]
    assert f"{gettext('score', lang)} {score_text}" in fit
    assert re.search(rf"€\s?{re.escape(rent_text)}\b", fit), (rent_text, fit)
    officer_page = client.get(f"/properties/{pid}?lang={lang}").get_data(as_text=True)
    row = officer_page[officer_page.index(f'<tr data-need="{need.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'<td class="num">{score_text}</td>' in row
    assert re.search(rf"€\s?{re.escape(rent_text)} ", officer_page), rent_text
    # the other language's notation is not used
    other = format_decimal(1234.5, format="#,##0.0", locale="en" if lang == "nl" else "nl")
    assert formatting.number(1234.5, lang, 1) != other
