"""The officer's page of one property: its candidate initiatives (list and map), its status
history and the workflow form that moves it to the next status. Registered on the ``officer``
blueprint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, TextAreaField

from spacematch import maps
from spacematch.domain import workflow
from spacematch.domain.messages import Message, ValidationError
from spacematch.export.tables import need_geometries, property_features, property_record
from spacematch.formatting import number, score
from spacematch.geojson import geometries_wgs84
from spacematch.matching import Match, rank_needs
from spacematch.models import (
    USES,
    Area,
    Layer,
    Need,
    Property,
    StatusEvent,
)
from spacematch.web.auth import role_required
from spacematch.web.common import (
    area_index,
    index_cache,
    map_config,
    match_weights,
    render_map,
    whole_number,
)
from spacematch.web.forms import form_problems
from spacematch.web.labels import (
    CRITERION_LABELS,
    LEGAL_FORM_LABELS,
    MAP_LABELS,
    SECTOR_LABELS,
    STATUS_LABELS,
    USE_LABELS,
)
from spacematch.web.locale import language
from spacematch.web.officer.blueprint import OFFICER_ROLES, bp
from spacematch.web.state import state

# The Kadaster's BAG viewer, opened on one verblijfsobject.
BAG_VIEWER_URL = "https://bagviewer.kadaster.nl/lvbag/bag-viewer/?objectId={id}"

CANDIDATE_LIMIT = 20


class StatusForm(FlaskForm):
    """Rendering and CSRF only: ``workflow.transition`` judges the step, the need and the reason,
    so its messages are the same wherever a transition is made."""

    to_status = SelectField(_l("Nieuwe status"), choices=[], validate_choice=False)
    need = SelectField(_l("Initiatief"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Reden"))


def _candidates(property_id: str, *, by_priority: bool) -> list[Match]:
    index = index_cache().get()
    if property_id not in index.position:
        return []
    return rank_needs(
        index, property_id, limit=CANDIDATE_LIMIT, weights=match_weights(), priority=by_priority
    )


def _event_need_id(events: list[StatusEvent], status: str) -> int | None:
    """The need of the latest event that moved the property to ``status``."""
    for event in reversed(events):
        if event.to_status == status:
            return event.need_id
    return None


def _candidate_rows(matches: list[Match], needs: Mapping[int, Need], lang: str) -> list[dict]:
    rows = []
    for rank, match in enumerate(matches, start=1):
        need = needs.get(match.need_id or -1)
        if need is None:  # deleted between the index build and this query
            continue
        rows.append(
            {
                "rank": rank,
                "need": need,
                "score": match.score,
                "criteria": [
                    (name, CRITERION_LABELS[name], c.score, c.reason.text(lang))
                    for name, c in match.criteria.items()
                ],
                "priority": match.priority or 0.0,
                "priority_reason": match.priority_reason.text(lang),
            }
        )
    return rows


def _candidates_collection(rows: list[dict], lang: str) -> dict:
    """The candidates for the map: a need's point, else its preferred areas (simplified)."""
    import shapely

    if not rows:
        return {"type": "FeatureCollection", "features": []}
    geoms = need_geometries([r["need"] for r in rows], area_index())
    features = []
    kept = [(row, g) for row, g in zip(rows, geoms, strict=True) if g is not None]
    wkbs = [shapely.to_wkb(shapely.simplify(g, 10.0)) for _row, g in kept]
    for (row, _g), geometry in zip(kept, geometries_wgs84(wkbs), strict=True):
        need = row["need"]
        features.append(
            {
                "type": "Feature",
                "id": need.id,
                "geometry": geometry,
                "properties": {
                    "label": f"{row['rank']}. {need.initiative}",
                    "name": f"{row['rank']}. {need.initiative}",
                    "score": row["score"],
                    "score_text": score(row["score"], lang),
                    "priority_text": (
                        f"{number(row['priority'], lang, 1)} ({row['priority_reason']})"
                    ),
                    "legal_form": str(LEGAL_FORM_LABELS.get(need.legal_form, need.legal_form)),
                    "reasons": " · ".join(text for _n, _l, _s, text in row["criteria"]),
                },
            }
        )
    features.reverse()  # the best candidate is drawn last, on top
    return {"type": "FeatureCollection", "features": features}


