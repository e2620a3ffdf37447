"""Starting the desktop application: open the database, sign in, show the main window.

``run(db)`` is what ``seatledger`` (no command) calls.  It keeps start-up light: pyqtgraph and the
dialogs are imported only when needed.

Environment:
    SEATLEDGER_OPERATOR, SEATLEDGER_PASSWORD: sign in without the dialog (scripts, screenshots).
    SEATLEDGER_EXIT_AFTER_PAINT=1: print ``painted <seconds>`` once the main window has painted,
        then quit.  The seconds count from the start of the process as the kernel records it
        (``/proc/self/stat``), so interpreter start-up and imports are included; where that file
        does not exist they count from the import of this module.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from seatledger import APP_ID, APP_NAME, ORG_NAME, __version__
from seatledger.errors import KnownError
from seatledger.paths import data_dir, default_database, private_folder, shown_target
from seatledger.progress import Progress
from seatledger.resources import app_icon_path, icon_png_paths
from seatledger.ui.preflight import platform_problem
from seatledger.ui.tasks import Runner, Task, shared_runner
from seatledger.ui.theme import saved_theme, theme_keeper

if TYPE_CHECKING:  # imported once the first window has painted (SQLAlchemy alone takes ~0.3 s)
    from seatledger.services.operators.session import Services
    from seatledger.services.operators.workspace import Workspace
    from seatledger.ui.main_window import MainWindow

EXIT_OK = 0
EXIT_ERROR = 2
LOG_FILE = "seatledger.log"
_IMPORTED = time.perf_counter()
_PAINT = QEvent.Type.Paint
_OPEN_BY = 500  # ms: the database starts opening by then, painted sign-in window or not

log = logging.getLogger("seatledger")


def seconds_since_start() -> float:
    """Seconds since the process started (kernel start time on Linux; else since import)."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        # Field 22 (start time, in clock ticks after boot); the command name in field 2 may hold
        # spaces or parentheses, so count from the last ")".
        fields = stat[stat.rindex(b")") + 2 :].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED


def _app_icon() -> QIcon:
    icon = QIcon()
    for path in icon_png_paths():
        icon.addFile(str(path))
    svg = app_icon_path()
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def _application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(_app_icon())
    theme_keeper().apply(saved_theme(QSettings()))  # the desktop's scheme unless one was picked
    return app


# ---------------------------------------------------------------------------------- errors


def _log_to_file() -> None:
    """Log warnings and bugs to the data folder (the file is created on the first record)."""
    if any(isinstance(h, logging.FileHandler) for h in log.handlers):
        return
    try:
        folder = data_dir()
        private_folder(folder)
        handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8", delay=True)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


