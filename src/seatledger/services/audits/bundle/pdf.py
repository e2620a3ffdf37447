"""The audit report as a PDF (reportlab), signed PAdES with the identity's PDF key (pyHanko).

The text is set in DejaVu Sans when the system has it, else Bitstream Vera (shipped with
reportlab), both embedded, so names outside Latin-1 print.  Tables repeat their header row on
every page, wrap long names inside their column and right-align numbers.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from seatledger.errors import KnownError
from seatledger.services.audits.bundle.model import Decision, ReportInput
from seatledger.text import plural

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from seatledger.services.audits.signing import SigningIdentity

PAGE = A4
MARGIN = 18 * mm
WIDTH = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEAD_BG = colors.HexColor("#e4e7eb")
SHORT = colors.HexColor("#b42318")
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"))
_fonts: tuple[str, str, str] | None = None


def _register_fonts() -> tuple[str, str, str]:
    """Regular, bold and monospace font names, registered once."""
    global _fonts  # noqa: PLW0603 (registration is process-wide in reportlab anyway)
    if _fonts is not None:
        return _fonts
    import reportlab  # noqa: PLC0415

    vera = Path(reportlab.__file__).parent / "fonts"
    choices = [
        (d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf", d / "DejaVuSansMono.ttf")
        for d in _FONT_DIRS
    ]
    choices.append((vera / "Vera.ttf", vera / "VeraBd.ttf", vera / "VeraMono.ttf"))
    for regular, bold, mono in choices:
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("Report", str(regular)))
            pdfmetrics.registerFont(TTFont("Report-Bold", str(bold)))
            mono_name = "Courier"
            if mono.is_file():
                pdfmetrics.registerFont(TTFont("Report-Mono", str(mono)))
                mono_name = "Report-Mono"
            pdfmetrics.registerFontFamily(
                "Report",
                normal="Report",
                bold="Report-Bold",
                italic="Report",
                boldItalic="Report-Bold",
            )
            _fonts = ("Report", "Report-Bold", mono_name)
            return _fonts
    _fonts = ("Helvetica", "Helvetica-Bold", "Courier")
    return _fonts


class _Styles:
    def __init__(self) -> None:
        regular, bold, mono = _register_fonts()
        self.mono_font = mono
        self.body = ParagraphStyle(
            "body", fontName=regular, fontSize=9.5, leading=13, textColor=INK
        )
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10)
        self.muted = ParagraphStyle("muted", parent=self.small, textColor=MUTED)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=7.5, leading=9)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=bold)
        self.num = ParagraphStyle("num", parent=self.cell, alignment=TA_RIGHT)
        self.num_bold = ParagraphStyle("numb", parent=self.num, fontName=bold)
        self.short = ParagraphStyle("short", parent=self.num, textColor=SHORT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=bold)
        self.head_num = ParagraphStyle("headn", parent=self.head, alignment=TA_RIGHT)
        self.mono = ParagraphStyle("mono", parent=self.small, fontName=mono, fontSize=7.5)
        self.h1 = ParagraphStyle(
            "h1",
            parent=self.body,
            fontName=bold,
            fontSize=13,
            leading=17,
            spaceBefore=8,
            spaceAfter=6,
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=self.body,
            fontName=bold,
            fontSize=10.5,
            leading=14,
            spaceBefore=6,
            spaceAfter=3,
        )
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=bold, fontSize=22, leading=27, spaceAfter=4
        )
        self.subtitle = ParagraphStyle(
            "subtitle", parent=self.body, fontSize=13, leading=17, textColor=MUTED, spaceAfter=14
        )


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    value = "" if text is None else str(text)
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _n(
    value: int | Decimal | None, style: ParagraphStyle, *, none: str = "–", bound: str = ""
) -> Paragraph:
    """A number cell; ``bound`` ("≥", "≤") marks a figure known only as a bound."""
    if value is None:
        return Paragraph(none, style)
    if isinstance(value, Decimal):
        return Paragraph(f"{value:,.2f}", style)
    return Paragraph(f"{bound} {value:,}" if bound else f"{value:,}", style)


def _table(
    rows: list[list[Any]], widths: Sequence[float], *, header: bool = True, zebra: bool = True
) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ]
    if zebra:
        style.append(
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")])
        )
    table.setStyle(TableStyle(style))
    return table


def _pairs(rows: list[tuple[str, Any]], s: _Styles, key_width: float = 48 * mm) -> Table:
    data = [[_p(k, s.muted), v if isinstance(v, Flowable) else _p(v, s.small)] for k, v in rows]
    table = Table(data, colWidths=[key_width, WIDTH - key_width], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _fit(texts: Sequence[str], style: ParagraphStyle) -> float:
    """The column width that holds the widest of ``texts`` on one line (padding included)."""
    widest = max((stringWidth(t, style.fontName, style.fontSize) for t in texts), default=0.0)
    return widest + 7


def _hex(value: str, s: _Styles) -> Paragraph:
    """A hash in groups of eight so it wraps at a group, never inside one."""
    groups = " ".join(value[i : i + 8] for i in range(0, len(value), 8))
    return Paragraph(groups, s.mono)


def _date(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------------- sections


def _cover(report: ReportInput, doc: dict[str, Any], s: _Styles) -> list[Flowable]:
    att = report.attestation
    signing = doc["signing"]
    checkpoint = doc["checkpoint"]
    story: list[Flowable] = [
        Spacer(1, 30 * mm),
        _p("License audit report", s.title),
        _p(f"{report.scope.vendor} — {report.organization}", s.subtitle),
        _pairs(
            [
                ("Audit", f"#{report.audit_id} · {report.title}"),
                ("Position as of", report.as_of.isoformat()),
                (
                    "Trigger",
                    report.trigger.label
                    + (f": {report.trigger_reason}" if report.trigger_reason else ""),
                ),
                ("Generated", doc["generated_at"].replace("T", " ").replace("Z", " UTC")),
                ("Attested by", f"{att.full_name} ({att.operator}), {_date(att.at)}"),
                (
                    "Approved by",
                    f"{att.approver_full_name or att.approver} ({att.approver}), "
                    f"{_date(att.approved_at)}"
                    if att.approver
                    else "no second approver",
                ),
                (
                    "Personal data",
                    "people and devices in the CSVs are pseudonyms (P-/D- and 16 hex digits: a "
                    "keyed hash of the employee number or host name; the key stays with the "
                    "organization); the ledger excerpt names people by internal number only and "
                    "withholds the text of any entry that names a person"
                    if report.pseudonymize
                    else "people and devices are shown by name in the CSVs; the ledger excerpt "
                    "withholds the text of any entry that names a person",
                ),
            ],
            s,
        ),
        Spacer(1, 10 * mm),
        _p("Ledger checkpoint", s.h2),
        _pairs(
            [
                ("Entries", f"{checkpoint['size']:,}"),
                ("Head hash (SHA-256)", _hex(checkpoint["head"], s)),
                *([("Merkle root", _hex(checkpoint["root"], s))] if checkpoint.get("root") else []),
                ("Manifest key (Ed25519)", _hex(signing["ed25519_public_key_sha256"], s)),
                ("PDF certificate", _hex(signing["certificate_sha256"], s)),
            ],
            s,
        ),
        Spacer(1, 6 * mm),
        _p(
            "This PDF is signed with the organization's certificate; the bundle it came in is "
            "signed as a whole (manifest.sig). Section 7 explains how to check both.",
            s.muted,
        ),
        PageBreak(),
    ]
    return story


def _scope(report: ReportInput, s: _Styles) -> list[Flowable]:
    scope = report.scope
    story: list[Flowable] = [
        _p("1. Scope and method", s.h1),
        _pairs(
            [
                ("Vendor", scope.vendor),
                ("Products", ", ".join(scope.products) or "every product of the vendor"),
                ("Teams", ", ".join(scope.teams) or "the whole organization"),
                ("Position as of", report.as_of.isoformat()),
                ("Shelfware after", f"{report.shelf_days} days without use"),
            ],
            s,
        ),
        Spacer(1, 3 * mm),
        _p("Method", s.h2),
    ]
    for para in (report.method or "Not described.").split("\n\n"):
        story.append(_p(para.strip(), s.body))
        story.append(Spacer(1, 2 * mm))
    story.append(_p("Data freshness", s.h2))
    if not report.acknowledgements:
        story.append(_p("No data-freshness warning was recorded in this audit.", s.small))
    else:
        rows: list[list[Any]] = [
            [_p("Topic", s.head), _p("Warning", s.head), _p("Acknowledged", s.head)]
        ]
        for a in report.acknowledgements:
            rows.append(
                [
                    _p(a.topic, s.cell),
                    _p(a.warning, s.cell),
                    _p(f"{a.acknowledged_by}\n{_date(a.acknowledged_at)}", s.cell)
                    if a.acknowledged_by
                    else _p("NOT acknowledged", s.cell_bold),
                ]
            )
        story.append(_table(rows, [30 * mm, WIDTH - 72 * mm, 42 * mm]))
    if report.concurrency_basis:
        story.append(Spacer(1, 2 * mm))
        story.append(_p("What each concurrent-use figure rests on:", s.small))
        basis = [[_p("Product", s.head), _p("Rests on", s.head)]]
        basis.extend(
            [_p(name, s.cell), _p(text, s.cell)] for name, text in report.concurrency_basis
        )
        story.append(_table(basis, [44 * mm, WIDTH - 44 * mm]))
    return story


def _position(report: ReportInput, s: _Styles) -> list[Flowable]:
    story: list[Flowable] = [CondPageBreak(60 * mm), _p("2. License position", s.h1)]
    if not report.positions:
        story.append(_p("Nothing in scope was bought, assigned, installed or used.", s.small))
        return story
    heads = [
        "Rights\nowned",
        "Rights\nassigned",
        "Rights\nneeded",
        "Avail-\nable",
        "Unlicensed\ninstalls",
        "True-up\ncost",
        "Over-\nlicensed",
    ]
    rows: list[list[Any]] = [
        [_p("Product", s.head), _p("Metric", s.head)] + [_p(h, s.head_num) for h in heads]
    ]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    short_rows: list[int] = []
    for r in report.positions:
        true_up = r.true_up
        if true_up:
            totals[r.currency] += true_up
        available = r.available
        rows.append(
            [
                _p(r.product, s.cell),
                _p(r.metric_label, s.cell),
                _n(r.owned, s.num, none="unlimited"),
                _n(r.assigned, s.num),
                # A lower bound where devices of unknown hardware are left out (never a figure
                # resting on invented cores).
                _n(r.needed, s.num, bound="≥" if r.unknown_hardware else ""),
                # With devices of unknown hardware left out, what is free is at most this.
                _n(
                    available,
                    s.short if available is not None and available < 0 else s.num,
                    bound="≤" if r.unknown_hardware else "",
                ),
                _n(r.unlicensed, s.num),
                Paragraph(
                    r.true_ups_text("<br/>or ")
                    if r.true_ups
                    else "–"
                    if true_up is None
                    else f"{true_up:,.2f} {r.currency}"
                    if true_up
                    else "0",
                    s.num,
                ),
                _n(r.over_licensed, s.num, bound="≤" if r.unknown_hardware else ""),
            ]
        )
        if r.shortfall:
            short_rows.append(len(rows) - 1)
    # Each number column as wide as its widest header line or value, never wrapping a word.
    widths_of = [_fit([*h.split("\n")], s.head_num) for h in heads]
    for index in range(len(heads)):
        texts = [row[index + 2].text for row in rows[1:]]
        widths_of[index] = max(widths_of[index], _fit(texts, s.num))
    metric = min(max(_fit([r.metric_label for r in report.positions], s.cell), 20 * mm), 34 * mm)
    widths = [WIDTH - metric - sum(widths_of), metric, *widths_of]
    story.append(_table(rows, widths))
    story.append(Spacer(1, 2 * mm))
    if totals:
        text = ", ".join(f"{v:,.2f} {c}" for c, v in sorted(totals.items()))
        story.append(_p(f"True-up cost in scope: {text}.", s.body))
    unknown = [r for r in report.positions if r.unknown_hardware]
    if unknown:
        listed = "; ".join(f"{r.product}: {plural(r.unknown_hardware, 'device')}" for r in unknown)
        story.append(
            _p(
                "≥, ≤: the figure is a bound. Devices whose cores or processors are unknown, "
                "or whose processor has no rate where cores are rated by processor, are not "
                f"counted, and no figure is assumed for them ({listed}); the findings name "
                "them.",
                s.body,
            )
        )
    story.append(
        _p(
            "Owned: rights in term on the date. Needed: what the metric counts over every holder, "
            "install and checkout. Available: owned − needed (negative: short). True-up: the "
            "shortfall at the purchases' average unit cost.",
            s.muted,
        )
    )
    return story


PDF_SERVER_DETAILS = 200  # hosts listed per server line in the PDF; servers.csv has them all


def _servers(report: ReportInput, s: _Styles) -> list[Flowable]:
    """The vendor's server lines: each rule's requirement, what was bought, what is short, why,
    and the hosts and VMs behind each figure."""
    section = report.servers
    if section is None:
        return []
    story: list[Flowable] = [
        CondPageBreak(50 * mm),
        _p("Servers", s.h2),
        _p(
            f"What {report.scope.vendor}'s server licensing rules require on the audit date, "
            "against the purchases in term: on the hypervisor hosts and clusters of the exports "
            "(RVTools, Hyper-V) for the VMs that run or may run on them, and on the physical "
            "servers of the device inventory (a server OS on its own hardware, counted whole). "
            "docs/server-licensing.md in SeatLedger cites each rule's source."
            + (
                " Hosts (H-…) and clusters (K-…) are named by keyed-hash pseudonyms, VMs and "
                "physical servers (D-…) by their device's pseudonym in deployments.csv."
                if section.pseudonymized_names
                else ""
            ),
            s.body,
        ),
        Spacer(1, 2 * mm),
    ]
    if not section.lines:
        story.append(
            _p(
                "None of this vendor's server products runs on the hosts, VMs or physical servers.",
                s.small,
            )
        )
    else:
        heads = ["Required", "Bought", "Short"]
        rows: list[list[Any]] = [
            [_p("Product", s.head), _p("Counts", s.head)]
            + [_p(h, s.head_num) for h in heads]
            + [_p("Status", s.head)]
        ]
        for line in section.lines:
            rows.append(
                [
                    _p(line.title, s.cell),
                    _p(line.unit, s.cell),
                    _n(line.required, s.num),
                    _n(line.purchased, s.num),
                    _n(line.short, s.short if line.short else s.num),
                    _p(line.standing, s.cell),
                ]
            )
        story.append(_table(rows, [WIDTH - 136 * mm, 24 * mm, 18 * mm, 18 * mm, 16 * mm, 60 * mm]))
        for line in section.lines:
            story += [
                Spacer(1, 3 * mm),
                KeepTogether([_p(line.title, s.h2), _p(line.reason, s.small)]),
            ]
            if not line.details:
                continue
            details: list[list[Any]] = [
                [
                    _p("Host, partition or server", s.head),
                    _p("Figure", s.head_num),
                    _p("VMs", s.head),
                    _p("Why", s.head),
                ]
            ]
            for detail in line.details[:PDF_SERVER_DETAILS]:
                details.append(
                    [
                        _p(detail.subject, s.cell),
                        _n(detail.figure, s.num),
                        _p(", ".join(detail.vms), s.cell),
                        _p(detail.reason.removeprefix(f"{detail.subject}: "), s.cell),
                    ]
                )
            story += [
                Spacer(1, 1.5 * mm),
                _table(details, [40 * mm, 16 * mm, 40 * mm, WIDTH - 96 * mm]),
            ]
            more = len(line.details) - PDF_SERVER_DETAILS
            if more > 0:
                story.append(_p(f"And {more:,} more: servers.csv lists them all.", s.muted))
    if section.findings:
        # Licenses reassigned within 90 days, and differences from the vendor's own statement
        # (a Microsoft License Statement, an ILMT snapshot): not only reassignments.
        story += [Spacer(1, 3 * mm), _p("Server findings", s.h2)]
        story += [_p(f"• {finding}", s.small) for finding in section.findings]
    return story


def _charts(report: ReportInput, s: _Styles) -> list[Flowable]:
    heading: list[Flowable] = [_p("3. Usage", s.h1)]
    if not report.charts:
        return [*heading, _p("No usage charts are attached.", s.small)]
    story: list[Flowable] = []
    for chart in report.charts:
        try:
            image = Image(str(chart.path))
        except (OSError, ValueError) as exc:
            raise KnownError(f"Cannot read the chart {chart.path}: {exc}") from None
        ratio = image.imageHeight / image.imageWidth if image.imageWidth else 0.5
        image.drawHeight = min(WIDTH * ratio, 150 * mm)
        image.drawWidth = image.drawHeight / ratio if ratio else WIDTH
        # The heading travels with the first chart, never alone at the foot of a page.
        story.append(KeepTogether([*heading, image, _p(chart.caption, s.muted), Spacer(1, 4 * mm)]))
        heading = []
    return story


def _findings(report: ReportInput, s: _Styles) -> list[Flowable]:
    story: list[Flowable] = [CondPageBreak(60 * mm), _p("4. Findings and resolutions", s.h1)]
    if not report.findings:
        story.append(_p("The audit found no discrepancies.", s.small))
        return story
    counts: dict[Decision, int] = defaultdict(int)
    for item in report.findings:
        counts[item.resolution.decision] += 1
    summary = ", ".join(f"{counts[d]} {d.label.lower()}" for d in Decision if counts[d])
    story.append(_p(f"{plural(len(report.findings), 'finding')}: {summary}.", s.body))
    story.append(Spacer(1, 2 * mm))
    rows: list[list[Any]] = [
        [
            _p("Finding", s.head),
            _p("Rows", s.head_num),
            _p("Detail", s.head),
            _p("Decision", s.head),
            _p("Resolution", s.head),
        ]
    ]
    for item in report.findings:
        f, r = item.finding, item.resolution
        parts = [r.explanation] if r.explanation else []
        if r.owner or r.due:
            parts.append(
                "Owner: " + (r.owner or "–") + (f", due {r.due.isoformat()}" if r.due else "")
            )
        if r.decided_by:
            parts.append(f"{r.decided_by}, {_date(r.decided_at)}")
        rows.append(
            [
                [_p(f.kind.label, s.cell_bold), _p(f.product, s.cell)],
                _n(f.count, s.num),
                _p(f.text, s.cell),
                _p(r.decision.label, s.cell_bold if r.decision is Decision.OPEN else s.cell),
                _p("\n".join(parts) or "–", s.cell),
            ]
        )
    story.append(_table(rows, [38 * mm, 12 * mm, 52 * mm, 20 * mm, WIDTH - 122 * mm]))
    return story


def _attestation(report: ReportInput, s: _Styles) -> list[Flowable]:
    att = report.attestation
    story: list[Flowable] = [
        CondPageBreak(50 * mm),
        _p("5. Attestation", s.h1),
        _p(att.statement, s.body),
        Spacer(1, 3 * mm),
        _pairs(
            [
                ("Attested by", f"{att.full_name} (operator {att.operator})"),
                ("On", _date(att.at)),
            ]
            + (
                [
                    (
                        "Approved by",
                        f"{att.approver_full_name or att.approver} (operator {att.approver})",
                    ),
                    ("On", _date(att.approved_at)),
                ]
                if att.approver
                else [("Second approver", "none")]
            ),
            s,
        ),
    ]
    return [KeepTogether(story)]


def _checkpoint(report: ReportInput, doc: dict[str, Any], s: _Styles) -> list[Flowable]:
    checkpoint = doc["checkpoint"]
    previous = doc["previous_checkpoint"]
    rows: list[tuple[str, Any]] = [
        ("Entries", f"{checkpoint['size']:,}"),
        ("Head hash", _hex(checkpoint["head"], s)),
    ]
    if checkpoint.get("root"):
        rows.append(("Merkle root", _hex(checkpoint["root"], s)))
    if previous:
        rows += [
            ("Previous report's entries", f"{previous['size']:,}"),
            ("Previous report's head", _hex(previous["head"], s)),
        ]
        if previous.get("root"):
            rows.append(("Previous report's root", _hex(previous["root"], s)))
    else:
        rows.append(("Previous report", "none for this vendor: this is the first checkpoint"))
    check = doc.get("ledger_check")
    if check:
        at = check["whole_ledger_checked_at"]
        whole = f"every entry up to {check['through']:,} re-hashed on {at}"
        if check.get("newer_entries_checked_at"):
            whole += (
                f"; the entries after it, and every block of 32 holding a disclosed entry, on "
                f"{check['newer_entries_checked_at']}"
            )
        rows.append(("Ledger checked", whole))
    counts = doc["counts"]
    return [
        CondPageBreak(60 * mm),
        _p("6. Ledger checkpoint", s.h1),
        _p(
            "Every change in SeatLedger is one entry of a hash-chained activity ledger, and the "
            "entries are the leaves of a Merkle tree (RFC 9162). This checkpoint names the "
            "ledger's size, the hash of its last entry and the tree's root when the report was "
            "made. ledger.jsonl discloses only the entries about this vendor, and ledger.proof "
            "shows that each sits at its place under this root without showing the others. A "
            "later report proves that its tree extends this one (a consistency proof), so "
            "nothing this report saw can be rewritten unnoticed.",
            s.body,
        ),
        Spacer(1, 2 * mm),
        _pairs(rows, s),
        Spacer(1, 3 * mm),
        _p("Data in the bundle", s.h2),
        _pairs(
            [
                ("entitlements.csv", f"{counts['entitlements']:,} purchases"),
                ("deployments.csv", f"{counts['deployments']:,} installs on the date"),
                ("seat-assignments.csv", f"{counts['seat_assignments']:,} seats held on the date"),
                ("findings.csv", f"{counts['findings']:,} findings with their resolutions"),
                *(
                    [
                        (
                            "sources.csv",
                            f"{counts['sources']:,} rows: the imports (file, SHA-256) and the "
                            "lines each product's figures rest on",
                        )
                    ]
                    if "sources" in counts
                    else []
                ),
                *(
                    [
                        (
                            "servers.csv",
                            f"{counts['server_lines']:,} rows: the hosts and VMs behind each "
                            "server line",
                        )
                    ]
                    if "server_lines" in counts
                    else []
                ),
                (
                    "ledger.jsonl",
                    f"{counts.get('disclosed_entries', counts['ledger_entries']):,} of the "
                    f"{counts['ledger_entries']:,} ledger entries, those about this vendor"
                    + (
                        f" ({counts['withheld_entries']:,} by their hash only: they name a "
                        "person or another vendor)"
                        if counts.get("withheld_entries")
                        else ""
                    ),
                ),
                ("ledger.proof", "the Merkle proof of those entries against the root"),
                ("report.json", "this report, machine-readable (seatledger-report/1)"),
            ],
            s,
        ),
    ]


def _how_to_verify(doc: dict[str, Any], s: _Styles) -> list[Flowable]:
    fp = doc["signing"]["ed25519_public_key_sha256"]
    steps = [
        (
            "1. Check the key. Compare its fingerprint with the one the organization gave you "
            "(pin it on the first report):",
            "openssl pkey -pubin -in signing-key.pub.pem -outform DER | sha256sum",
        ),
        (
            "2. Check the manifest's signature with the key you pinned (OpenSSL 3):",
            "openssl pkeyutl -verify -pubin -inkey PINNED.pem -rawin "
            "-in manifest.json -sigfile manifest.sig",
        ),
        (
            "3. Check every file (SHA256SUMS is itself listed in manifest.json):",
            "sha256sum -c SHA256SUMS",
        ),
        (
            "4. Check it all, the disclosed ledger entries against the Merkle root and "
            "continuity with the previous report included (Python 3 alone; see VERIFY.txt):",
            "python3 verify_bundle.py . --pubkey PINNED.pem --previous OLD/manifest.json",
        ),
        ("5. Check this PDF's signature in a PDF reader, or:", "pdfsig report.pdf"),
    ]
    story: list[Flowable] = [CondPageBreak(70 * mm), _p("7. How to verify this report", s.h1)]
    for text, command in steps:
        story.append(KeepTogether([_p(text, s.body), _p(command, s.mono), Spacer(1, 2 * mm)]))
    story.append(_p(f"Manifest key fingerprint (SHA-256 of the public key): {fp}", s.muted))
    return story


# ------------------------------------------------------------------------------- assembling


def document_template(
    buffer: io.BytesIO, title: str, *, author: str, subject: str | None = None
) -> SimpleDocTemplate:
    """An A4 document with SeatLedger's margins and metadata: the audit report and the access
    review's signed cover are laid out alike."""
    return SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=author,
        subject=subject,
        creator="SeatLedger",
    )


