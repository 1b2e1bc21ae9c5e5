"""Initiatives' pages: the public intake form and the private page of one need (by its token).

The form only parses and renders; every rule and limit lives in the model
``spacematch.domain.need_input.NeedInput`` (through ``validate_need``), which the JSON API and
the OpenAPI document use too: both refuse exactly the same input, and the HTML inputs' own
limits (``maxlength``, ``min``, ``max``) are read from it.
"""

from __future__ import annotations

import csv
import json
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import widgets as w

from spacematch.domain.messages import ValidationError
from spacematch.domain.need_input import FIELDS, limits
from spacematch.domain.needs import update_need, validate_need
from spacematch.models import Need
from spacematch.web.common import area_index
from spacematch.web.forms import form_problems
from spacematch.web.labels import LEGAL_FORM_LABELS, SECTOR_LABELS, USE_LABELS
from spacematch.web.locale import language
from spacematch.web.needs.alerts import (
    ALERT_LABELS,
    confirm_on_open,
    mail_choices,
    mail_context,
    save_mail_choices,
    submit_need,
)
from spacematch.web.state import state

bp = Blueprint("needs", __name__, url_prefix="/needs")


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class CheckboxList(SelectMultipleField):
    widget = w.ListWidget(prefix_label=False)
    option_widget = w.CheckboxInput()

    def pre_validate(self, form) -> None:
        pass


def _kw(name: str) -> dict:
    """The HTML input's limits, from the model (the browser's hint; the server decides)."""
    return {"render_kw": {k: f"{v:.15g}" for k, v in limits(name).items()}}


class NeedForm(FlaskForm):
    """Rendering and CSRF only; validation is NeedInput's job."""

    initiative = StringField(_l("Naam van het initiatief"), **_kw("initiative"))
    legal_form = SelectField(_l("Rechtsvorm"), choices=_choices(LEGAL_FORM_LABELS))
    sector = SelectField(_l("Sector"), choices=_choices(SECTOR_LABELS))
    description = TextAreaField(_l("Wat gaan jullie in de ruimte doen?"), **_kw("description"))
    contact_name = StringField(_l("Contactpersoon"), **_kw("contact_name"))
    contact_email = EmailField(_l("E-mailadres"), **_kw("contact_email"))
    min_area_m2 = DecimalField(_l("Minimaal m²"), places=None, **_kw("min_area_m2"))
    max_area_m2 = DecimalField(_l("Maximaal m²"), places=None, **_kw("max_area_m2"))
    max_rent_eur_month = DecimalField(
        _l("Huurbudget per maand (€)"), places=None, **_kw("max_rent_eur_month")
    )
    uses = CheckboxList(_l("Gebruik"), choices=_choices(USE_LABELS))
    areas = StringField(_l("Voorkeursgebieden (stadsdeel, wijk of buurt)"))
    point = HiddenField()
    postcode = StringField(_l("Of: postcode (4 cijfers)"))
    max_distance_m = IntegerField(_l("Maximale afstand tot het punt (m)"), **_kw("max_distance_m"))
    needed_from = DateField(_l("Nodig vanaf"))
    min_months = IntegerField(_l("Voor minstens (maanden)"), **_kw("min_months"))
    accessible = BooleanField(_l("Drempelvrij (rolstoeltoegankelijk) nodig"))
    alerts = SelectField(_l("Mail over nieuwe passende ruimtes"), choices=_choices(ALERT_LABELS))
    introductions = BooleanField(
        _l(
            "Andere initiatieven met interesse in dezelfde ruimte mogen onze naam zien en ons "
            "één kennismakingsmail sturen"
        )
    )
    willing_to_share = BooleanField(
        _l("We willen een grotere ruimte delen met andere initiatieven")
    )
    hide_name = BooleanField(
        _l("Noem onze naam niet in openbare toewijzingen (alleen onze rechtsvorm)")
    )

    def need_data(self) -> dict[str, Any]:
        """The submitted values as NeedInput takes them (raw strings, so its messages apply)."""
        raw = request.form
        areas = area_index()
        codes = []
        for token in (t.strip() for t in raw.get("areas", "").split(",")):
            if token:
                codes.append(token if token in areas else (areas.by_name(token) or token))
        data: dict[str, Any] = {name: raw.get(name, "") for name in FIELDS if name not in NOT_PLAIN}
        data["uses"] = raw.getlist("uses")
        data["areas"] = codes
        data["accessible"] = "accessible" in raw
        data["willing_to_share"] = "willing_to_share" in raw
        data["hide_name"] = "hide_name" in raw
        point = raw.get("point", "")
        postcode = raw.get("postcode", "").strip()
        if not point and postcode:
            centroid = pc4_centroids().get(postcode[:4])
            if centroid is not None:
                point = f"{centroid[0]:.6f},{centroid[1]:.6f}"
        if point:
            data["point"] = point
            data["max_distance_m"] = raw.get("max_distance_m", "")
        return data

    def postcode_error(self) -> str | None:
        """A postcode that names no Amsterdam PC4 area (the point, when set, wins)."""
        raw = request.form.get("postcode", "").strip()
        if not raw or request.form.get("point"):
            return None
        if raw[:4] not in pc4_centroids():
            return str(_l("Geen Amsterdamse postcode: vul de 4 cijfers in, bijvoorbeeld 1094."))
        return None


