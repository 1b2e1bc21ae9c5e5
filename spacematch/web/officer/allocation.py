"""The allocation proposal (officers): for a selection of properties, the engine's best
one-to-one pairing with open needs. It only proposes; each pair links to the property page,
where the officer moves the property through the workflow.

Scope: the selected properties that are ``beschikbaar`` (others are listed as skipped), and the
open needs that are a candidate (``rank_needs``, the best ``NEEDS_PER_PROPERTY``) of at least one
of them. ``propose_allocation`` then maximises the summed score (+ priority weight x priority)
with each property to at most one need and each need to at most one property.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, cast

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField, TextAreaField
from wtforms.validators import NumberRange, Optional

from spacematch.domain.properties import find_properties
from spacematch.matching import (
    MatchIndex,
    Pair,
    propose_allocation,
    rank_needs,
)
from spacematch.models import Need, Property
from spacematch.web.auth import role_required
from spacematch.web.common import area_index, index_cache, match_weights
from spacematch.web.labels import CRITERION_LABELS, LEGAL_FORM_LABELS, STATUS_LABELS
from spacematch.web.locale import language
from spacematch.web.needs.form import CheckboxList
from spacematch.web.officer.blueprint import OFFICER_ROLES, bp
from spacematch.web.officer.properties import (
    filter_args,
    layer_titles,
    parse_officer_filter,
)
from spacematch.web.state import state

MAX_SELECTION = 300
NEEDS_PER_PROPERTY = 50


class AllocationForm(FlaskForm):
    property = CheckboxList(_l("Panden"), choices=[])
    ids = TextAreaField(_l("Of pand-id's (één per regel, of gescheiden door komma's)"))
    priority_weight = DecimalField(
        _l("Gewicht van de voorrang gemeenschapseconomie (0–1)"),
        places=None,
        default=0.5,
        validators=[Optional(), NumberRange(min=0, max=1)],
    )


@dataclass
class Proposal:
    pairs: list[Pair]
    unassigned: list[str]  # selected, available, but no pair
    skipped: list[str] = field(default_factory=list)  # selected but not beschikbaar
    unknown: list[str] = field(default_factory=list)  # no such property
    need_count: int = 0

    @property
    def total_value(self) -> float:
        return sum(p.value for p in self.pairs)

    @property
    def total_score(self) -> float:
        return sum(p.score for p in self.pairs)


def build_proposal(
    index: MatchIndex, property_ids: list[str], *, weights: dict[str, float], priority_weight: float
) -> Proposal:
    """Gather the selected properties' candidate needs and let the engine pair them."""
    available, skipped, unknown = [], [], []
    for pid in dict.fromkeys(property_ids):
        pos = index.position.get(pid)
        if pos is None:
            unknown.append(pid)
        elif not index.available[pos]:
            skipped.append(pid)
        else:
            available.append(pid)
    need_ids = list(
        dict.fromkeys(
            m.need_id
            for pid in available
            for m in rank_needs(index, pid, limit=NEEDS_PER_PROPERTY, weights=weights)
            if m.need_id is not None
        )
    )
    pairs = propose_allocation(
        index, need_ids, available, weights=weights, priority_weight=priority_weight
    )
    paired = {p.property_id for p in pairs}
    return Proposal(
        pairs=pairs,
        unassigned=[pid for pid in available if pid not in paired],
        skipped=skipped,
        unknown=unknown,
        need_count=len(need_ids),
    )


def _listed_properties(args: dict[str, str]) -> tuple[list[Property], int, dict[str, str], dict]:
    """The available properties of the current /properties filter (at most MAX_SELECTION)."""
    titles = layer_titles()
    flt, applied, errors = parse_officer_filter(args, set(titles))
    flt = dataclasses.replace(flt, status=("beschikbaar",), limit=MAX_SELECTION + 1, offset=0)
    with state().store.sessions() as session:
        rows = find_properties(session, flt, areas=area_index())
    return rows[:MAX_SELECTION], len(rows), applied, errors


