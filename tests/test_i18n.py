"""Dutch by default, English on request: the committed English catalogue is complete, compiled,
and covers every msgid in the sources; the pages really switch language.

After adding or changing a string: run ``scripts/i18n.sh``, translate the new entries in
``spacematch/translations/en/LC_MESSAGES/messages.po``, then ``scripts/i18n.sh compile``.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from spacematch import get_store
from spacematch.models import Need

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "spacematch" / "translations" / "en" / "LC_MESSAGES"
PO_PATH = CATALOG_DIR / "messages.po"
MO_PATH = CATALOG_DIR / "messages.mo"
# The same keywords as scripts/i18n.sh: pybabel's defaults plus -k _l -k lazy_gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")
FIX = "run scripts/i18n.sh, translate the new entries in messages.po, then scripts/i18n.sh compile"


def read_catalog():
    with PO_PATH.open("rb") as f:
        return read_po(f)


def msgids(catalog) -> set[str]:
    return {m.id for m in catalog if m.id}


def source_msgids() -> dict[str, str]:
    """Every msgid the sources hold, extracted with babel.cfg as pybabel does; msgid -> file."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, filename)
    return found


# -- the catalogue ----------------------------------------------------------------------------


def test_po_is_complete_and_keeps_placeholders():
    catalog = read_catalog()
    assert len(msgids(catalog)) > 100
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not message.string:
            problems.append(f"untranslated: {message.id!r}")
            continue
        wanted = sorted(PLACEHOLDER.findall(message.id))
        got = sorted(PLACEHOLDER.findall(message.string))
        if sorted(set(wanted)) != sorted(set(got)):
            problems.append(f"placeholders {wanted} -> {got}: {message.id!r}")
    for message, errors in catalog.check():
        problems.extend(f"{error}: {message.id!r}" for error in errors)
    assert not problems, "\n".join(problems)


def test_mo_is_compiled_from_the_current_po():
    fresh = io.BytesIO()
    write_mo(fresh, read_catalog())
    fresh.seek(0)
    with MO_PATH.open("rb") as f:
        committed = gettext.GNUTranslations(f)
    compiled = gettext.GNUTranslations(fresh)
    assert committed._catalog == compiled._catalog, f"messages.mo is stale: {FIX}"


def test_every_source_msgid_is_in_the_po():
    found = source_msgids()
    assert "Inloggen" in found and "Buurtgrenzen" in found  # templates and views both scanned
    missing = sorted(set(found) - msgids(read_catalog()))
    assert not missing, f"{FIX}. Missing:\n" + "\n".join(f"{found[m]}: {m!r}" for m in missing)


# -- the pages --------------------------------------------------------------------------------

PAGES = {
    # path: (English strings that must appear, their Dutch msgids that must not)
    "/": (
        ["Overview map", "Vacant municipal property for the community economy", "Log in"],
        ["Overzichtskaart", "Leegstaand gemeentelijk vastgoed voor", "Inloggen"],
    ),
    "/needs/new": (
        ["What space is your initiative looking for?", "Name of the initiative", "Cooperative",
         "Preferred areas", "Find fitting space"],
        ["Welke ruimte zoekt", "Naam van het initiatief", "Coöperatie", "Zoek passende ruimte"],
    ),
    "/login": (
        ["Log in", "Password", "Email"],
        ["Inloggen", "Wachtwoord"],
    ),
}  # fmt: skip
OFFICER_PAGE = (
    ["Vacant property", "all layers", "under option", "Allocation proposal for this filter"],
    ["Leegstaand vastgoed", "alle lagen", "in optie", "Toewijzingsvoorstel voor dit filter"],
)
PLANNER_PAGE = (
    ["Planner: downloads and monitor", "Per stadsdeel (district)", "Apply filters", "housed"],
    ["Planner: downloads en monitor", "Per stadsdeel<", "Filters toepassen", "gehuisvest<"],
)
NEED_PAGE = (
    ["This is the private page of your space request", "Fitting spaces", "Edit", "Withdraw"],
    ["privépagina", "Passende ruimtes", "Bewerken", "Intrekken"],
)


def assert_language(html: str, present: list[str], absent: list[str]) -> None:
    for text in present:
        assert text in html, f"missing {text!r}"
    for text in absent:
        assert text not in html, f"still there: {text!r}"


def open_need_token(app) -> str:
    with get_store(app).sessions() as session:
        return session.scalar(select(Need.token).where(Need.status == "open").limit(1))


@pytest.mark.parametrize("path", sorted(PAGES))
def test_public_pages_in_english_by_query_and_by_header(seeded_app, path):
    english, dutch = PAGES[path]
    by_query = seeded_app.test_client().get(f"{path}?lang=en")
    assert by_query.status_code == 200
    html = by_query.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert_language(html, english, dutch)
    by_header = seeded_app.test_client().get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert_language(by_header.get_data(as_text=True), english, dutch)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_public_pages_are_dutch_by_default(seeded_app, path):
    english, dutch = PAGES[path]
    html = seeded_app.test_client().get(path).get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert_language(html, dutch, [t for t in english if t not in ("Email", "Preferred areas")])


def test_lang_query_is_remembered_and_beats_the_header(seeded_app):
    client = seeded_app.test_client()
    client.get("/?lang=en")
    assert "What space is your initiative" in client.get("/needs/new").get_data(as_text=True)
    html = client.get("/?lang=nl", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Overzichtskaart" in html
    assert "Welke ruimte zoekt" in client.get("/needs/new").get_data(as_text=True)


def test_officer_page_in_english(seeded_app, client, login):
    login("officer")
    html = client.get("/properties?lang=en").get_data(as_text=True)
    assert_language(html, *OFFICER_PAGE)
    html = client.get("/properties", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert_language(html, *OFFICER_PAGE)
    # the map's labels too
    assert "Properties (this filter)" in html and "Panden (dit filter)" not in html


def test_officer_page_in_dutch_by_default(seeded_app, client, login):
    login("officer")
    english, dutch = OFFICER_PAGE
    assert_language(client.get("/properties").get_data(as_text=True), dutch, english)


def test_planner_page_in_english(seeded_app, client, login):
    login("planner")
    response = client.get("/planner?lang=en")
    assert response.status_code == 200
    assert_language(response.get_data(as_text=True), *PLANNER_PAGE)
    response = client.get("/planner?lang=nl", headers={"Accept-Language": "en"})
    english, dutch = PLANNER_PAGE
    assert_language(response.get_data(as_text=True), [d.rstrip("<") for d in dutch], english)


def test_need_page_in_english(seeded_app, client):
    token = open_need_token(seeded_app)
    html = client.get(f"/needs/{token}?lang=en").get_data(as_text=True)
    assert_language(html, *NEED_PAGE)
    html = (
        seeded_app.test_client()
        .get(f"/needs/{token}", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert_language(html, *NEED_PAGE)
    dutch_html = seeded_app.test_client().get(f"/needs/{token}").get_data(as_text=True)
    english, dutch = NEED_PAGE
    assert_language(dutch_html, dutch, english[:2])


def test_flash_and_error_pages_follow_the_language(seeded_app, client, login):
    response = client.post("/login?lang=en", data={"email": "x@example.org", "password": "nope"})
    assert "Incorrect email or password." in response.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)
    dutch = seeded_app.test_client().get("/no-such-page")
    assert dutch.status_code == 404 and "Pagina niet gevonden" in dutch.get_data(as_text=True)
    login("officer")
    forbidden = client.get("/planner")
    assert forbidden.status_code == 403 and "No access" in forbidden.get_data(as_text=True)