def render_report(report: ReportInput, doc: dict[str, Any]) -> bytes:
    """The unsigned report PDF, from the input and its report.json document."""
    s = _Styles()
    buffer = io.BytesIO()
    title = f"License audit: {report.scope.vendor}, {report.as_of.isoformat()}"
    footer = (
        f"{report.organization} · audit #{report.audit_id} · {report.scope.vendor} · "
        f"as of {report.as_of.isoformat()}"
    )
    regular = s.body.fontName

    def decorate(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, footer[:120])
        canvas.drawRightString(PAGE[0] - MARGIN, 10 * mm, f"page {document.page}")
        canvas.restoreState()

    template = document_template(
        buffer, title, author=report.organization, subject=f"Audit #{report.audit_id}"
    )
    story: list[Flowable] = []
    story += _cover(report, doc, s)
    story += _scope(report, s)
    story += _position(report, s)
    story += _servers(report, s)
    story += _charts(report, s)
    story += _findings(report, s)
    story += _attestation(report, s)
    story += _checkpoint(report, doc, s)
    story += _how_to_verify(doc, s)
    template.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def sign_report(pdf: bytes, identity: SigningIdentity) -> bytes:
    """Sign the PDF (PAdES baseline B, SHA-256) with the identity's certificate and key."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from pyhanko.keys import (  # noqa: PLC0415 (pyHanko only when signing)
        load_certs_from_pemder_data,
        load_private_key_from_pemder_data,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415
    from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: PLC0415

    der = identity.pdf_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in (identity.certificate, *identity.chain)
    )
    certs = list(load_certs_from_pemder_data(pem))
    store = SimpleCertificateStore.from_certs(certs)  # type: ignore[no-untyped-call]
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=load_private_key_from_pemder_data(der, passphrase=None),
        cert_registry=store,
    )
    meta = signers.PdfSignatureMetadata(
        field_name="AuditReportSignature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Audit report attested and signed",
        name=identity.organization,
        location=None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = io.BytesIO()
    signers.sign_pdf(writer, meta, signer=signer, output=output)
    return output.getvalue()
