"""Misuse and limit alerts: the rules run after every change, and acknowledging what they raise.

How the rules are run
    :class:`AlertService` registers :meth:`AlertService._observe` as an observer of its
    :class:`~seatledger.services.core.context.Context`.  ``Context.change`` calls it after appending
    each change's ledger entry, *inside the same transaction*: the window, the command line, bulk
    actions and imports all go through ``ctx.change``, so none can skip the rules, and an alert
    commits or rolls back with the change that caused it (it names that entry's ``seq``).  Each
    call looks only at the change just made (``change.before``/``change.after`` and the rows it
    touched) — evaluation is incremental by construction, one entry at a time, and costs two
    indexed statements on a seat assignment (a release adds clearing what ended): the settings,
    and the operator's N-th newest seat entry on ``ix_ledger_operator_seq`` with whether their
    burst alert is uncleared (burst).  The
    limit and warning rules take the entitlement as the change left it (``change.counted``: a
    seat change has the row in hand) instead of reading it again; only when a rule fires is the
    dedupe key looked up on ``ix_alert_dedupe_key``.  Raising an alert is not itself a ledger
    entry (it is derived from one); acknowledging it is.

Which changes each rule looks at
    - **limit / warning**: seat assignments (the entitlement assigned), entitlement edits, and
      imports (every license at or above the warning level, and those with an alert to clear).
      Releases only clear: a license coming down is not news.
    - **over-commit**: a seat assignment recorded as an exception.
    - **unlicensed installs**: an inventory import; the installs it inserted (the highest ids,
      by its own count) on devices where neither the device nor its owner holds a seat of the
      product and no site license covers it, one alert per product.  Over 100,000 new installs,
      only products with no license in term are counted (no per-install check), so a large
      import pays a range scan, not a reconciliation.  A re-import that inserts nothing costs
      nothing.
    - **burst**: any seat assignment or release; fires when the operator's N-th newest seat entry
      is within M minutes, clears when a later one is not.
    - **after hours**: any change (acknowledging an alert excepted), in the configured time zone.
    - **departed**: someone marked as left, a person edit and an HR import; one alert per
      person still holding seats (at most :data:`DEPARTED_CAP` per change); releases clear them.
    - **shared credentials / use after leaving**: a usage import, on the sessions it wrote;
      **review kept without reasons**: an access review decision to keep; **installed for long
      without a seat** (off unless turned on): an inventory import, on every open install of
      people's devices (see :mod:`.misuse`).

Dedupe
    An alert has a ``dedupe_key`` naming its condition (``limit:<entitlement>``,
    ``after_hours:<operator>:<local date>`` …).  No alert is raised while another with the same
    key has not been cleared; state conditions are cleared when they end (the license is back
    under its limit, the person no longer holds seats), so the same license crossing its limit
    again later raises a new alert, and acknowledging does not make one come back at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from seatledger.domain.alerts import PREFIX, AlertSettings, Level, Rule, Severity, level
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.alerts import misuse
from seatledger.services.alerts.evaluation import UNCLEARED, Evaluation
from seatledger.services.core.context import Appended, Change, Context, iso
from seatledger.services.core.selects import COUNTED, Counted, titled
from seatledger.services.position.engine import in_term
from seatledger.store.models import (
    Device,
    Entitlement,
    Installation,
    LedgerEntry,
    Person,
    Product,
    SeatAssignment,
    Setting,
    SoftwareTitle,
    Vendor,
)
from seatledger.store.models_alerts import Alert
from seatledger.store.prepared import Sql
from seatledger.text import plural

ASSIGN_ACTIONS = frozenset({"seat.assign", "seat.bulk_assign"})
RELEASE_ACTIONS = frozenset({"seat.release", "seat.bulk_release", "seat.release_departed"})
SEAT_ACTIONS = ASSIGN_ACTIONS | RELEASE_ACTIONS
PEOPLE_ACTIONS = frozenset({"person.leave", "person.update", "import.people"})
DEPARTED_STATUSES = ("left", "missing")
DEPARTED_CAP = 200
EXACT_CAP = 100_000  # new installs checked one by one after an inventory import
SETTINGS = "change alert settings"


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as listed."""

    id: int
    rule: Rule
    severity: Severity
    subject: str
    detail: str
    entity_type: str
    entity_id: str
    operator: str
    ledger_seq: int | None
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    note: str

    @property
    def open(self) -> bool:
        """Not acknowledged yet."""
        return self.acknowledged_at is None


