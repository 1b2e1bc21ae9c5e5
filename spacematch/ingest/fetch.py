"""Fetching a layer from the city's DSO API (api.data.amsterdam.nl) into the layer import.

The API pages its output. Two shapes are read, both as the API documents them:

- HAL JSON (the default): ``{"_links": {"next": {"href": ...}}, "_embedded": {"<table>": [...]},
  "page": {"totalElements": N}}``; each record carries its geometry as a GeoJSON object in its
  geometry field (``geometrie``), in the CRS the ``Content-Crs`` response header names (asked for
  with ``Accept-Crs``).
- ``_format=geojson``: a FeatureCollection per page, the next page in ``_links`` (a list of link
  objects with ``rel: next``, or a HAL-style object).

Every page is fetched (with retries and a progress bar), the records are written to one GeoJSON
file that declares the CRS, and that file goes through
:func:`spacematch.ingest.importer.import_layer`: the same checks, the same atomic replace, the
workflow statuses kept. Nothing is written when a page cannot be fetched. Only links to the
first page's host are followed. Flask-free.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from spacematch.ingest.limits import MAX_FILE_BYTES

if TYPE_CHECKING:  # at run time the importer is imported on first use only
    from spacematch.db import Store
    from spacematch.ingest.importer import ImportResult

DSO_API_URL = "https://api.data.amsterdam.nl/v1/"
# The DSO API's path of each preset's table (dataset/table).
SOURCES = {
    "amsterdam-vastgoed": "gemeentelijk_vastgoed/verhuurbareeenheden",
    "amsterdam-grex": "grex/projecten",
}
GEOMETRY_FIELDS = ("geometrie", "geometry")
ASK_CRS = "EPSG:28992"
MAX_PAGES = 10_000
USER_AGENT = "spacematch fetch-layer"


class FetchError(Exception):
    """The API could not be read; nothing was imported."""


def source_url(preset: str, base: str = DSO_API_URL, *, page_size: int = 1000) -> str:
    """The first page's address for a preset's table."""
    if preset not in SOURCES:
        raise FetchError(f"no DSO API table known for {preset!r} (known: {', '.join(SOURCES)})")
    return urllib.parse.urljoin(base, SOURCES[preset] + "/") + f"?_pageSize={page_size}"


def _get(
    url: str, *, retries: int, backoff: float, timeout: float
) -> tuple[dict[str, Any], dict[str, str]]:
    """One page as JSON, with its headers; retried on network errors, 429 and 5xx."""
    request = urllib.request.Request(
        url, headers={"Accept-Crs": ASK_CRS, "Accept": "application/hal+json, application/json",
                      "User-Agent": USER_AGENT},
    )  # fmt: skip
    last = ""
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read(MAX_FILE_BYTES + 1)
                headers = {k.lower(): v for k, v in response.headers.items()}
            if len(body) > MAX_FILE_BYTES:
                raise FetchError(f"{url}: a page of more than {MAX_FILE_BYTES:,} bytes")
            try:
                return json.loads(body), headers
            except ValueError as exc:
                raise FetchError(f"{url}: the answer is not JSON ({exc})") from exc
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
            last = f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{reason}"
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    host = urllib.parse.urlsplit(url).netloc
    raise FetchError(
        f"cannot reach {host} after {retries + 1} tries ({last}): is this machine offline, or "
        "is the API down? Nothing was imported; the layer is as it was."
    )


def _next_link(page: dict[str, Any]) -> str | None:
    links = page.get("_links")
    if isinstance(links, dict):
        nxt = links.get("next")
        if isinstance(nxt, dict):
            return nxt.get("href") or None
        return nxt if isinstance(nxt, str) and nxt else None
    if isinstance(links, list):
        for link in links:
            if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
                return str(link["href"])
    return None


def _total(page: dict[str, Any], headers: dict[str, str]) -> int | None:
    info = page.get("page")
    total = info.get("totalElements") if isinstance(info, dict) else None
    if isinstance(total, int):
        return total
    for key in ("x-total-count", "x-pagination-count"):
        if headers.get(key, "").isdigit():
            return int(headers[key])
    matched = page.get("numberMatched")
    if isinstance(matched, int):
        return matched
    return None


def _features(page: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """A page's records as GeoJSON Features, and the CRS a geojson page declares."""
    if page.get("type") == "FeatureCollection":
        crs = page.get("crs")
        name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
        return list(page.get("features") or []), name
    embedded = page.get("_embedded")
    if not isinstance(embedded, dict):
        raise FetchError("the answer has neither _embedded records nor GeoJSON features")
    records = next((v for v in embedded.values() if isinstance(v, list)), [])
    out = []
    for record in records:
        props = {k: v for k, v in record.items() if k != "_links"}
        key = next((k for k in GEOMETRY_FIELDS if k in props), None)
        geometry = props.pop(key) if key else None
        out.append({"type": "Feature", "properties": props, "geometry": geometry})
    return out, None