def pc4_centroids() -> dict[str, tuple[float, float]]:
    """The 85 Amsterdam four-digit postcode areas' centres (lon, lat), from the shipped
    layers/areas/PC4_BUURTEN.csv (Bron: Gemeente Amsterdam), read once per app."""

    def build() -> dict[str, tuple[float, float]]:
        path = Path(current_app.root_path).parent / "layers" / "areas" / "PC4_BUURTEN.csv"
        with path.open(encoding="utf-8-sig", newline="") as f:
            return {
                row["Postcode4"]: (float(row["LNG"]), float(row["LAT"]))
                for row in csv.DictReader(f, delimiter=";")
            }

    return state().cache.get("pc4_centroids", 0, build)


# The fields the form sends other than as one plain value (or not at all: status).
NOT_PLAIN = ("uses", "areas", "accessible", "point", "max_distance_m", "status")


def _attach_errors(form: NeedForm, err: ValidationError) -> None:
    lang = language()
    for name, message in err.errors.items():
        field = getattr(form, name, None) if name != "point" else form.postcode
        if field is None:
            form.form_errors.append(message.text(lang))
        else:
            field.errors = [*field.errors, message.text(lang)]


def _submitted(form: NeedForm) -> bool:
    """A POST with a valid CSRF token. WTForms' own parse errors are dropped: NeedInput
    judges every field, with the same messages as the API."""
    if request.method != "POST":
        return False
    form.validate()
    csrf = getattr(form, "csrf_token", None)
    csrf_errors = list(csrf.errors) if csrf is not None else []
    for f in form:
        f.errors = []
    if csrf_errors:
        form.form_errors.append(_l("Het formulier is verlopen; verstuur het opnieuw."))
        return False
    return True


def _need_by_token(token: str) -> Need:
    with state().store.sessions() as session:
        need = session.scalar(select(Need).where(Need.token == token))
    if need is None or not secrets.compare_digest(need.token, token):
        abort(404)
    return need


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NeedForm()
    if request.method == "GET":
        form.min_months.data = 12
        form.max_distance_m.data = 1000
    if _submitted(form):
        need = _validated(form)
        if need is not None:
            alerts, introductions = _mail_choice()
            token = submit_need(need, alerts=alerts, introductions=introductions).token
            flash(_l("Je ruimtevraag is opgeslagen. Bewaar deze pagina: de link is privé."), "ok")
            return redirect(url_for("needs.private", token=token))
    return _form_page(form, editing=False)


@bp.get("/<token>")
def private(token: str):
    need = _need_by_token(token)
    from spacematch.web.needs.page import need_page_context

    context = need_page_context(need)
    confirm_on_open(need, context["fits"])
    return render_template("needs/private.html", **context, **mail_context(need, context["fits"]))


