"""The error box: a message the user can act on, and for a bug the traceback under "Details"."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from seatledger import APP_NAME


def error_box(parent: QWidget | None, message: str, details: str = "") -> QMessageBox:
    """Build (without showing) the box :func:`show_error` shows."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(APP_NAME)
    box.setText(message)
    if details:
        box.setInformativeText("Show Details… has what a bug report needs.")
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setDefaultButton(QMessageBox.StandardButton.Close)
    box.setEscapeButton(QMessageBox.StandardButton.Close)
    return box


def show_error(parent: QWidget | None, message: str, details: str = "") -> None:
    """Show an error and wait until the user closes it.

    Args:
        parent: the window the box belongs to.
        message: what went wrong and what to do, shown as is.
        details: a traceback or other details, in the expandable area; none for known errors.
    """
    error_box(parent, message, details).exec()
