"""Limits on what one layer file may cost in time and memory, checked as early as possible.

Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point,
:mod:`spacematch.ingest.read` the reader that applies these); Flask-free.

``max_bytes`` and ``max_vertices`` are keyword arguments of
:func:`spacematch.ingest.importer.import_layer`:

- ``max_bytes`` (default 100 MB): a bigger file is refused before it is parsed. For a Shapefile
  the ``.shp``, ``.dbf`` and ``.shx`` count together, for a zip the members' unpacked sizes (a
  zip bomb is refused unopened). Parsing costs about 6 bytes of memory per byte of GeoJSON, so
  the default keeps an import well under 1 GB.
  That default is what the admin's web upload imports with (in a web worker's thread, next to
  the requests it serves). ``flask import-layer`` is run by an operator on a machine sized for
  the job, and a city's or country's export is not an upload: it takes ``CLI_MAX_FILE_BYTES``
  (1 GB) unless ``--max-mb`` says otherwise. 1,000,000 points are a 230 MB GeoPackage and
  cost about 3 GB of memory to import; a 1 GB GeoPackage (about 4 million points) needs about
  12 GB, GeoJSON about 6 bytes per byte.
- ``max_vertices`` (default 100,000 per feature): a feature with more is refused. In GeoJSON
  while GDAL parses it (GDAL's per-feature memory cap ``OGR_GEOJSON_MAX_OBJ_SIZE`` is set from
  it: a 1,000,000-vertex polygon would otherwise cost ~500 MB to parse); in other formats right
  after reading, before reprojection and validation, whose cost grows with the vertex count.
- GeoJSON and CSV must be UTF-8 (RFC 8259 for JSON); a file in another encoding is refused with
  the line and byte of the first bad character, read in chunks before GDAL parses anything
  (GDAL would otherwise stop on a Python decode error, or mangle the names).
"""

from __future__ import annotations

import codecs
import math
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from spacematch.ingest.problems import Problems

MAX_FILE_BYTES = 100_000_000  # the web upload's import (and the default of import_layer)
CLI_MAX_FILE_BYTES = 1_000_000_000  # flask import-layer's default (see the docstring)
MAX_VERTICES = 100_000
CHUNK = 1 << 20  # bytes read at a time by the UTF-8 check
_GDAL_OBJ_SIZE = "OGR_GEOJSON_MAX_OBJ_SIZE"
_GDAL_BYTES_PER_VERTEX = 256
_GDAL_FEATURE_SLACK = 8 * 2**20


@contextmanager
def geojson_object_limit(max_vertices: int | None) -> Iterator[None]:
    """Cap the memory GDAL's GeoJSON parser may spend on one feature, so a giant polygon is
    refused while it is being parsed instead of after costing ~500 bytes per vertex.

    GDAL estimates a feature's parsed size as ~170 bytes per vertex; the cap allows
    ``max_vertices`` with room for the attributes. ``OGR_GEOJSON_MAX_OBJ_SIZE`` is a
    process-wide GDAL setting: it is restored afterwards (imports run one at a time, from the
    CLI or the demo loader).
    """
    if max_vertices is None:
        yield
        return
    limit_mb = max(
        1, math.ceil((max_vertices * _GDAL_BYTES_PER_VERTEX + _GDAL_FEATURE_SLACK) / 2**20)
    )
    previous = pyogrio.get_gdal_config_option(_GDAL_OBJ_SIZE)
    pyogrio.set_gdal_config_options({_GDAL_OBJ_SIZE: str(limit_mb)})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_GDAL_OBJ_SIZE: previous})


def within_size(path: Path, max_bytes: int, problems: Problems) -> bool:
    """Refuse a file over ``max_bytes`` before parsing it (see the module docstring)."""
    name = path.name.lower()
    if name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                size = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            problems.file("file", f"cannot read {path.name}: not a zip archive ({exc})")
            return False
    elif name.endswith(".shp"):
        parts = (path.with_suffix(s) for s in (".shp", ".dbf", ".shx"))
        size = sum(p.stat().st_size for p in parts if p.is_file())
    else:
        size = path.stat().st_size
    if size > max_bytes:
        what = {".zip": " unpacked", ".shp": " with its .dbf and .shx"}.get(path.suffix.lower(), "")
        problems.file(
            "file",
            f"the file is {_megabytes(size)}{what}, more than the limit of "
            f"{_megabytes(max_bytes)}: split the layer, or raise max_bytes if the machine has "
            "the memory (about 6 bytes per byte of GeoJSON)",
        )
        return False
    return True


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def is_utf8(path: Path, kind: str, problems: Problems) -> bool:
    """Check that a text file is UTF-8, chunk by chunk (constant memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = line = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                # err.object is the decoder's held-back bytes (an unfinished character from the
                # previous chunk, never a newline) followed by this chunk.
                at = offset - (len(err.object) - len(chunk)) + err.start
                line += chunk.count(b"\n", 0, max(0, at - offset))
                bad = err.object[err.start : err.start + 1].hex()
                save = "CSV UTF-8" if kind == "csv" else "UTF-8"
                problems.file(
                    "file",
                    f"not UTF-8 text: byte 0x{bad} at line {line + 1} (byte {at + 1} of the "
                    f"file) is not valid UTF-8, as in a Latin-1/Windows-1252 file; save it as "
                    f"{save}",
                )
                return False
            if not chunk:
                return True
            offset += len(chunk)
            line += chunk.count(b"\n")


def limit_vertices(
    geoms: np.ndarray, reported: np.ndarray, max_vertices: int, problems: Problems
) -> None:
    """Report features with more than ``max_vertices`` vertices and drop their geometry, so the
    expensive steps (reprojection, validity, buurt join) never see them."""
    counts = shapely.get_num_coordinates(geoms)
    huge = counts > max_vertices
    if huge.any():
        problems.mask(
            huge,
            "geometry",
            lambda i: (
                f"{counts[i]:,} vertices, more than {max_vertices:,} per feature: "
                "simplify the geometry first"
            ),
        )
        geoms[huge] = None
        reported |= huge