# The statements every change runs, built once and executed on the change's connection: an
# assignment must stay within milliseconds, and building a select costs more than running it.
_SETTINGS = select(Setting.key, Setting.value).where(
    Setting.key >= PREFIX, Setting.key < PREFIX[:-1] + "/"
)
# The burst rule in one read: the operator's N-th newest seat change, and whether a burst alert
# of theirs is still uncleared (so neither raising nor clearing needs another look).
# Constants written into the statement (names of our own, without quotes): neither an expanding
# list rendered again at every execution nor parameters bound at each.
_SEAT_LITERALS = [literal_column(f"'{action}'", String) for action in sorted(SEAT_ACTIONS)]
_NTH = (
    select(LedgerEntry.ts)
    .where(LedgerEntry.operator == bindparam("operator"), LedgerEntry.action.in_(_SEAT_LITERALS))
    .order_by(LedgerEntry.seq.desc())
    .offset(bindparam("skip"))
    .limit(1)
    .scalar_subquery()
)
_BURST = select(_NTH, UNCLEARED.exists())
_Read = Select[int, str, str | None]


def _first_read(burst: bool, keys: bool) -> _Read | CompoundSelect[int, str, str | None]:
    """What every change's evaluation reads, in one statement: the settings (kind 0), and for
    the rules the previous settings say will run, the burst rule's N-th newest seat change
    (kind 1) and which of two dedupe keys are uncleared (kind 2: the burst's, the after-hours
    one's)."""
    parts: list[_Read] = [
        select(literal_column("0", Integer), Setting.key, Setting.value).where(
            Setting.key >= literal_column(f"'{PREFIX}'", String),
            Setting.key < literal_column(f"'{PREFIX[:-1]}/'", String),
        )
    ]
    if burst:
        parts.append(select(literal_column("1", Integer), literal_column("''", String), _NTH))
    if keys:
        parts.append(
            select(
                literal_column("2", Integer), Alert.dedupe_key, literal_column("''", String)
            ).where(
                Alert.dedupe_key.in_([bindparam("key"), bindparam("hours_key")]),
                Alert.cleared_at.is_(None),
            )
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


# Built once, by which of the burst and dedupe parts they carry.
_FIRST_READS = {(b, k): _first_read(b, k) for b in (False, True) for k in (False, True)}
_PARSED: dict[tuple[tuple[str, str], ...], AlertSettings] = {}  # settings rows -> settings
_LEVELS = titled(*COUNTED).where(Entitlement.id.in_(bindparam("ids", expanding=True)))
_DEPARTED_UNCLEARED = select(Alert.dedupe_key).where(
    Alert.dedupe_key >= "departed:", Alert.dedupe_key < "departed;", Alert.cleared_at.is_(None)
)
_HOLDING = (
    select(SeatAssignment.person_id)
    .where(
        SeatAssignment.person_id.in_(bindparam("ids", expanding=True)),
        SeatAssignment.ended_at.is_(None),
    )
    .distinct()
)


def load_settings(session: Session) -> AlertSettings:
    """The alert settings stored in ``setting`` (defaults for what is not stored)."""
    return _parsed([(key, value) for key, value in session.connection().execute(_SETTINGS)])


def _parsed(rows: list[tuple[str, str]]) -> AlertSettings:
    """The settings the ``setting`` rows say (parsed once for the same rows: they are read on
    every change and seldom change)."""
    stored = tuple(sorted(rows))
    found = _PARSED.get(stored)
    if found is None:
        if len(_PARSED) > 64:
            _PARSED.clear()
        found = _PARSED[stored] = AlertSettings.from_strings(
            {k[len(PREFIX) :]: v for k, v in stored}
        )
    return found


@dataclass(frozen=True, slots=True)
class _FirstRead:
    """The settings, and what the rules likely to run need, read at once (see _first_read)."""

    settings: AlertSettings
    burst: tuple[str | None, bool] | None  # the N-th newest seat change, burst uncleared
    hours_key: str | None  # the after-hours dedupe key asked about
    hours_uncleared: bool


def _after_hours_key(operator: str, settings: AlertSettings, now: dt.datetime) -> str:
    return f"after_hours:{operator}:{settings.local_date(now).isoformat()}"[:200]


def _title(vendor: str, product: str, name: str) -> str:
    base = product if product.lower().startswith(vendor.lower()) else f"{vendor} {product}"
    return f"{base} — {name}" if name else base


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class AlertService:
    """Runs the alert rules after every change; lists, acknowledges and configures alerts."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        # One evaluation per change, however many AlertService objects share the context.
        if not any(isinstance(getattr(o, "__self__", None), AlertService) for o in ctx.observers):
            ctx.observers.append(self._observe)
        # The settings the last change found: what the next one's first read asks for besides.
        self._guess = AlertSettings()

    # -- reading ---------------------------------------------------------------------------

    def settings(self) -> AlertSettings:
        """The rules' current settings."""
        with self._ctx.read() as session:
            return load_settings(session)

    def alerts(self, *, include_acknowledged: bool = False, limit: int = 5000) -> list[AlertRow]:
        """Alerts, newest first: the open ones, or all."""
        query = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if not include_acknowledged:
            query = query.where(Alert.acknowledged_at.is_(None))
        with self._ctx.read() as session:
            return [_row(a) for a in session.scalars(query)]

    def alert(self, alert_id: int) -> AlertRow:
        """One alert.

        Raises:
            NotFoundError: there is no such alert.
        """
        with self._ctx.read() as session:
            found = session.get(Alert, alert_id)
            if found is None:
                raise NotFoundError(f"Alert {alert_id} does not exist.")
            return _row(found)

    def open_count(self) -> int:
        """How many alerts are open."""
        with self._ctx.read() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))
                )
                or 0
            )

    # -- changing --------------------------------------------------------------------------

    def acknowledge(self, alert_id: int, note: str) -> None:
        """Acknowledge an open alert with a note saying what was done (a ledger entry).

        Raises:
            ValidationError: no note, or the alert is already acknowledged.
            NotFoundError: there is no such alert.
            PermissionDenied: viewers may not acknowledge.
        """
        text = note.strip()
        if not text:
            raise ValidationError("Say what was done about the alert.", "Note")
        with self._ctx.change(
            Permission.ACKNOWLEDGE_ALERTS, "alert.acknowledge", "alert", "acknowledge alerts", text
        ) as change:
            found = change.session.get(Alert, alert_id, with_for_update=True)
            if found is None:
                raise NotFoundError(f"Alert {alert_id} does not exist.")
            if found.acknowledged_at is not None:
                raise ValidationError(
                    f"Alert {alert_id} was already acknowledged by {found.acknowledged_by}."
                )
            found.acknowledged_at = change.now
            found.acknowledged_by = self._ctx.actor.name
            found.note = text
            change.entity_id = str(alert_id)
            change.before = {"acknowledged": False}
            change.after = {
                "acknowledged": True,
                "rule": found.rule,
                "subject": found.subject,
                "raised_by_seq": found.ledger_seq,
                "note": text,
            }

    def save_settings(self, new: AlertSettings) -> None:
        """Store the rules' settings (administrators; a ledger entry with what changed)."""
        wanted = {PREFIX + k: v for k, v in new.to_strings().items()}
        with self._ctx.change(
            Permission.MANAGE_SETTINGS, "settings.alerts", "setting", SETTINGS
        ) as change:
            session = change.session
            old = load_settings(session).to_strings()
            stored = dict(
                session.execute(
                    select(Setting.key, Setting.value).where(Setting.key.in_(list(wanted)))
                ).all()
            )
            for key, value in wanted.items():
                if key not in stored:
                    session.add(Setting(key=key, value=value))
                elif stored[key] != value:
                    session.execute(update(Setting).where(Setting.key == key).values(value=value))
            now = new.to_strings()
            change.entity_id = "alerts"
            change.before = {k: v for k, v in old.items() if now[k] != v}
            change.after = {k: v for k, v in now.items() if old[k] != v}

    # -- the rules -------------------------------------------------------------------------

    def _first_read(self, sql: Sql, action: str, now: dt.datetime) -> _FirstRead:
        """The settings, with what the burst and after-hours rules need when the settings of the
        previous change say they will run (one statement where there were three); what the
        settings turn out to say decides, and a rule the guess missed reads for itself."""
        guess = self._guess
        operator = self._ctx.actor.name
        burst = bool(operator) and action in SEAT_ACTIONS and Rule.BURST in guess.enabled
        hours = bool(operator) and Rule.AFTER_HOURS in guess.enabled and guess.outside_hours(now)
        burst_key = f"burst:{operator}"[:200]
        hours_key = _after_hours_key(operator, guess, now) if hours else None
        rows = sql.rows(
            _FIRST_READS[(burst, burst or hours)],
            {
                "operator": operator,
                "skip": guess.burst_count - 1,
                "key": burst_key if burst else hours_key,
                "hours_key": hours_key if hours else burst_key,
            },
        )
        stored: list[tuple[str, str]] = []
        nth: str | None = None
        uncleared: set[str] = set()
        for kind, key, value in rows:
            if kind == 0:
                stored.append((key, value or ""))
            elif kind == 1:
                nth = value
            else:
                uncleared.add(key)
        settings = self._guess = _parsed(stored)
        same_burst = burst and settings.burst_count == guess.burst_count
        return _FirstRead(
            settings,
            (nth, burst_key in uncleared) if same_burst else None,
            hours_key,
            hours_key in uncleared,
        )

    def _observe(self, change: Change, entry: Appended) -> None:
        """Run the rules on the change just recorded (inside its transaction)."""
        action = entry.action
        if action.startswith("alert."):
            return
        now = _as_utc(change.now)
        first = self._first_read(change.sql, action, now)
        settings = first.settings
        enabled = settings.enabled
        if not enabled:
            return
        run = Evaluation(change, now, self._ctx.actor.name, entry.seq)
        after: Any = change.after if isinstance(change.after, dict) else {}
        label = f"{action} (ledger entry {entry.seq})"

        if Rule.AFTER_HOURS in enabled and run.operator and settings.outside_hours(now):
            key = _after_hours_key(run.operator, settings, now)
            known = first.hours_uncleared if key == first.hours_key else None
            if not known:  # the day's alert is still open: nothing to word
                local = now.astimezone(settings.zone())
                run.raise_alert(
                    Rule.AFTER_HOURS,
                    key,
                    f"{run.operator} changed data outside working hours",
                    f"{label} at {local:%a %Y-%m-%d %H:%M} {local.tzname() or ''}; working "
                    f"hours {settings.work_start:%H:%M}–{settings.work_end:%H:%M} "
                    f"{settings.work_days_text}.",
                    ("operator", run.operator),
                    uncleared=known,
                )

        if action in SEAT_ACTIONS and Rule.BURST in enabled and run.operator:
            _burst(run, settings, label, first.burst)

        if action in ASSIGN_ACTIONS and Rule.OVER_COMMIT in enabled and after.get("over_commit"):
            units = after.get("units", 0)
            run.raise_alert(
                Rule.OVER_COMMIT,
                f"over_commit:{entry.seq}",
                f"{run.operator} over-committed {plural(units, 'seat')}: {after['over_commit']}",
                f"{label}; reason: {change.reason}",
                ("entitlement", change.entity_id),
            )

        limits = {Rule.LIMIT, Rule.WARNING} & enabled
        if limits:
            if action in ASSIGN_ACTIONS or action.startswith("entitlement."):
                # An assignment only raises the level; an edit may lower it too.
                if change.entity_id.isdigit():
                    ids = [int(change.entity_id)]
                    clearing = action not in ASSIGN_ACTIONS
                    rows = _counted(run, ids, change.counted)
                    _levels(run, settings, rows, label, raising=True, clearing=clearing)
            elif action in RELEASE_ACTIONS:
                touched = after.get("entitlements", {})
                ids = [int(k) for k in touched if str(k).isdigit()]
                rows = _counted(run, ids, change.counted)
                _levels(run, settings, rows, label, raising=False, clearing=True)
            elif action.startswith("import."):
                rows = _counted(run, _sweep_ids(run.session, settings), None)
                _levels(run, settings, rows, label, raising=True, clearing=True)

        if Rule.DEPARTED in enabled:
            if action in PEOPLE_ACTIONS:
                only = (
                    int(change.entity_id)
                    if action != "import.people" and change.entity_id.isdigit()
                    else None
                )
                _departed(run, label, only)
            elif action in RELEASE_ACTIONS:
                _departed_cleared(run)

        if action == "import.usage" and change.entity_id.isdigit():
            misuse.usage_rules(run, enabled, int(change.entity_id), label)
        if (
            action in misuse.REVIEW_ACTIONS
            and Rule.REVIEW_WITHOUT_REASONS in enabled
            and after.get("decision") == "keep"
            and change.entity_id.isdigit()
        ):
            misuse.review_rules(run, int(change.entity_id), after.get("teams", []), label)

        if action == "import.inventory" and Rule.UNSEATED_INSTALLS in enabled:
            today = settings.local_date(now)
            misuse.unseated_installs(run, settings.unseated_days, today, label)

        if action == "import.inventory" and Rule.UNLICENSED in enabled:
            inserted = after.get("inserted", 0)
            # What the import hands over beside its ledger entry (it writes every inventory).
            by_title: dict[int, int] = change.extra["inserted_by_title"]
            before: int = change.extra["installs_before"]
            count = inserted if isinstance(inserted, int) else 0
            _unlicensed(run, label, count, by_title, before)


