"""Officers see what an import brought in; admins upload a layer file and follow its import.

- ``/layers``: every layer with its source, date (or "demo") and the last import's counts.
- ``/layers/<slug>/report`` and ``.csv``: the import report (:mod:`spacematch.ingest.report`),
  one row per feature of the file with its number, id and outcome.
- ``/layers/upload`` (admins): runs the same :func:`spacematch.ingest.importer.import_layer` in a
  background thread; ``/layers/jobs/<id>`` shows its stage and progress until the report is
  there. Jobs live in the process that started them (one import at a time per process); the
  page says so when a job is unknown, e.g. after a restart.

Routes are registered on the officer blueprint (same roles, same helpers).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.local import LocalProxy
from wtforms import BooleanField, DecimalField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from spacematch.ingest.report import OUTCOMES, ImportReport
from spacematch.models import Layer
from spacematch.web.auth import role_required
from spacematch.web.officer.blueprint import OFFICER_ROLES, bp
from spacematch.web.state import state

OUTCOME_LABELS = {
    "imported": _l("aangeboden"),
    "let": _l("verhuurd"),
    "unknown_kind": _l("onbekende soort"),
    "skipped": _l("overgeslagen"),
}
PLACE_LABELS = {
    "inside": _l("in een buurt"),
    "snapped": _l("bij dichtstbijzijnde buurt"),
    "outside": _l("buiten Amsterdam"),
}
STAGE_LABELS = {
    "queued": _l("wacht"),
    "read": _l("bestand lezen"),
    "validate": _l("controleren"),
    "write": _l("opslaan"),
    "done": _l("klaar"),
    "refused": _l("geweigerd"),
}
UNKNOWN_TYPE = _l("Onbekend bestandstype (GeoJSON, GeoPackage, Shapefile-zip, CSV, JSON lines).")
ROWS_SHOWN = 500
PRESET_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("amsterdam-vastgoed", "amsterdam-vastgoed"),
    SelectChoice("amsterdam-grex", "amsterdam-grex"),
]


@dataclass
class Job:
    """One background import, as the upload page follows it."""

    id: str
    layer: str
    filename: str
    stage: str = "queued"
    done: int = 0
    total: int = 0
    problems: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "layer": self.layer, "file": self.filename, "stage": self.stage,
            "done": self.done, "total": self.total, "problems": self.problems[:200],
            "problem_count": len(self.problems), "summary": self.summary,
        }  # fmt: skip


def _jobs() -> dict[str, Job]:
    """The background imports of this app (an admin upload runs in a thread)."""
    jobs: dict[str, Job] = state().jobs
    return jobs


def _layer_or_404(slug: str) -> tuple[Layer, ImportReport | None]:
    with state().store.sessions() as session:
        layer = session.get(Layer, slug)
        if layer is None:
            abort(404)
        session.expunge(layer)
    return layer, ImportReport.from_json(layer.report)


@bp.get("/layers")
@role_required(*OFFICER_ROLES)
def layers():
    with state().store.sessions() as session:
        rows = session.scalars(select(Layer).order_by(Layer.slug)).all()
        items = [(row, ImportReport.from_json(row.report)) for row in rows]
    return render_template("officer/layers.html", items=items)


@bp.get("/layers/<slug>/report")
@role_required(*OFFICER_ROLES)
def layer_report(slug: str):
    layer, report = _layer_or_404(slug)
    outcome = request.args.get("outcome", "")
    rows = []
    if report is not None:
        rows = [r for r in report.rows if not outcome or r[2] == outcome]
    return render_template(
        "officer/layer_report.html",
        layer=layer,
        report=report,
        rows=rows[:ROWS_SHOWN],
        row_count=len(rows),
        outcome=outcome if outcome in OUTCOMES else "",
        outcomes=OUTCOMES,
        outcome_labels=OUTCOME_LABELS,
        place_labels=PLACE_LABELS,
    )


@bp.get("/layers/<slug>/report.csv")
@role_required(*OFFICER_ROLES)
def layer_report_csv(slug: str):
    _layer, report = _layer_or_404(slug)
    if report is None:
        abort(404)
    return Response(
        report.to_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-import-report.csv"'},
    )


class UploadForm(FlaskForm):
    file = FileField(_l("Bestand"), validators=[FileRequired()])
    layer = StringField(
        _l("Laag (kleine letters, cijfers, - of _)"),
        validators=[DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    )
    title = StringField(_l("Titel"), validators=[Optional()])
    preset = SelectField(_l("Bronformaat"), choices=PRESET_CHOICES, default="")
    rent = DecimalField(_l("Huur per m² per jaar (als het bestand er geen heeft)"),
                        validators=[Optional()])  # fmt: skip
    strict = BooleanField(_l("Streng: weiger het bestand bij elk probleem"))


@bp.route("/layers/upload", methods=["GET", "POST"])
@role_required("admin")
def layer_upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        name = Path(upload.filename or "").name
        from spacematch.ingest.read import file_kind  # pandas and GDAL: only for an upload

        if file_kind(Path(name)) is None:
            form.file.errors = [str(UNKNOWN_TYPE)]
        else:
            folder = Path(tempfile.mkdtemp(prefix="spacematch-upload-"))
            path = folder / name
            upload.save(path)
            job = Job(secrets.token_urlsafe(8), form.layer.data, name)
            _jobs()[job.id] = job
            options: dict[str, Any] = {
                "layer": form.layer.data,
                "title": form.title.data or None,
                "preset": form.preset.data or None,
                "strict": bool(form.strict.data),
            }
            if form.rent.data is not None:
                options["mapping"] = {"defaults": {"rent_eur_m2_year": float(form.rent.data)}}
            thread = threading.Thread(
                target=_run,
                # The app itself, not the proxy: the thread runs outside this request.
                args=(
                    cast("LocalProxy[Flask]", current_app)._get_current_object(),
                    job,
                    path,
                    options,
                ),
                daemon=True,
                name=f"import-{job.id}",
            )
            thread.start()
            if current_app.config.get("TESTING") and request.args.get("wait"):
                thread.join()
            return redirect(url_for("officer.layer_job", job_id=job.id))
    return render_template("officer/layer_upload.html", form=form)


def _run(app: Any, job: Job, path: Path, options: dict[str, Any]) -> None:
    """The import, in a thread; its progress and outcome go to ``job``."""
    from spacematch.ingest.importer import LayerError, import_layer

    def hook(stage: str, done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total

    try:
        with app.app_context():
            result = import_layer(state(app).store, path, on_progress=hook, **options)
        job.summary = result.report.summary_lines() if result.report else []
        job.stage = "done"
    except LayerError as err:
        job.problems = [str(p) for p in err.problems]
        job.stage = "refused"
    except Exception as exc:  # shown to the admin: the thread must not die silently
        job.problems = [f"{type(exc).__name__}: {exc}"]
        job.stage = "refused"
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@bp.get("/layers/jobs/<job_id>")
@role_required("admin")
def layer_job(job_id: str):
    job = _jobs().get(job_id)
    if request.args.get("format") == "json":
        return jsonify(job.as_json()) if job else (jsonify({"error": "unknown job"}), 404)
    return render_template("officer/layer_job.html", job=job, stage_labels=STAGE_LABELS)