def _property_collection(prop: Property) -> dict:
    features = property_features([prop], area_index())
    record = features[0]["properties"]
    record["name"] = prop.name or prop.id
    record["status"] = str(STATUS_LABELS.get(prop.status, prop.status))
    return {"type": "FeatureCollection", "features": features}


MAIL_KIND_LABELS = {
    "status_option": _l("in optie"), "status_assigned": _l("toegewezen"),
    "status_released": _l("optie vervallen"),
}  # fmt: skip
MAIL_STATE_LABELS = {
    "pending": _l("wacht"), "sending": _l("wordt verstuurd"), "sent": _l("verstuurd"),
    "failed": _l("mislukt"),
}  # fmt: skip
# The usual next step from each status, preselected in the status form.
NEXT_STEP = {
    "beschikbaar": "in_optie",
    "in_optie": "toegewezen",
    "toegewezen": "beschikbaar",
    "ingetrokken": "beschikbaar",
}


def property_context(property_id: str, form: StatusForm) -> dict[str, Any]:
    """Everything the property page shows; fills the status form's choices."""
    lang = language()
    areas = area_index()
    by_priority = request.args.get("sort") == "priority"
    with state().store.sessions() as session:
        prop = session.get(Property, property_id)
        if prop is None:
            abort(404)
        layer = session.get(Layer, prop.layer)
        events = workflow.history(session, property_id)
        matches = _candidates(property_id, by_priority=by_priority)
        wanted = request.args.get("need", "")
        wanted_id = whole_number(wanted)
        extra_ids = {e.need_id for e in events if e.need_id is not None}
        if wanted_id is not None:
            extra_ids.add(wanted_id)
        need_ids = {m.need_id for m in matches if m.need_id is not None} | extra_ids
        needs = {n.id: n for n in session.scalars(select(Need).where(Need.id.in_(need_ids)))}
        buurt = session.get(Area, prop.buurt_code)
        from spacematch.domain.interests import interested_in
        from spacematch.mail.outbox import mails_for_property

        mails = [
            (m, needs.get(m.need_id) if m.need_id is not None else None)
            for m in mails_for_property(session, property_id)
        ]
        interest = interested_in(session, property_id)
    candidates = _candidate_rows(matches, needs, lang)
    for row in candidates:
        row["interest_rank"] = interest.get(row["need"].id)
    candidates.sort(key=lambda r: r["interest_rank"] is None)
    option_status = prop.status if prop.status in workflow.NEEDS_A_NEED else None
    option_need = needs.get(_event_need_id(events, option_status) or -1) if option_status else None

    _fill_status_form(form, prop, needs, candidates, option_need, wanted_id, lang)

    record = property_record(prop, areas)
    m = maps.property_map(
        map_config(),
        property_fc=_property_collection(prop),
        candidates_fc=_candidates_collection(candidates, lang),
        labels={k: str(v) for k, v in MAP_LABELS.items()},
    )
    return {
        "prop": prop,
        "record": record,
        "layer_title": layer.title if layer is not None else prop.layer,
        "buurt_name": buurt.name if buurt is not None else prop.buurt_code,
        "lineage": [(c, areas.names.get(c, c)) for c in areas.lineage(prop.buurt_code)]
        if prop.buurt_code in areas
        else [],
        "candidates": candidates,
        "by_priority": by_priority,
        "option_need": option_need,
        "option_status": option_status,
        "history": [(e, needs.get(e.need_id) if e.need_id is not None else None) for e in events],
        "mails": mails,
        "mail_kinds": MAIL_KIND_LABELS,
        "mail_states": MAIL_STATE_LABELS,
        "lease_ends": prop.status == "toegewezen" and prop.available_until is not None,
        "form": form,
        "problems": form_problems(form, form.form_errors) if request.method == "POST" else [],
        "status_labels": STATUS_LABELS,
        "bag_viewer_url": BAG_VIEWER_URL,
        "uses_form": UsesForm(),
        "all_uses": USES,
        "legal_form_labels": LEGAL_FORM_LABELS,
        "sector_labels": SECTOR_LABELS,
        "use_labels": USE_LABELS,
        **render_map(m),
    }