def _row(a: Alert) -> AlertRow:
    return AlertRow(
        a.id,
        Rule(a.rule),
        Severity(a.severity),
        a.subject,
        a.detail,
        a.entity_type,
        a.entity_id,
        a.operator,
        a.ledger_seq,
        _as_utc(a.raised_at),
        None if a.acknowledged_at is None else _as_utc(a.acknowledged_at),
        a.acknowledged_by,
        a.note,
    )


def _burst(
    run: Evaluation, settings: AlertSettings, label: str, known: tuple[str | None, bool] | None
) -> None:
    """``known``: the N-th newest seat change and whether a burst alert is uncleared, as read
    with the settings (None: read them here)."""
    key = f"burst:{run.operator}"[:200]
    nth, uncleared = (
        known
        if known is not None
        else run.sql.rows(
            _BURST, {"operator": run.operator, "skip": settings.burst_count - 1, "key": key}
        )[0]
    )
    window = dt.timedelta(minutes=settings.burst_minutes)
    if nth is not None and nth >= iso(run.now - window):
        run.raise_alert(
            Rule.BURST,
            key,
            f"{run.operator} made {settings.burst_count} or more seat changes within "
            f"{settings.burst_minutes} minutes",
            f"The burst began no later than {nth.replace('T', ' ')[:19]} UTC; latest: {label}.",
            ("operator", run.operator),
            uncleared=bool(uncleared),
        )
    elif uncleared:
        run.clear([key])


