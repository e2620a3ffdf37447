"""Start-up as an operator meets it: the sign-in window first, the database opening behind it.

Each test runs ``seatledger.ui.app.run`` in a fresh process (the database layer is already
imported in this one), driven by a small script that types as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace

from .conftest import PASSWORD

pytestmark = pytest.mark.slow

DRIVER = r"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from seatledger.ui import app
from seatledger.ui.dialogs.sign_in import DEMO_HINT, SignInDialog

qapp = QApplication(sys.argv)
name, password = sys.argv[2], sys.argv[3]

def say(*words):
    print(*words, flush=True)

def drive(dialog):
    if dialog.workspace is None:  # still opening
        QTimer.singleShot(10, lambda: drive(dialog))
        return
    say("opened", dialog.intro.accessibleName())  # whole: a long path is elided on screen
    notes = dialog.findChildren(type(dialog.message))
    say("demo hint", any(DEMO_HINT == w.text() and w.isVisible() for w in notes))
    dialog.name_edit.setText(name)
    dialog.password_edit.setText(password)
    dialog.ok_button.click()
    refused(dialog)

def refused(dialog):
    if dialog.isVisible() and dialog.message.text():  # refused: say why, then close it
        say("refused", dialog.message.text())
        dialog.reject()
    elif dialog.isVisible():
        QTimer.singleShot(10, lambda: refused(dialog))

class Watch(QObject):
    seen = set()
    def eventFilter(self, watched, event):
        window = isinstance(watched, QWidget) and watched.isWindow()
        if event.type() == QEvent.Type.Paint and window:
            kind = type(watched).__name__
            if kind not in self.seen:
                self.seen.add(kind)
                say("first paint", kind, "sqlalchemy" in sys.modules)
                if isinstance(watched, SignInDialog):
                    say("intro", watched.intro.accessibleName())
                    QTimer.singleShot(0, lambda: drive(watched))
                elif kind == "StartDialog":
                    QTimer.singleShot(0, watched.reject)
        return False

watch = Watch()
qapp.installEventFilter(watch)
QMessageBox.critical = staticmethod(lambda _parent, _title, text: say("fatal", text))
say("exit", app.run(sys.argv[1]))
"""


def _run(database: str, tmp_path: Path, name: str = "admin", password: str = PASSWORD) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SEATLEDGER_OPERATOR", "SEATLEDGER_PASSWORD"}
    }
    env.update(
        QT_QPA_PLATFORM="offscreen",
        SEATLEDGER_EXIT_AFTER_PAINT="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, database, name, password],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The benchmark's lines carry seconds since the process started: keep the word.
    return "\n".join(
        line.split()[0] if line.split()[0] in {"painted", "usable"} else line
        for line in done.stdout.splitlines()
    )


def test_the_sign_in_window_shows_before_the_database_layer_and_signs_in(
    tmp_path: Path, admin: Services
) -> None:
    shown = admin.db.display_name
    lines = _run(shown, tmp_path).splitlines()
    # First on screen: the sign-in window, painted before SQLAlchemy was even imported, naming
    # the database as it was given.
    assert lines[:2] == ["first paint SignInDialog False", f"intro Sign in to {shown}."]
    # The database opened behind it while the operator typed: the window names it as the
    # database calls itself, and would list the demo's operators on a demo.
    opened = lines.index(f"opened Sign in to {shown}.")
    assert lines.index("painted") < opened  # the benchmark's first figure: this window
    assert lines[opened + 1] == "demo hint False"
    # Signed in: the main window, with the database layer loaded, and the benchmark's second.
    assert lines[opened + 2 :] == ["first paint MainWindow True", "usable", "exit 0"]


def test_a_wrong_password_is_refused_in_the_window_and_closing_it_quits(
    tmp_path: Path, admin: Services
) -> None:
    lines = _run(admin.db.display_name, tmp_path, password="wrong").splitlines()
    assert lines[0] == "first paint SignInDialog False"
    assert "refused Wrong operator name or password for 'admin'." in lines
    assert "first paint MainWindow True" not in lines
    assert lines[-1] == "exit 0"  # closing the sign-in window ends the application


def test_a_file_that_is_not_a_database_closes_the_sign_in_window_and_says_so(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    lines = _run(str(junk), tmp_path).splitlines()
    assert lines[0] == "first paint SignInDialog False"
    fatal = [line for line in lines if line.startswith("fatal")]
    assert len(fatal) == 1
    assert "notes.txt" in fatal[0]
    assert lines[-1] == "exit 2"


def test_a_database_without_operators_goes_to_the_first_administrator(tmp_path: Path) -> None:
    empty = tmp_path / "new.sqlite"
    Workspace.open(str(empty)).close()  # created, no operator yet
    lines = _run(str(empty), tmp_path).splitlines()
    assert lines[0] == "first paint SignInDialog False"
    assert "first paint StartDialog True" in lines  # where the administrator is created
    assert lines[-1] == "exit 0"  # the driver closed it
