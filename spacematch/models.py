"""SQLAlchemy 2 models: the store's schema.

Geometry is kept portable (SQLite and PostgreSQL without PostGIS): WKB in RD New plus the bounds
and a representative point as plain columns, so bbox filters run in SQL and the R-tree is built
from numbers without parsing geometry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

USES = (
    "kantoor",
    "atelier",
    "werkplaats",
    "winkel",
    "horeca",
    "maatschappelijk",
    "opslag",
    "grond",
)
# One bit per use class, in USES order: a property's or need's uses as one integer mask (the
# layer import stores masks as strings, the matching index keeps them as int64 arrays).
USE_BITS = {u: 1 << i for i, u in enumerate(USES)}
# ``verhuurd``: let under a contract (the city's whole-city export lists let units too). Stored and
# shown to officers as context; never offered, matched or published.
PROPERTY_STATUSES = ("beschikbaar", "in_optie", "toegewezen", "ingetrokken", "verhuurd")
# Statuses shown to the public and offered to needs: a let unit is context for officers only.
PUBLIC_STATUSES = ("beschikbaar", "in_optie", "toegewezen", "ingetrokken")
NEED_STATUSES = ("open", "gehuisvest", "ingetrokken")
LEGAL_FORMS = ("cooperatie", "stichting", "vereniging", "sociale_onderneming", "mkb", "informeel")
SECTORS = (
    "voedsel",
    "energie",
    "zorg",
    "wonen",
    "cultuur",
    "maken",
    "sport",
    "onderwijs",
    "overig",
)
AREA_LEVELS = ("stadsdeel", "gebied", "wijk", "buurt")
ROLES = ("officer", "planner", "admin")


class Base(DeclarativeBase):
    pass


class GeometryColumns:
    """RD New geometry as WKB, with its bounds and a representative point (x, y)."""

    geom: Mapped[bytes] = mapped_column(LargeBinary)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)


class Area(GeometryColumns, Base):
    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(8), index=True)
    stadsdeel_code: Mapped[str] = mapped_column(String(1))
    gebied_code: Mapped[str | None] = mapped_column(String(8))
    area_m2: Mapped[float] = mapped_column(Float)


class Layer(Base):
    """One property layer: what was imported, from where, and whether it is demo data."""

    __tablename__ = "layer"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    source_crs: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    # The last import's report as JSON (counts and rows; see spacematch.ingest.report).
    report: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))


class Property(GeometryColumns, Base):
    __tablename__ = "property"

    # "<layer>.<id within the layer>", stable across re-imports of the layer.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    layer: Mapped[str] = mapped_column(ForeignKey("layer.slug"), index=True)
    source_id: Mapped[str] = mapped_column(String(160))
    name: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    geom_type: Mapped[str] = mapped_column(String(16))
    area_m2: Mapped[float] = mapped_column(Float)
    rent_eur_m2_year: Mapped[float] = mapped_column(Float)
    uses: Mapped[str] = mapped_column(String(200))  # comma-separated use classes
    available_from: Mapped[dt.date] = mapped_column(Date)
    available_until: Mapped[dt.date | None] = mapped_column(Date)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="beschikbaar", index=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    # "" for a property outside Amsterdam (more than the snap distance from every buurt).
    buurt_code: Mapped[str] = mapped_column(String(8), index=True)
    # Distance in metres to the nearest buurt: None inside a buurt, the snap distance for a point
    # taken into its nearest buurt, and the distance for one kept "buiten Amsterdam" (buurt "").
    outside_m: Mapped[float | None] = mapped_column(Float)
    # The source's kind of unit (vheSoort) as given; a unit whose kind maps to no use class is
    # stored with uses "" and is not matched until an officer maps the kind.
    kind: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    # BAG verblijfsobject ids (16 digits each), comma-separated.
    bag_ids: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))

    __table_args__ = (Index("ix_property_bounds", "minx", "miny", "maxx", "maxy"),)

    @property
    def use_list(self) -> list[str]:
        return [u for u in self.uses.split(",") if u]

    @property
    def bag_id_list(self) -> list[str]:
        return [b for b in (self.bag_ids or "").split(",") if b]

    @property
    def is_outside(self) -> bool:
        return not self.buurt_code


class Need(Base):
    __tablename__ = "need"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    initiative: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(32))
    sector: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text, default="")
    min_area_m2: Mapped[float] = mapped_column(Float)
    max_area_m2: Mapped[float] = mapped_column(Float)
    max_rent_eur_month: Mapped[float] = mapped_column(Float)
    uses: Mapped[str] = mapped_column(String(200))
    areas: Mapped[str] = mapped_column(Text, default="")  # comma-separated area codes
    x: Mapped[float | None] = mapped_column(Float)  # optional point, RD New
    y: Mapped[float | None] = mapped_column(Float)
    max_distance_m: Mapped[float | None] = mapped_column(Float)
    needed_from: Mapped[dt.date] = mapped_column(Date)
    min_months: Mapped[int] = mapped_column(Integer, default=12)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    # Public allocation results show the initiative's name unless it chose not to be named (then
    # only its legal form); a need willing to share may be offered part of a larger space.
    hide_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    willing_to_share: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )

    @property
    def use_list(self) -> list[str]:
        return [u for u in self.uses.split(",") if u]

    @property
    def area_list(self) -> list[str]:
        return [a for a in self.areas.split(",") if a]


class StatusEvent(Base):
    """One step of a property's allocation workflow. Kept when the property's layer is re-imported,
    so it refers to the property by its stable id rather than by a foreign key."""

    __tablename__ = "status_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[str] = mapped_column(String(200), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("need.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


ROUND_STATUSES = ("open", "drawn")
AWARD_STATUSES = ("offered", "accepted", "refused", "overridden", "released")


class AllocationRound(Base):
    """An allocation round: its published policy and seed commitment; after the draw the seed
    and a frozen copy of the inputs (applications with tiers), so anyone can recompute it."""

    __tablename__ = "allocation_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    policy: Mapped[str] = mapped_column(Text)  # JSON
    commitment: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64))  # secret until status == "drawn"
    inputs: Mapped[str | None] = mapped_column(Text)  # JSON, frozen at the draw
    opened_by: Mapped[str] = mapped_column(String(254), default="")
    drawn_by: Mapped[str] = mapped_column(String(254), default="")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    drawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RoundSpace(Base):
    """A space in a round; ``capacity`` > 1 offers it to a group of initiatives sharing it."""

    __tablename__ = "round_space"

    round_id: Mapped[int] = mapped_column(ForeignKey("allocation_round.id"), primary_key=True)
    property_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer, default=1)


class RoundAward(Base):
    """One seat of a space offered to one need in a round, and what became of the offer.

    ``held_property_id`` equals ``property_id`` while the offer stands (offered or accepted) and
    is NULL once it is refused or overridden. The unique constraint on (held_property_id, seat)
    is the database's guarantee that one seat of a space never has two holders - across
    rounds, and whatever two officers do at the same moment (NULLs never collide).
    """

    __tablename__ = "round_award"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("allocation_round.id"), index=True)
    property_id: Mapped[str] = mapped_column(String(200), index=True)
    seat: Mapped[int] = mapped_column(Integer, default=0)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    held_property_id: Mapped[str | None] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16), default="draw")  # draw, waiting_list, override
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    __table_args__ = (UniqueConstraint("held_property_id", "seat", name="uq_round_award_holder"),)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Carried in every session cookie and compared on every request: moving it (logout, a new
    # password, deactivation, ``flask end-sessions``) ends every session of the account.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StoreState(Base):
    """One row: the data versions. Every write to properties or needs bumps ``data_version``, so
    each app process can tell in one cheap query whether its in-memory matching index is stale;
    writes that touch properties also bump ``property_version``, so a burst of need submissions
    does not make every process rebuild the property side of its index (which is all a need's own
    ranking reads)."""

    __tablename__ = "store_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data_version: Mapped[int] = mapped_column(Integer, default=0)
    property_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


ALERT_CHOICES = ("daily", "weekly", "off")
OUTBOX_STATES = ("pending", "sending", "sent", "failed")


class NeedMail(Base):
    """A need's mail settings and alert bookkeeping, one row per need. Kept apart from ``need``
    so confirming an address or sending a digest does not move the data version (and so does not
    make every process rebuild its matching index)."""

    __tablename__ = "need_mail"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("need.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), default="nl")
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    alerts: Mapped[str] = mapped_column(String(8), default="daily")
    # The unsubscribe secret: one-click alert off without the private page's token.
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Consent to let initiatives interested in the same space see the initiative's name and send
    # it one introduction through the service.
    introductions: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Comma-separated property ids already reported as fits (the digest lists only new ones).
    reported: Mapped[str] = mapped_column(Text, default="")
    # The lease end a lease-end mail was last sent for (one per lease).
    lease_notice_for: Mapped[dt.date | None] = mapped_column(Date)


class Outbox(Base):
    """One mail, written in the transaction of the event that causes it and delivered after the
    commit (at once, and again by ``flask notify``). ``dedupe_key`` makes enqueueing idempotent
    (one confirmation per need, one digest per need and period, one mail per status event)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("need.id", ondelete="SET NULL"))
    property_id: Mapped[str | None] = mapped_column(String(200), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the templates show
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)


class Interest(Base):
    """An initiative's "we are interested" in a space, in its order of preference (rank 1 first).
    Read by the allocation rounds (issue 13) through ``spacematch.domain.interests``."""

    __tablename__ = "interest"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("need.id", ondelete="CASCADE"), primary_key=True
    )
    property_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    rank: Mapped[int] = mapped_column(Integer)


class Introduction(Base):
    """One introduction mail from one need to another about one space (at most one per pair)."""

    __tablename__ = "introduction"

    from_need_id: Mapped[int] = mapped_column(
        ForeignKey("need.id", ondelete="CASCADE"), primary_key=True
    )
    to_need_id: Mapped[int] = mapped_column(
        ForeignKey("need.id", ondelete="CASCADE"), primary_key=True
    )
    property_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