def _counted(run: Evaluation, ids: list[int], in_hand: list[Counted] | None) -> list[Counted]:
    """The entitlements ``ids`` as the change left them: the rows it has in hand when they are
    these, else read."""
    if in_hand is not None and sorted(row.id for row in in_hand) == sorted(ids):
        return in_hand
    if not ids:
        return []
    return [Counted._make(row) for row in run.sql.rows(_LEVELS, {"ids": ids})]


def _levels(
    run: Evaluation,
    settings: AlertSettings,
    rows: list[Counted],
    label: str,
    *,
    raising: bool,
    clearing: bool,
) -> None:
    if not rows:
        return
    enabled = settings.enabled
    ended: list[str] = []
    for eid, metric, quantity, used, retired, vendor, product, name in rows:
        unlimited = Metric(metric).unlimited or bool(retired)
        now = level(used, quantity, unlimited, settings.warning_percent)
        title = _title(vendor, product, name)
        entity = ("entitlement", str(eid))
        if raising and now is Level.OVER and Rule.LIMIT in enabled:
            run.raise_alert(
                Rule.LIMIT,
                f"limit:{eid}",
                f"{title} is over its limit: {used:,} of {quantity:,} used",
                f"{used - quantity:,} beyond the purchased quantity after {label}.",
                entity,
            )
        elif raising and now is Level.WARNING and Rule.WARNING in enabled:
            share = used * 100 // quantity if quantity else 100
            run.raise_alert(
                Rule.WARNING,
                f"warning:{eid}",
                f"{title} is at {share} % of its limit: {used:,} of {quantity:,} used",
                f"The warning level is {settings.warning_percent} %; reached after {label}.",
                entity,
            )
        if now is not Level.OVER:
            ended.append(f"limit:{eid}")
        if now is Level.UNDER:
            ended.append(f"warning:{eid}")
    if clearing:
        run.clear(ended)