def fetch_pages(
    url: str,
    destination: Path,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = False,
) -> tuple[int, str]:
    """Fetch every page from ``url`` into one GeoJSON file; returns (features, CRS name).

    Raises FetchError when a page cannot be read or the API names no CRS.
    """
    host = urllib.parse.urlsplit(url).netloc
    features: list[dict[str, Any]] = []
    crs: str | None = None
    pages = 0
    with tqdm(
        unit=" features", desc="fetching", file=sys.stderr, disable=not progress,
        dynamic_ncols=True,
    ) as bar:  # fmt: skip
        next_url: str | None = url
        while next_url:
            pages += 1
            if pages > MAX_PAGES:
                raise FetchError(f"more than {MAX_PAGES:,} pages: stopped")
            page, headers = _get(next_url, retries=retries, backoff=backoff, timeout=timeout)
            if bar.total is None:
                bar.total = _total(page, headers)
            batch, page_crs = _features(page)
            crs = crs or headers.get("content-crs") or page_crs
            features.extend(batch)
            bar.update(len(batch))
            following = _next_link(page)
            if following:
                following = urllib.parse.urljoin(next_url, following)
                if urllib.parse.urlsplit(following).netloc != host:
                    raise FetchError(f"the next page is on another host ({following}): stopped")
            next_url = following
    if crs is None:
        if any(f.get("type") == "Feature" for f in features) and pages and _is_geojson(url):
            crs = "OGC:CRS84"  # RFC 7946 output without a Content-Crs header
        else:
            raise FetchError("the API named no CRS (no Content-Crs header, no crs member)")
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": crs}},
        "features": features,
    }
    destination.write_text(json.dumps(doc), encoding="utf-8")
    return len(features), crs


def _is_geojson(url: str) -> bool:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query.get("_format", [""])[0] == "geojson"


def fetch_layer(
    store: Store,
    preset: str,
    *,
    layer: str,
    url: str | None = None,
    base: str = DSO_API_URL,
    page_size: int = 1000,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = False,
    import_layer: Callable[..., ImportResult] | None = None,
    **options: Any,
) -> ImportResult:
    """Fetch a preset's table from the DSO API and import it as ``layer``; returns the
    ImportResult. ``options`` go to :func:`spacematch.ingest.importer.import_layer` (mapping,
    strict...)."""
    if import_layer is None:
        from spacematch.ingest.importer import import_layer as default_import

        import_layer = default_import
    first = url or source_url(preset, base, page_size=page_size)
    with tempfile.TemporaryDirectory(prefix="spacematch-fetch-") as tmp:
        path = Path(tmp) / f"{layer}.geojson"
        fetch_pages(
            first, path, retries=retries, backoff=backoff, timeout=timeout, progress=progress
        )
        label = f"DSO API {urllib.parse.urlsplit(first)._replace(query='').geturl()}"
        return import_layer(
            store, path, layer=layer, preset=preset, source_label=label, progress=progress,
            **options,
        )  # fmt: skip
