"""Normalization rule dialogs: map unmatched titles to a product, or write a rule by hand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QSpinBox, QWidget

from seatledger.domain.normalization import MatchKind, Rule
from seatledger.errors import ValidationError
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.dialogs.common import FormDialog, helper_button, row, wide
from seatledger.ui.dialogs.forms import ProductDialog, combo_id, fill_combo
from seatledger.ui.widgets import accessible

_KIND_LABELS = {
    MatchKind.EXACT: "Exact title",
    MatchKind.WILDCARD: "Wildcard (* and ?)",
    MatchKind.REGEX: "Regular expression",
}


def product_combo(services: Services, select: int | None = None) -> QComboBox:
    """An editable product chooser: type any part of "Vendor Product" to find it."""
    combo = wide(QComboBox())
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    fill_combo(combo, services.catalog.products(), select)
    line = combo.lineEdit()
    if line is not None:
        line.setPlaceholderText("Type to find a product")
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    combo.setCompleter(completer)
    return combo


class _ProductForm(FormDialog):
    """A form with a product chooser and a "New product…" helper."""

    def __init__(self, services: Services, title: str, action: str, parent: QWidget | None) -> None:
        super().__init__(title, action, parent)
        self.services = services
        self.product = product_combo(services)
        self.new_product = helper_button("New product…")
        self.new_product.clicked.connect(self._add_product)
        self.remapped = 0

    def _add_product(self) -> None:
        dialog = ProductDialog(self.services, self)
        if dialog.exec() and dialog.saved_id is not None:
            fill_combo(self.product, self.services.catalog.products(), dialog.saved_id)
            self.update_state()

    def product_id(self) -> int | None:
        """The chosen product (the typed text must name one)."""
        index = self.product.findText(self.product.currentText())
        return combo_id(self.product) if index >= 0 else None

    def complete(self) -> bool:
        """A product is chosen."""
        return self.product_id() is not None


class MapTitlesDialog(_ProductForm):
    """Maps selected unmatched (publisher, title) pairs to one product, one exact rule each."""

    def __init__(
        self, services: Services, titles: list[tuple[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(services, "Map titles to a product", "Map", parent)
        self.titles = titles
        shown = "\n".join(f"• {t}" + (f" ({p})" if p else "") for p, t in titles[:8])
        more = f"\n…and {len(titles) - 8} more" if len(titles) > 8 else ""
        self.set_intro(
            f"Installs of the {plural(len(titles), 'title')} below will count as the product you "
            f"choose, now and in later imports:\n{shown}{more}"
        )
        self.add_row(
            "&Product:", row(self.product, self.new_product), buddy=self.product, names=("Product",)
        )
        self.finish()

    def save(self) -> None:
        """Add the rules; they apply at once."""
        product_id = self.product_id()
        if product_id is None:
            raise ValidationError("Choose the product the titles are.", "Product")
        self.remapped = self.services.rules.add_many(product_id, self.titles)


class RuleDialog(_ProductForm):
    """Adds one rule: exact, wildcard or regex title (and publisher), optional version range."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        title: str = "",
        publisher: str = "",
    ) -> None:
        super().__init__(services, "New normalization rule", "Add rule", parent)
        self.kind = QComboBox()
        for kind, label in _KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.title_edit = wide(QLineEdit(title))
        self.title_edit.setPlaceholderText("e.g. Adobe Acrobat* or ^AutoCAD 20\\d\\d")
        self.publisher_edit = QLineEdit(publisher)
        self.publisher_edit.setPlaceholderText("any publisher")
        self.version_min = QLineEdit()
        self.version_min.setPlaceholderText("from (inclusive)")
        self.version_max = QLineEdit()
        self.version_max.setPlaceholderText("below (exclusive)")
        accessible(self.version_max, "Versions below", "Versions below this one (exclusive)")
        self.priority = QSpinBox()
        self.priority.setRange(-100, 100)
        self.priority.setToolTip("Higher first; then exact before wildcard before regex")
        self.set_intro(
            "A rule says which product a discovered title is. Titles and publishers are compared "
            "ignoring case; versions as dotted numbers (16 ≤ v < 17 is every 16.x)."
        )
        self.add_row("&Match:", self.kind)
        self.add_row("&Title:", self.title_edit, names=("Title",))
        self.add_row("P&ublisher:", self.publisher_edit, names=("Publisher",))
        self.add_row(
            "&Versions:",
            row(self.version_min, self.version_max),
            buddy=self.version_min,
            names=("Version",),
        )
        self.add_row("P&riority:", self.priority)
        self.add_row(
            "&Product:", row(self.product, self.new_product), buddy=self.product, names=("Product",)
        )
        self.finish()

    def _rule(self, product_id: int) -> Rule:
        return Rule(
            product_id=product_id,
            title=self.title_edit.text(),
            publisher=self.publisher_edit.text(),
            kind=MatchKind(self.kind.currentData()),
            version_min=self.version_min.text().strip(),
            version_max=self.version_max.text().strip(),
            priority=self.priority.value(),
        )

    def complete(self) -> bool:
        """A title pattern and a product are given."""
        return bool(self.title_edit.text().strip()) and super().complete()

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """A pattern that does not compile or an empty version range, as you type."""
        if not self.title_edit.text().strip():
            return []
        try:
            self._rule(0)
        except ValidationError as exc:
            widget = {
                "Title": self.title_edit,
                "Publisher": self.publisher_edit,
                "Version": self.version_min,
            }.get(exc.field or "")
            return [(str(exc), widget)]
        return []

    def save(self) -> None:
        """Add the rule; it applies at once."""
        from seatledger.services.imports.rules import RuleInput  # noqa: PLC0415

        product_id = self.product_id()
        if product_id is None:
            raise ValidationError("Choose the product the titles are.", "Product")
        rule = self._rule(product_id)
        _rule_id, self.remapped = self.services.rules.add(
            RuleInput(
                product_id=product_id,
                title=rule.title,
                publisher=rule.publisher,
                kind=rule.kind,
                version_min=rule.version_min,
                version_max=rule.version_max,
                priority=rule.priority,
            )
        )
