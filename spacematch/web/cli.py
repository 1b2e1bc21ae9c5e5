"""``flask --app spacematch <command>``: thin wrappers around the core."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from spacematch.web.state import state


def init_app(app: Flask) -> None:
    from spacematch.web.export_cli import export_command

    for command in (init_db, import_layer_command, fetch_layer_command, demo,
                    create_user_command, setup, match, export_command, end_sessions_command,
                    deactivate_user_command, notify, verify_round):  # fmt: skip
        app.cli.add_command(command)


def _init_store(*, reload_areas: bool) -> int:
    """Create the schema; load the shipped areas when asked or when none are stored."""
    from sqlalchemy import func, select

    from spacematch.domain.areas import load_areas
    from spacematch.models import Area

    store = state().store
    done = store.create_schema()  # Alembic: upgrades an existing store in place, data kept
    if not done.startswith("up to date"):
        click.echo(f"Schema {done}.")
    with store.session() as session:
        count = session.scalar(select(func.count()).select_from(Area))
        if reload_areas or not count:
            count = load_areas(session)
    return int(count or 0)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema (migrations) and load the shipped Amsterdam areas.

    Keeps properties and needs: an existing store is upgraded in place."""
    count = _init_store(reload_areas=True)
    click.echo(f"Schema ready; {count} areas loaded (Bron: Gemeente Amsterdam).")


PRESET_NAMES = ["amsterdam-vastgoed", "amsterdam-grex"]  # spacematch.ingest.presets.PRESETS' keys


@click.command("import-layer")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--layer", "layer", required=True, help="Layer slug, e.g. bedrijfsruimte.")
@click.option("--title", default=None, help="Display name of the layer.")
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    default=None,
    help="Attribute mapping for a known source export.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A mapping file (TOML or JSON) naming the source attribute for each field; "
    "with --preset it extends the preset (e.g. to give a default rent).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse the file for any problem: also points outside the buurten and unknown kinds.",
)
@click.option(
    "--max-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Largest file to read, in MB (default 1000; the web upload's limit is 100): about "
    "3 GB of memory per 230 MB of GeoPackage (1,000,000 points).",
)
def import_layer_command(
    path: str,
    layer: str,
    title: str | None,
    preset: str | None,
    mapping: str | None,
    strict: bool,
    max_mb: float | None,
) -> None:
    """Validate a layer file and replace the layer atomically (all or nothing)."""
    from spacematch.ingest.importer import LayerError, import_layer
    from spacematch.ingest.limits import CLI_MAX_FILE_BYTES

    _init_store(reload_areas=False)
    try:
        result = import_layer(
            state().store,
            path,
            layer=layer,
            title=title,
            preset=preset,
            mapping=mapping,
            progress=sys.stderr.isatty(),
            strict=strict,
            max_bytes=CLI_MAX_FILE_BYTES if max_mb is None else int(max_mb * 1e6),
        )
    except LayerError as err:
        click.echo(f"Import of {path} refused; layer '{layer}' left as it was.", err=True)
        click.echo(str(err), err=True)
        sys.exit(1)
    _echo_result(result)


def _echo_result(result) -> None:
    click.echo(
        f"Layer '{result.layer}': {result.count} properties imported from "
        f"{result.source_crs} in {result.seconds:.1f} s."
    )
    if result.report is not None:
        for line in result.report.summary_lines():
            click.echo(f"  {line}")


@click.command("fetch-layer")
@with_appcontext
@click.argument("source", type=click.Choice(PRESET_NAMES))
@click.option("--layer", "layer", required=True, help="Layer slug, e.g. vastgoed.")
@click.option("--title", default=None, help="Display name of the layer.")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A mapping file extending the preset (e.g. to give a default rent).",
)
@click.option("--url", default=None, help="First page to read (default: the DSO API's table).")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 10))
@click.option("--strict", is_flag=True, help="As import-layer --strict.")
def fetch_layer_command(
    source: str,
    layer: str,
    title: str | None,
    mapping: str | None,
    url: str | None,
    page_size: int,
    retries: int,
    strict: bool,
) -> None:
    """Read a preset's table from the city's DSO API (every page) and import it atomically."""
    from spacematch.ingest.fetch import FetchError, fetch_layer
    from spacematch.ingest.importer import LayerError

    _init_store(reload_areas=False)
    try:
        result = fetch_layer(
            state().store,
            source,
            layer=layer,
            url=url,
            base=current_app.config["DSO_API_URL"],
            page_size=page_size,
            retries=retries,
            backoff=float(current_app.config["FETCH_BACKOFF_S"]),
            progress=sys.stderr.isatty(),
            title=title,
            mapping=mapping,
            strict=strict,
        )
    except FetchError as err:
        click.echo(f"Fetch refused; layer '{layer}' left as it was: {err}", err=True)
        sys.exit(1)
    except LayerError as err:
        click.echo(f"Import refused; layer '{layer}' left as it was.", err=True)
        click.echo(str(err), err=True)
        sys.exit(1)
    _echo_result(result)


@click.command("demo")
@with_appcontext
@click.option(
    "--force", is_flag=True, help="Load even when the store holds data (adds, never wipes)."
)
def demo(force: bool) -> None:
    """Load the shipped demo layers and demo needs, into an empty store only."""
    from spacematch.ingest.demo import load_demo, store_is_empty

    _init_store(reload_areas=False)
    store = state().store
    if not force and not store_is_empty(store):
        click.echo(
            "The store already holds properties or needs; demo not loaded (nothing changed)."
        )
        return
    started = time.perf_counter()
    counts = load_demo(store, progress=sys.stderr.isatty())
    listing = ", ".join(f"{k} {v}" for k, v in counts.items())
    click.echo(
        f"Demo data loaded (generated, not real vacancies): {listing} "
        f"in {time.perf_counter() - started:.1f} s."
    )


