"""``flask --app spacematch export DATASET --format F -o FILE``: the downloads, from the shell.

The same filters as the URL (``--area``, ``--layer``, ``--status``, ``--bbox``, ``--min-score``,
and any other as ``--filter KEY=VALUE``), the same checks, the same bytes. The file is written
next to its target and renamed into place, so a failed export never leaves half a file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from spacematch.errors import ApiError
from spacematch.export.tables import DATASETS, FORMATS

SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".csv": "csv"}


@click.command("export")
@click.argument("dataset", type=click.Choice(DATASETS))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default=None,
    help="geojson, gpkg or csv; default from the output file's suffix.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write; '-' writes GeoJSON or CSV to standard output.",
)
@click.option("--area", default=None, help="Stadsdeel, gebied, wijk or buurt code, e.g. A or AE02.")
@click.option("--layer", default=None, help="Layer slug(s), comma-separated.")
@click.option("--status", default=None, help="Status(es), comma-separated.")
@click.option("--bbox", default=None, help="minlon,minlat,maxlon,maxlat (WGS84).")
@click.option(
    "--min-score", "min_score", default=None, help="Matches and areas: fit threshold, 0-1."
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other filter the URL takes, e.g. --filter sector=voedsel.",
)
@with_appcontext
def export_command(
    dataset: str,
    fmt: str | None,
    output: str,
    area: str | None,
    layer: str | None,
    status: str | None,
    bbox: str | None,
    min_score: str | None,
    filters: tuple[str, ...],
) -> None:
    """Export DATASET (properties, needs, matches, areas) as GeoJSON, GeoPackage or CSV."""
    from spacematch.web.exports import export_bytes

    fmt = fmt or SUFFIXES.get(Path(output).suffix.lower())
    if fmt is None:
        raise click.UsageError(
            "give --format (geojson, gpkg, csv) or an output file with that suffix"
        )
    if output == "-" and fmt == "gpkg":
        raise click.UsageError("a GeoPackage cannot go to standard output; give -o FILE.gpkg")
    given = {"area": area, "layer": layer, "status": status, "bbox": bbox, "min_score": min_score}
    args = {k: v for k, v in given.items() if v}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--filter")
        args[key.strip()] = value.strip()
    try:
        data = export_bytes(dataset, fmt, args)
    except ApiError as err:
        raise click.UsageError(
            "; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in err.errors.items())
        ) from None
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = _write_whole(Path(output), data)
    click.echo(f"{dataset} written to {target} ({fmt}, {len(data):,} bytes).", err=True)


def _write_whole(output: Path, data: bytes) -> Path:
    """Write to a temporary file beside the target, then rename: a reader never sees half."""
    target = output.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