def _sweep_ids(session: Session, settings: AlertSettings) -> list[int]:
    """Licenses at or above the warning level, and those with an uncleared level alert."""
    high = select(Entitlement.id).where(
        Entitlement.retired.is_(False),
        Entitlement.metric != Metric.SITE.value,
        or_(
            Entitlement.seats_used > Entitlement.quantity,
            and_(
                Entitlement.quantity > 0,
                Entitlement.seats_used * 100 >= Entitlement.quantity * settings.warning_percent,
            ),
        ),
    )
    ids = set(session.scalars(high))
    for entity_id in session.scalars(
        select(Alert.entity_id).where(
            Alert.rule.in_((Rule.LIMIT.value, Rule.WARNING.value)), Alert.cleared_at.is_(None)
        )
    ):
        if entity_id.isdigit():
            ids.add(int(entity_id))
    return sorted(ids)


def _departed(run: Evaluation, label: str, only: int | None) -> None:
    query = (
        select(Person.id, Person.name, Person.employee_id, Person.status, func.count())
        .join(SeatAssignment, SeatAssignment.person_id == Person.id)
        .where(Person.status.in_(DEPARTED_STATUSES), SeatAssignment.ended_at.is_(None))
        .group_by(Person.id, Person.name, Person.employee_id, Person.status)
        .order_by(Person.id)
        .limit(DEPARTED_CAP)
    )
    if only is not None:
        query = query.where(Person.id == only)
    for pid, name, employee_id, status, seats in run.session.execute(query):
        gone = "left" if status == "left" else "is missing from HR"
        run.raise_alert(
            Rule.DEPARTED,
            f"departed:{pid}",
            f"{name} ({employee_id}) {gone} but holds {plural(seats, 'seat')}",
            f"Found after {label}; release the seats or correct the person's status.",
            ("person", str(pid)),
        )