def _fill_status_form(
    form: StatusForm,
    prop: Property,
    needs: dict[int, Need],
    candidates: list[dict],
    option_need: Need | None,
    wanted_id: int | None,
    lang: str,
) -> None:
    """The status form's choices: the allowed steps, and the needs to name (the current
    option's, the one asked for with ``?need=``, then the candidates in order)."""
    form.to_status.choices = [
        (s, str(STATUS_LABELS[s])) for s in workflow.allowed_transitions(prop.status)
    ]
    choices: list[tuple[str, str]] = [("", _("— kies een initiatief —"))]
    seen: set[int] = set()
    if option_need is not None and option_need.status == "open":
        choices.append(
            (str(option_need.id), _("%(name)s (huidige optie)", name=option_need.initiative))
        )
        seen.add(option_need.id)
    if wanted_id in needs and wanted_id not in seen:
        need = needs[wanted_id]
        if need.status == "open":
            choices.append((str(need.id), need.initiative))
            seen.add(need.id)
    for row in candidates:
        if row["need"].id not in seen:
            label = f"{row['rank']}. {row['need'].initiative} ({number(row['score'], lang, 2)})"
            choices.append((str(row["need"].id), label))
            seen.add(row["need"].id)
    form.need.choices = choices
    if request.method == "GET":
        # The step an officer most often takes next (the first allowed one is not always it).
        form.to_status.data = NEXT_STEP.get(prop.status)
        if wanted_id in seen:
            form.need.data = str(wanted_id)
        elif option_need is not None and option_need.id in seen:
            form.need.data = str(option_need.id)


@bp.get("/properties/<path:property_id>")
@role_required(*OFFICER_ROLES)
def property_page(property_id: str):
    form = StatusForm()
    return render_template("officer/property.html", **property_context(property_id, form))


def _attach_errors(form: StatusForm, errors: Mapping[str, Message]) -> None:
    lang = language()
    fields = {"status": form.to_status, "need": form.need, "reason": form.reason}
    for name, message in errors.items():
        field = fields.get(name)
        if field is None:
            form.form_errors.append(message.text(lang))
        else:
            field.errors = [*field.errors, message.text(lang)]


@bp.post("/properties/<path:property_id>/status")
@role_required(*OFFICER_ROLES)
def property_status(property_id: str):
    """One workflow step: ``workflow.transition`` with the officer as the actor."""
    form = StatusForm()
    if not form.validate_on_submit():  # CSRF only: the fields have no validators
        form.form_errors.append(_("Het formulier is verlopen; verstuur het opnieuw."))
    else:
        raw_need = (form.need.data or "").strip()
        need_id = whole_number(raw_need)
        from spacematch.mail.messages import status_mail
        from spacematch.web.mail import deliver_now, message_domain

        mails: list = []
        try:
            with state().store.session() as session:
                event = workflow.transition(
                    session,
                    property_id=property_id,
                    to_status=form.to_status.data or "",
                    need_id=need_id,
                    reason=form.reason.data or "",
                    actor=current_user.email,
                    on_change=lambda s, e: mails.extend(status_mail(s, e, domain=message_domain())),
                )
                from_status, to_status = event.from_status, event.to_status
        except ValidationError as err:
            if "property" in err.errors:
                abort(404)
            _attach_errors(form, err.errors)
        else:
            deliver_now(*mails)
            flash(
                _(
                    "Status gewijzigd: %(old)s → %(new)s.",
                    old=STATUS_LABELS[from_status],
                    new=STATUS_LABELS[to_status],
                ),
                "ok",
            )
            return redirect(url_for("officer.property_page", property_id=property_id))
    context = property_context(property_id, form)
    return render_template("officer/property.html", **context), 400


@bp.post("/properties/<path:property_id>/uses")
@role_required(*OFFICER_ROLES)
def property_uses(property_id: str):
    """Map a unit of unknown kind to use classes (it is matched from then on)."""
    from spacematch.domain.properties import map_unmapped_uses

    if not UsesForm().validate_on_submit():
        flash(_("Het formulier is verlopen; verstuur het opnieuw."), "error")
        return redirect(url_for("officer.property_page", property_id=property_id))
    try:
        with state().store.session() as session:
            prop = map_unmapped_uses(session, property_id, request.form.getlist("uses"))
    except ValueError:
        flash(_("Kies een of meer gebruiksklassen."), "error")
        return redirect(url_for("officer.property_page", property_id=property_id))
    if prop is None:
        abort(404)
    flash(_("Gebruiksklassen opgeslagen; het pand wordt nu gematcht."), "ok")
    return redirect(url_for("officer.property_page", property_id=property_id))


class UsesForm(FlaskForm):
    """CSRF only: the use checkboxes are read from the form as a list."""