@click.command("setup")
@with_appcontext
def setup() -> None:
    """What the README's start command runs: schema (upgraded in place), areas if missing, demo
    if the store is empty."""
    from spacematch.ingest.demo import load_demo, store_is_empty

    count = _init_store(reload_areas=False)
    store = state().store
    click.echo(f"Store ready with {count} areas.")
    if store_is_empty(store):
        counts = load_demo(store)
        click.echo(
            "Demo data loaded (generated, not real vacancies): "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    else:
        click.echo("Store already holds data; kept as it is.")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(["officer", "planner", "admin"]), required=True)
@click.option("--password", default=None, help="Prompted for (hidden, twice) when left out.")
def create_user_command(email: str, role: str, password: str | None) -> None:
    """Create an account, or reset the role and password of an existing one."""
    from spacematch.domain.accounts import AccountError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _init_store(reload_areas=False)
    try:
        with state().store.session() as session:
            user = create_user(session, email=email, role=role, password=password)
            click.echo(f"User {user.email} ({user.role}) saved.")
    except AccountError as err:
        raise click.ClickException(str(err)) from err


@click.command("end-sessions")
@with_appcontext
@click.argument("email")
def end_sessions_command(email: str) -> None:
    """End every session of an account at once (e.g. a laptop was lost); it may log in again."""
    from spacematch.domain.accounts import AccountError, end_sessions_of

    _init_store(reload_areas=False)
    try:
        with state().store.session() as session:
            user = end_sessions_of(session, email)
            click.echo(f"Every session of {user.email} has ended.")
    except AccountError as err:
        raise click.ClickException(str(err)) from err


@click.command("deactivate-user")
@with_appcontext
@click.argument("email")
@click.option("--activate", is_flag=True, help="Let a deactivated account log in again.")
def deactivate_user_command(email: str, activate: bool) -> None:
    """Deactivate an account (it can no longer log in; its sessions end), or reactivate it."""
    from spacematch.domain.accounts import AccountError, set_active

    _init_store(reload_areas=False)
    try:
        with state().store.session() as session:
            user = set_active(session, email, activate)
            now = "active again" if activate else "deactivated; its sessions have ended"
            click.echo(f"Account {user.email} {now}.")
    except AccountError as err:
        raise click.ClickException(str(err)) from err


@click.command("match")
@with_appcontext
def match() -> None:
    """Rank every open need; print needs with a fit, the median best score, unmatched per
    stadsdeel."""
    from spacematch.domain.areas import AreaIndex
    from spacematch.matching import MatchIndex, format_summary, summary

    _init_store(reload_areas=False)
    store = state().store
    started = time.perf_counter()
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
    index = MatchIndex.from_store(store, areas)
    result = summary(index, areas, weights=current_app.config["MATCH_WEIGHTS"])
    click.echo(format_summary(result))
    click.echo(f"Ranked in {time.perf_counter() - started:.2f} s.")


@click.command("notify")
@with_appcontext
@click.option("--no-alerts", is_flag=True, help="Only deliver the outbox; compute no alerts.")
@click.option("--retry-failed", is_flag=True, help="Queue given-up mails again first.")
def notify(no_alerts: bool, retry_failed: bool) -> None:
    """Write due alert digests and lease-end mails into the outbox, then deliver every due mail.

    Idempotent (a second run right after sends nothing) and safe to run from several hosts at
    once; run it from cron or a systemd timer, e.g. every 10 minutes."""
    from spacematch.mail import outbox
    from spacematch.mail.alerts import run_alerts
    from spacematch.web.mail import deliver, message_domain

    store = state().store
    if retry_failed:
        click.echo(f"{outbox.retry_failed(store)} failed mails queued again.")
    if not no_alerts:
        counts = run_alerts(
            store, state().index.get(current_needs=False), domain=message_domain(),
            weights=current_app.config["MATCH_WEIGHTS"],
            lease_notice_days=int(current_app.config["LEASE_NOTICE_DAYS"]),
        )  # fmt: skip
        click.echo(
            f"Alerts: {counts.needs_checked} needs checked, {counts.digests} digests and "
            f"{counts.lease_notices} lease-end mails written."
        )
    done = deliver()
    click.echo(f"Mail: {len(done.sent)} sent, {len(done.failed)} failed (retried later).")
    for path in done.files:
        click.echo(f"  written to {path}")


@click.command("verify-round")
@with_appcontext
@click.argument("round_id", type=int)
def verify_round(round_id: int) -> None:
    """Recompute a drawn round from its public record alone and say whether it matches
    (exit 1 when it does not, 2 when there is no such round)."""
    from spacematch.matching.round_store import RoundError, verify_stored

    with state().store.sessions() as session:
        try:
            problems = verify_stored(session, round_id)
        except RoundError as err:
            click.echo(f"round {round_id}: {'; '.join(err.errors.values())}", err=True)
            sys.exit(2)
    if problems:
        for problem in problems:
            click.echo(f"MISMATCH: {problem}")
        sys.exit(1)
    click.echo(f"round {round_id}: matches (seed, commitment, every lottery number and result)")