def _departed_cleared(run: Evaluation) -> None:
    keys = [key for (key,) in run.sql.rows(_DEPARTED_UNCLEARED)]
    if not keys:
        return
    ids = [int(k.split(":", 1)[1]) for k in keys if k.split(":", 1)[1].isdigit()]
    holding = {pid for (pid,) in run.sql.rows(_HOLDING, {"ids": ids})} if ids else set()
    run.clear([f"departed:{pid}" for pid in ids if pid not in holding])


def _unlicensed(
    run: Evaluation, label: str, inserted: int, by_title: dict[int, int], before: int
) -> None:
    """New installs of the import just made, on devices without a seat of their product.

    The import inserts its new installs inside this transaction, which writers hold alone, so
    their ids are above ``before`` (the highest id before it): a range scan of the primary key
    finds them, however large the inventory.  Up to :data:`EXACT_CAP` of them are checked one
    by one (the device's and its owner's open seats, a site license), in Python over three
    plain reads, so no planner (PostgreSQL's, on freshly loaded tables) turns it into a
    nested loop.  A larger import is summarized per product bought nowhere at all, from the
    import's own count of its new installs per title (``by_title``), and says that the
    Reconciliation page has the rest.
    """
    if inserted <= 0:
        return
    if inserted > EXACT_CAP:
        _unlicensed_summary(run, label, inserted, by_title)
        return
    session = run.session
    installs = session.execute(
        select(Installation.device_id, SoftwareTitle.product_id, Device.owner_id)
        .join(SoftwareTitle, Installation.title_id == SoftwareTitle.id)
        .join(Device, Installation.device_id == Device.id)
        .where(
            Installation.id > before,
            Installation.removed_on.is_(None),
            SoftwareTitle.product_id.is_not(None),
        )
    ).all()
    products = {pid for _, pid, _ in installs}
    if not products:
        return
    site = _in_term_products(
        session,
        run.now.date(),
        Entitlement.product_id.in_(products),
        Entitlement.metric == Metric.SITE.value,
    )
    seated_devices: set[tuple[int, int]] = set()
    seated_people: set[tuple[int, int]] = set()
    for pid, holder_device, person in session.execute(
        select(Entitlement.product_id, SeatAssignment.device_id, SeatAssignment.person_id)
        .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
        .where(SeatAssignment.ended_at.is_(None), Entitlement.product_id.in_(products - site))
    ):
        if holder_device is not None:
            seated_devices.add((pid, holder_device))
        if person is not None:
            seated_people.add((pid, person))
    counts: dict[int, int] = defaultdict(int)
    for device, product, owner in installs:
        if product is None or product in site or (product, device) in seated_devices:
            continue
        if owner is not None and (product, owner) in seated_people:
            continue
        counts[product] += 1
    how = f"Found by {label}: devices where neither the device nor its owner holds a seat."
    _raise_unlicensed(run, how, _named(session, counts))