@bp.route("/<token>/edit", methods=["GET", "POST"])
def edit(token: str):
    need = _need_by_token(token)
    if need.status == "ingetrokken":  # a withdrawn need is closed: nothing left to edit
        flash(_l("Deze ruimtevraag is ingetrokken en kan niet meer worden bewerkt."), "error")
        return redirect(url_for("needs.private", token=token))
    form = NeedForm()
    if request.method == "GET":
        form = NeedForm(data={
            "initiative": need.initiative, "legal_form": need.legal_form, "sector": need.sector,
            "description": need.description, "contact_name": need.contact_name,
            "contact_email": need.contact_email, "min_area_m2": need.min_area_m2,
            "max_area_m2": need.max_area_m2, "max_rent_eur_month": need.max_rent_eur_month,
            "uses": need.use_list, "areas": ", ".join(need.area_list),
            "max_distance_m": int(need.max_distance_m or 1000), "needed_from": need.needed_from,
            "min_months": need.min_months, "accessible": need.accessible,
            "willing_to_share": need.willing_to_share, "hide_name": need.hide_name,
        })  # fmt: skip
        form.alerts.data, form.introductions.data = mail_choices(need.id)
        from spacematch.domain.needs import point_wgs84

        point = point_wgs84(need)
        form.point.data = f"{point[0]},{point[1]}" if point else ""
    elif _submitted(form):
        # A date that has passed since the need was declared may stay; a new one may not.
        unchanged = request.form.get("needed_from") == need.needed_from.isoformat()
        clean = _validated(form, status=need.status, allow_past=unchanged)
        if clean is not None:
            with state().store.session() as session:
                row = session.get(Need, need.id)
                assert row is not None  # _need_by_token found it (and aborts 404 when not)
                update_need(row, clean)
                save_mail_choices(session, need.id, *_mail_choice())
            flash(_l("Je ruimtevraag is bijgewerkt."), "ok")
            return redirect(url_for("needs.private", token=token))
    return _form_page(form, editing=True, need=need)


def _mail_choice() -> tuple[str, bool]:
    """The form's alert frequency (daily when absent or unknown) and consent to introductions."""
    alerts = request.form.get("alerts", "daily")
    return (alerts if alerts in ALERT_LABELS else "daily"), "introductions" in request.form


def _validated(form: NeedForm, *, status: str | None = None, allow_past: bool = False):
    """The clean need, or None with every problem attached to its field (an unknown postcode
    too, which validate_need cannot see)."""
    postcode_error = form.postcode_error()
    data = form.need_data()
    if status is not None:
        data["status"] = status
    try:
        clean = validate_need(data, areas=area_index(), allow_past=allow_past)
    except ValidationError as err:
        _attach_errors(form, err)
        clean = None
    if postcode_error:
        form.postcode.errors = [postcode_error]
        return None
    return clean


def _form_page(form: NeedForm, **context):
    """The form, with its error summary after a wrong submit (then status 400)."""
    status = 400 if request.method == "POST" else 200
    centroids, raw = pc4_centroids(), request.form
    return render_template(
        "needs/form.html",
        form=form,
        problems=form_problems(form, form.form_errors),
        pc4_count=len(centroids),
        pc4_json=json.dumps({k: [round(v[0], 6), round(v[1], 6)] for k, v in centroids.items()}),
        point_set=bool(raw.get("point") or raw.get("postcode") or form.point.data),
        **context,
    ), status


@bp.post("/<token>/withdraw")
def withdraw(token: str):
    need = _need_by_token(token)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    with state().store.session() as session:
        row = session.get(Need, need.id)
        assert row is not None  # _need_by_token found it (and aborts 404 when not)
        if row.status == "open":
            row.status = "ingetrokken"  # the database trigger moves the data version
    flash(_l("Je ruimtevraag is ingetrokken. Ze staat niet meer in de rangschikkingen."), "ok")
    return redirect(url_for("needs.private", token=token))