class _ErrorReporter:
    """``sys.excepthook``: show a bug in a dialog with its traceback and log it; the app goes on.

    Every change is one transaction, so an exception that reaches here has already rolled its
    change back: nothing half-written is left behind.  While the dialog is open, further errors
    (say, from a paint handler that fails on every repaint) are only logged, never stacked.
    """

    def __init__(self) -> None:
        self._showing = False

    def __call__(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        """Report one uncaught exception."""
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        log.error("Unexpected error\n%s", details)
        if isinstance(value, KnownError):
            message, details = str(value), ""
        else:
            message = (
                f"Something went wrong: {value}\n\nNothing was half-saved; the change that "
                f"failed was rolled back. The details are logged in {data_dir() / LOG_FILE}."
            )
        if QApplication.instance() is None or self._showing:
            sys.__excepthook__(kind, value, tb)
            return
        self._showing = True
        try:
            from seatledger.ui.dialogs.errors import show_error  # noqa: PLC0415

            show_error(QApplication.activeWindow(), message, details)
        except Exception:  # the error dialog itself failed: stderr still has it
            sys.__excepthook__(kind, value, tb)
        finally:
            self._showing = False


def install_excepthook() -> None:
    """Route unexpected exceptions to an error dialog and the log file."""
    _log_to_file()
    sys.excepthook = _ErrorReporter()


def _fatal(message: str) -> int:
    log.warning("%s", message)
    QMessageBox.critical(None, APP_NAME, message)
    return EXIT_ERROR


# ---------------------------------------------------------------------------- opening


class _Cancelled(Exception):
    """The user closed a start or sign-in dialog."""


class _Opening:
    """The database layer imported and the database opened on a runner, off the GUI thread.

    ``future`` holds the workspace (or the error that stopped it) for whatever must wait for it;
    ``task`` reports it on the GUI thread.  Once it is open, another thread imports the main
    window's modules, so that they are loaded by the time the operator has signed in.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.future: Future[Workspace] = Future()
        self.needs_administrator = False
        self.task: Task[Workspace] = Task(self._open)
        self._started = False

    def start(self) -> None:
        """Start opening, on the runner of work outside a main window (once; again: no-op)."""
        if not self._started:
            self._started = True
            shared_runner().start(self.task)

    def _open(self, _progress: Progress) -> Workspace:
        from seatledger.services.operators.workspace import Workspace  # noqa: PLC0415 (after the first paint)

        try:
            workspace = Workspace.open(self.target)
            self.needs_administrator = workspace.needs_administrator()
            _ = workspace.is_demo  # read here, not when the sign-in window asks
        except BaseException as exc:
            self.future.set_exception(exc)
            raise
        self.future.set_result(workspace)
        threading.Thread(target=_preload, name="preload", daemon=True).start()
        return workspace

    def wait(self) -> Workspace:
        """The workspace, once open; the event loop runs meanwhile, so windows stay live.

        Raises:
            KnownError: the database could not be opened.
        """
        if not self.future.done():
            loop = QEventLoop()
            self.task.finished.connect(loop.quit)
            if not self.future.done():  # the task may have finished while connecting
                loop.exec()
        return self.future.result()


def _start_dialog(path: str | None = None) -> tuple[Services, Workspace]:
    from seatledger.ui.dialogs.start import OPEN, StartDialog  # noqa: PLC0415
    from seatledger.ui.recent import recent_databases  # noqa: PLC0415

    recent = recent_databases(QSettings())
    # Someone who has opened databases before most likely wants one of them.
    dialog = (
        StartDialog(recent=recent, start_on=OPEN)
        if recent and path is None
        else StartDialog(recent=recent)
    )
    if path is not None and isinstance(dialog.create_path, QLineEdit):
        dialog.create_path.setText(path)  # a new database: its administrator comes first
    if dialog.exec() != QDialog.DialogCode.Accepted:
        raise _Cancelled
    workspace = dialog.workspace
    if dialog.services is not None:
        return dialog.services, workspace
    return _sign_in_window(workspace), workspace


def _environment_sign_in() -> tuple[str, str] | None:
    name = os.environ.get("SEATLEDGER_OPERATOR")
    password = os.environ.get("SEATLEDGER_PASSWORD")
    return (name, password) if name and password is not None else None


def _sign_in_window(workspace: Workspace) -> Services:
    if (credentials := _environment_sign_in()) is not None:
        return workspace.sign_in(*credentials)  # AuthenticationError: reported by run()
    from seatledger.ui.dialogs.sign_in import SignInDialog  # noqa: PLC0415

    dialog = SignInDialog(workspace)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.services is None:
        workspace.close()
        raise _Cancelled
    return dialog.services


def _sign_in_while_opening(opening: _Opening) -> tuple[Services, Workspace]:
    """The sign-in window at once; the database opens behind it (see :class:`_Opening`)."""
    from seatledger.ui.dialogs.sign_in import SignInDialog  # noqa: PLC0415

    dialog = SignInDialog(opening.future, display_name=shown_target(opening.target))
    interrupted: list[bool] = []

    def opened() -> None:
        if opening.future.exception() is not None or opening.needs_administrator:
            interrupted.append(True)
            dialog.reject()  # the error, or the new database's first administrator, comes next
        else:
            dialog.set_workspace(opening.future.result())

    opening.task.finished.connect(opened)
    _AfterFirstPaint(dialog, opening.start)  # nothing competes with the window's first paint
    QTimer.singleShot(_OPEN_BY, opening.start)  # in case a platform never paints it
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    try:
        workspace = opening.wait()
    except KnownError:
        if not accepted and not interrupted:  # closed by the operator before it failed
            raise _Cancelled from None
        raise
    if opening.needs_administrator:
        workspace.close()
        return _start_dialog(opening.target)
    if not accepted or dialog.services is None:
        workspace.close()
        raise _Cancelled
    return dialog.services, workspace


def open_session(db: str | None, opening: _Opening | None = None) -> tuple[Services, Workspace]:
    """Open the database (or ask which one on first run) and sign in.

    With SEATLEDGER_OPERATOR and SEATLEDGER_PASSWORD set, the operator signs in without a
    window; otherwise the sign-in window shows first and the database opens behind it.

    Args:
        db: the database's path or URL; None: the default one.
        opening: the database's opening, if already started.

    Raises:
        KnownError: the database cannot be opened, or signing in from the environment failed.
        _Cancelled: the user closed a dialog.
    """
    target = db or default_database()
    if opening is None:
        if db is None and "://" not in target and not Path(target).exists():
            return _start_dialog()
        opening = _Opening(target)
        if _environment_sign_in() is None:
            return _sign_in_while_opening(opening)
        opening.start()
    workspace = opening.wait()
    if opening.needs_administrator:
        workspace.close()
        return _start_dialog(target)
    try:
        return _sign_in_window(workspace), workspace
    except KnownError:
        workspace.close()
        raise


class _AfterFirstPaint(QObject):
    """Calls back once a window's first paint pass has finished."""

    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._callback: Callable[[], None] | None = callback
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first paint, call back once the paint pass (children included) is done."""
        if self._callback is not None and event.type() == _PAINT:
            # The window and its children paint in one pass; a zero timer posted from inside
            # the paint event runs after that pass has been flushed to the screen.
            QTimer.singleShot(0, self._callback)
            self._callback = None
        return False


def _report(label: str) -> None:
    """The start-up benchmark's output: ``painted`` (first frame), ``usable`` (data shown)."""
    sys.stdout.write(f"{label} {seconds_since_start():.3f}\n")
    sys.stdout.flush()


class _StartFrame(QMainWindow):
    """The window as it first appears, where the main window will be, while the database opens.

    It paints within a few hundred milliseconds of the process starting, before the database
    layer is even imported; the main window replaces it once the operator is signed in.
    """

    def __init__(self, target: str) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        body = QWidget(self)
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        for title in ("&File", "&Edit", "&Seats", "&View", "&Admin", "&Help"):
            self.menuBar().addMenu(title).setEnabled(False)
        navigation = QListWidget(body)
        navigation.addItems(["Licenses", "People", "Devices", "Activity"])
        navigation.setFixedWidth(170)
        navigation.setFrameShape(QListWidget.Shape.NoFrame)
        navigation.setEnabled(False)
        message = QLabel(f"Opening {target}…", body)
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message.setEnabled(False)
        layout.addWidget(navigation)
        layout.addWidget(message, 1)
        self.setCentralWidget(body)
        self.statusBar().showMessage("Opening the database…")
        geometry = QSettings().value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # where the main window will appear
        else:
            self.resize(1320, 820)


class _Session(QObject):
    """Keeps the current main window; replaces it when the user opens another database."""

    def __init__(self, runner: Runner) -> None:
        super().__init__()
        self._runner = runner
        self.window: MainWindow | None = None

    def show(self, services: Services, workspace: Workspace) -> MainWindow:
        from seatledger.ui.main_window import MainWindow  # noqa: PLC0415 (after the first paint)

        window = MainWindow(services, workspace, runner=self._runner)
        window.open_requested.connect(self._switch)
        window.show()
        self.window = window
        return window

    def _switch(self, services: object, workspace: object) -> None:
        from seatledger.services.operators.session import Services  # noqa: PLC0415
        from seatledger.services.operators.workspace import Workspace  # noqa: PLC0415

        assert isinstance(services, Services)
        assert isinstance(workspace, Workspace)
        old = self.window
        self.show(services, workspace)
        if old is not None:
            old.close()
            if old.workspace is not workspace:  # another operator on the same one keeps it
                old.workspace.close()
            old.deleteLater()

    def close(self) -> None:
        self._runner.wait()
        if self.window is not None:
            self.window.workspace.close()


def _preload() -> None:
    # While the operator types (or Argon2 checks the password with the GIL released), the main
    # window's modules: defining widget classes creates no Qt object, so any thread may import
    # them.
    import seatledger.ui.main_window  # noqa: F401, PLC0415


class _FirstPaint(QObject):
    """Reports ``painted`` for the benchmark once the first window (of any kind) has painted."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first paint anywhere, report after the paint pass, and stop watching."""
        if event.type() == _PAINT and isinstance(watched, QWidget):
            QTimer.singleShot(0, lambda: _report("painted"))
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
        return False


def run(db: str | None) -> int:
    """Run the application on a database (None: the default one); returns the exit status.

    The sign-in window paints first, before the database layer is imported; that is imported
    and the database opened while the operator types (:class:`_Opening`), and the main window
    follows the sign-in.  Signed in from the environment (scripts, the benchmark), a start frame
    shows where the main window will be, and the database opens as it paints.
    """
    if (problem := platform_problem()) is not None:  # Qt would abort the process
        sys.stderr.write(problem + "\n")
        return EXIT_ERROR
    target = db or default_database()
    first_run = db is None and "://" not in target and not Path(target).exists()
    opening: _Opening | None = None
    if _environment_sign_in() is not None and not first_run:
        # Nothing to type: the database layer loads on the other core while Qt starts and the
        # frame paints.
        opening = _Opening(target)
        opening.start()
    app = _application()
    install_excepthook()
    benchmark = os.environ.get("SEATLEDGER_EXIT_AFTER_PAINT") == "1"
    if benchmark:
        reporter = _FirstPaint(app)
        app.installEventFilter(reporter)
    frame = _StartFrame(shown_target(target)) if opening is not None else None
    holder: list[_Session] = []

    def proceed() -> None:
        try:
            services, workspace = open_session(db, opening)
        except _Cancelled:
            app.exit(EXIT_OK)
            return
        except KnownError as exc:
            if frame is not None:
                frame.hide()
            app.exit(_fatal(str(exc)))
            return
        session = _Session(Runner())
        holder.append(session)
        window = session.show(services, workspace)
        if frame is not None:
            frame.close()
        QApplication.setQuitOnLastWindowClosed(True)
        if benchmark:

            def usable() -> None:
                _report("usable")
                QApplication.quit()

            _AfterFirstPaint(window, usable)

    # Until the main window is up, closing a dialog must not end the application by itself.
    QApplication.setQuitOnLastWindowClosed(False)
    if frame is not None:
        _AfterFirstPaint(frame, proceed)
        frame.show()
    else:
        QTimer.singleShot(0, proceed)
    try:
        return app.exec()
    finally:
        for session in holder:
            session.close()