def _named(session: Session, counts: dict[int, int]) -> list[tuple[int, str, str, int]]:
    """(product, vendor name, product name, count) of each product counted, by product id."""
    if not counts:
        return []
    names = session.execute(
        select(Product.id, Vendor.name, Product.name)
        .join(Vendor, Product.vendor_id == Vendor.id)
        .where(Product.id.in_(list(counts)))
    )
    return sorted((pid, vendor, product, counts[pid]) for pid, vendor, product in names)


def _in_term_products(session: Session, today: dt.date, *narrower: ColumnElement[bool]) -> set[int]:
    """Products with an entitlement in term on ``today`` (and matching ``narrower``)."""
    return set(session.scalars(select(Entitlement.product_id).where(in_term(today), *narrower)))


def _unlicensed_summary(
    run: Evaluation, label: str, inserted: int, by_title: dict[int, int]
) -> None:
    """A large import's new installs per product bought nowhere, from the import's counts."""
    session = run.session
    per_product: dict[int, int] = defaultdict(int)
    titles = session.execute(
        select(SoftwareTitle.id, SoftwareTitle.product_id).where(
            SoftwareTitle.product_id.is_not(None)
        )
    )
    for title_id, pid in titles:
        count = by_title.get(title_id)
        if count and pid is not None:
            per_product[pid] += count
    for pid in _in_term_products(session, run.now.date()):
        per_product.pop(pid, None)
    how = (
        f"Found by {label}: installs of a product with no license in term. The import "
        f"added {plural(inserted, 'install')}; the Reconciliation page counts those on devices "
        "without a seat of products that were bought."
    )
    _raise_unlicensed(run, how, _named(session, per_product))


def _raise_unlicensed(run: Evaluation, how: str, rows: list[Any]) -> None:
    for pid, vendor, product, count in rows:
        run.raise_alert(
            Rule.UNLICENSED,
            f"unlicensed:{pid}:{run.seq}",
            f"{plural(count, 'new install')} of {_title(vendor, product, '')} without a seat",
            how,
            ("product", str(pid)),
        )
