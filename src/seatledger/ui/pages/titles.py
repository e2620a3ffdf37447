"""The software titles page: unmatched discovered titles, and the rules that map titles to products.

Unmatched titles are listed with how many installs and versions each has, most installs first, so
the few titles that matter are mapped in a few clicks (select, "Map to product…").  Every rule
change is a ledger entry and re-maps the stored titles at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.roles import Permission
from seatledger.errors import KnownError
from seatledger.services.imports.rules import RuleRow, Unmatched
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.tasks import Task
from seatledger.ui.widgets import (
    EmptyState,
    SearchBox,
    Stateful,
    accessible,
    list_table,
    splitter,
)

_UNMATCHED: list[ListColumn[Unmatched]] = [
    ListColumn("Title", lambda u: u.title),
    ListColumn("Publisher", lambda u: u.publisher or None),
    ListColumn("Found in", lambda u: u.source),
    ListColumn("Versions", lambda u: u.versions or None, numeric=True),
    ListColumn("Installs / checkouts", lambda u: u.installs, numeric=True),
]
_RULES: list[ListColumn[RuleRow]] = [
    ListColumn("Product", lambda r: f"{r.vendor} {r.product}"),
    ListColumn("Match", lambda r: r.kind.value),
    ListColumn("Title pattern", lambda r: r.title),
    ListColumn("Publisher", lambda r: r.publisher or None),
    ListColumn("Versions", lambda r: _versions(r) or None),
    ListColumn("Priority", lambda r: r.priority, numeric=True),
    ListColumn("Added by", lambda r: r.created_by),
]


def _versions(rule: RuleRow) -> str:
    if rule.version_min and rule.version_max:
        return f"{rule.version_min} ≤ v < {rule.version_max}"
    if rule.version_min:
        return f"≥ {rule.version_min}"
    return f"< {rule.version_max}" if rule.version_max else ""


def _view(
    parent: QWidget, model: ListTableModel[Unmatched] | ListTableModel[RuleRow]
) -> QTableView:
    view = list_table(parent, model, QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setSortingEnabled(True)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return view


def _pane(parent: QWidget, label: QLabel, view: QTableView, *buttons: QPushButton) -> QWidget:
    """A half of the page: its label and buttons over its table."""
    pane = QWidget(parent)
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(0, 0, 0, 0)
    header = QHBoxLayout()
    header.addWidget(label, 1)
    for button in buttons:
        header.addWidget(button)
    layout.addLayout(header)
    layout.addWidget(view)
    return pane


class SoftwareTitlesPage(Page):
    """Unmatched titles and normalization rules."""

    title = "Software titles"
    settings_group = "titles"
    shows = frozenset({"normalization_rule", "import", "vendor", "product"})

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.unmatched_model: ListTableModel[Unmatched] = ListTableModel(_UNMATCHED, self)
        self.rule_model: ListTableModel[RuleRow] = ListTableModel(_RULES, self)
        self.unmatched_view = _view(self, self.unmatched_model)
        self.unmatched_view.sortByColumn(4, Qt.SortOrder.DescendingOrder)
        self.rule_view = _view(self, self.rule_model)
        self.rule_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.search = SearchBox("Filter titles and rules (Ctrl+F)", self, name="Filter titles")
        accessible(self.unmatched_view, "Titles no rule maps")
        accessible(self.rule_view, "Normalization rules")
        self.unmatched_label = QLabel("Titles no rule maps", self)
        self.rules_label = QLabel("Rules", self)
        self.map_button = QPushButton("&Map to product…", self)
        self.map_button.setToolTip("Count installs of the selected titles as one product")
        self.rule_button = QPushButton("&New rule…", self)
        self.rule_button.setToolTip("Write a wildcard, regex or version-range rule")
        self.delete_button = QPushButton("&Delete rule…", self)

        top = _pane(
            self, self.unmatched_label, self.unmatched_view, self.map_button, self.rule_button
        )
        bottom = _pane(self, self.rules_label, self.rule_view, self.delete_button)
        self.splitter = splitter(self, top, bottom)
        outer = QVBoxLayout(self.body())
        outer.addWidget(self.search)
        outer.addWidget(self.splitter, 1)
        empty = EmptyState(
            "No software titles yet",
            "Discovery tools report installed software by publisher, title and version; "
            "normalization rules say which product each title is, so that installs count "
            "against the right licenses. Import an inventory export to list its titles, or "
            "write a rule ahead of it.",
            self,
        )
        may_edit = self.may(Permission.EDIT_LICENSES)
        refused = "" if may_edit else "License managers and administrators import and map."
        empty.add_action(
            "&Import inventory…",
            lambda: self.import_requested.emit("inventory"),
            enabled=may_edit,
            tip=refused,
        )
        empty.add_action("&New rule…", self.new_rule, enabled=may_edit, tip=refused)
        self.set_empty_state(empty)

        self._unmatched: list[Unmatched] = []
        self._rules: list[RuleRow] = []
        self.map_button.clicked.connect(self.map_selected)
        self.rule_button.clicked.connect(self.new_rule)
        self.delete_button.clicked.connect(self.delete_selected)
        self.unmatched_view.doubleClicked.connect(lambda _index: self.map_selected())
        self.unmatched_view.selectionModel().selectionChanged.connect(
            lambda *_args: self._update_buttons()
        )
        self.rule_view.selectionModel().selectionChanged.connect(
            lambda *_args: self._update_buttons()
        )
        self.search.searched.connect(lambda _text: self._show())
        self._stale = True
        self._update_buttons()

    def refresh(self) -> None:
        """Reload titles and rules in the background."""
        super().refresh()
        rules = self.services.rules
        task = Task(lambda _report: (rules.unmatched(), rules.rules()), self).on_done(self._loaded)
        task.failed.connect(lambda message, _d: self.unmatched_label.setText(message))
        self.runner.start(task, key=(self, "titles"))

    def _loaded(self, result: tuple[list[Unmatched], list[RuleRow]]) -> None:
        self._unmatched, self._rules = result
        self._show()

    def _show(self) -> None:
        needle = self.search.text().strip().lower()
        unmatched = [
            u
            for u in self._unmatched
            if not needle or needle in u.title.lower() or needle in u.publisher.lower()
        ]
        rules = [
            r
            for r in self._rules
            if not needle or needle in r.title.lower() or needle in r.product.lower()
        ]
        self.unmatched_model.set_rows(unmatched)
        self.rule_model.set_rows(rules)
        installs = sum(u.installs for u in self._unmatched)
        self.unmatched_label.setText(
            f"<b>Titles no rule maps</b>: {len(self._unmatched):,} titles and license-server "
            f"features, {installs:,} installs and checkouts — select and map the ones you license"
        )
        self.rules_label.setText(f"<b>Rules</b>: {len(self._rules):,}")
        self.show_empty(not self._unmatched and not self._rules)
        self._update_buttons()

    def _update_buttons(self) -> None:
        edit = self.may(Permission.EDIT_LICENSES)
        self.map_button.setEnabled(
            edit and bool(self.unmatched_view.selectionModel().selectedRows())
        )
        self.rule_button.setEnabled(edit)
        self.delete_button.setEnabled(edit and bool(self.rule_view.selectionModel().selectedRows()))

    def selected_titles(self) -> list[tuple[str, str]]:
        """The selected unmatched titles as (publisher, title)."""
        rows = sorted(i.row() for i in self.unmatched_view.selectionModel().selectedRows())
        return [
            (self.unmatched_model.row(r).publisher, self.unmatched_model.row(r).title) for r in rows
        ]

    def map_selected(self) -> None:
        """Map the selected titles to a product (asks which)."""
        from seatledger.ui.dialogs.rules import MapTitlesDialog  # noqa: PLC0415

        titles = self.selected_titles()
        if not titles or not self.may(Permission.EDIT_LICENSES):
            return
        dialog = MapTitlesDialog(self.services, titles, self)
        if dialog.exec():
            self._changed(f"Mapped {plural(len(titles), 'title')}; {dialog.remapped:,} re-mapped.")

    def new_rule(self) -> None:
        """Write a rule by hand (prefilled from the selected title)."""
        from seatledger.ui.dialogs.rules import RuleDialog  # noqa: PLC0415

        titles = self.selected_titles()
        publisher, title = titles[0] if titles else ("", "")
        dialog = RuleDialog(self.services, self, title=title, publisher=publisher)
        if dialog.exec():
            self._changed(f"Rule added; {plural(dialog.remapped, 'title')} re-mapped.")

    def delete_selected(self) -> None:
        """Delete the selected rule, asking why."""
        rows = self.rule_view.selectionModel().selectedRows()
        if not rows:
            return
        rule = self.rule_model.row(rows[0].row())
        reason, ok = QInputDialog.getText(
            self, "Delete rule", f"Why delete the rule “{rule.title}” → {rule.product}?"
        )
        if not ok:
            return
        try:
            remapped = self.services.rules.delete(rule.id, reason)
        except KnownError as exc:
            self.report(exc)
            return
        self._changed(f"Rule deleted; {plural(remapped, 'title')} re-mapped.")

    def _changed(self, message: str) -> None:
        self.status_message.emit(message)  # the page reloaded as the change committed

    def focus_search(self) -> None:
        """Ctrl+F filters."""
        self.search.setFocus()
        self.search.selectAll()

    def layouts(self) -> dict[str, Stateful]:
        """The splitter."""
        return {"titles/splitter": self.splitter}