def _split_ids(raw: str) -> list[str]:
    return [t for t in re.split(r"[\s,;]+", raw or "") if t]


@bp.route("/allocation", methods=["GET", "POST"])
@role_required(*OFFICER_ROLES)
def allocation():
    """GET: the filter's available properties to select. POST: the proposal for a selection."""
    args = filter_args(request.args)
    listed, found, applied, filter_errors = _listed_properties(args)
    form = AllocationForm()
    form.property.choices = [(p.id, p.id) for p in listed]
    # Nothing is ticked until the officer chooses: a proposal over every listed property is a
    # click away ("select all": ?all=1), never the default.
    if request.method == "GET" and request.args.get("all") == "1":
        form.property.data = [p.id for p in listed]
    proposal = None
    status = 200
    if request.method == "POST":
        selected = list(dict.fromkeys([*(form.property.data or []), *_split_ids(form.ids.data)]))
        if not form.validate_on_submit():
            status = 400
        elif not selected:
            form.form_errors.append(_("Kies minstens één pand."))
            status = 400
        elif len(selected) > MAX_SELECTION:
            form.form_errors.append(_("Kies hoogstens %(n)s panden tegelijk.", n=MAX_SELECTION))
            status = 400
        elif request.form.get("action") == "round":
            return _open_round(selected)
        else:
            raw = form.priority_weight.data
            weight = float(raw if raw is not None else 0)
            proposal = build_proposal(
                index_cache().get(), selected, weights=match_weights(), priority_weight=weight
            )
    context = _context(proposal, listed)
    return render_template(
        "officer/allocation.html",
        form=form,
        listed=listed,
        found=found,
        max_selection=MAX_SELECTION,
        applied=applied,
        filter_errors=filter_errors,
        # url_for's stub types **values by its _external and co; these are plain strings.
        action=url_for("officer.allocation", **cast("dict[str, Any]", applied)),
        **context,
    ), status


def _context(proposal: Proposal | None, listed: list[Property]) -> dict:
    """Names, addresses and reasons for the page (in the user's language)."""
    lang = language()
    ids = {p.id for p in listed}
    need_ids: set[int] = set()
    if proposal is not None:
        ids |= {p.property_id for p in proposal.pairs} | set(proposal.unassigned)
        ids |= set(proposal.skipped)
        need_ids = {p.need_id for p in proposal.pairs}
    with state().store.sessions() as session:
        props = {p.id: p for p in session.scalars(select(Property).where(Property.id.in_(ids)))}
        needs = {n.id: n for n in session.scalars(select(Need).where(Need.id.in_(need_ids)))}
    rows = []
    if proposal is not None:
        for pair in proposal.pairs:
            rows.append(
                {
                    "pair": pair,
                    "property": props.get(pair.property_id),
                    "need": needs.get(pair.need_id),
                    "criteria": [
                        (CRITERION_LABELS[name], c.score, c.reason.text(lang))
                        for name, c in pair.criteria.items()
                    ],
                    "priority_reason": pair.match.priority_reason.text(lang),
                    "url": url_for(
                        "officer.property_page", property_id=pair.property_id, need=pair.need_id
                    ),
                }
            )
    return {
        "proposal": proposal,
        "rows": rows,
        "props": props,
        "status_labels": STATUS_LABELS,
        "legal_form_labels": LEGAL_FORM_LABELS,
    }


def _open_round(selected: list[str]):
    """Open an allocation round over the selection with the default policy (see /toewijzingen)."""
    from flask import flash, redirect
    from flask_login import current_user

    from spacematch.matching.round_store import RoundError, open_round

    try:
        with state().store.session() as session:
            rnd = open_round(session, selected, None, actor=current_user.email)
            round_id = rnd.id
    except RoundError as err:
        for message in err.errors.values():
            flash(message, "error")
        return redirect(url_for("officer.allocation"))
    return redirect(url_for("rounds.officer_round", round_id=round_id))
