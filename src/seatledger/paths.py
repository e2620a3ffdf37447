"""Where SeatLedger keeps its data by default (platformdirs), overridable by SEATLEDGER_DB."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_path

from seatledger import APP_NAME, ORG_NAME


def expanded(text: str) -> Path:
    """``text`` as a path with a leading ``~`` or ``~user`` expanded, as a shell does: where
    there is no such user (``~0``) or no home directory, the text is left as it is."""
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:  # "Could not determine home directory."
        return path


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; the folder itself only its owner may enter."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def private_file(path: Path) -> None:
    """Create an empty file only its owner may read or write (0600), if it does not exist.

    SQLite gives its WAL and shared-memory files the database file's permissions, so a database
    created this way keeps operator hashes, sealed keys and the pseudonym key private to its
    owner whatever the umask.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@contextlib.contextmanager
def replaced(target: Path) -> Iterator[Path]:
    """A new file beside ``target`` to write; it takes ``target``'s place when the block ends.

    What is there is replaced whole or not at all: a symbolic link at ``target`` is replaced
    itself, never written through to whatever it points at, and a failed or cancelled write
    leaves ``target`` as it was and nothing else behind.

    Raises:
        OSError: the folder cannot be written.
    """
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def data_dir() -> Path:
    """The per-user data folder (created on demand)."""
    return user_data_path(APP_NAME, ORG_NAME, ensure_exists=False)


def default_database() -> str:
    """The database opened when no ``--db`` is given."""
    return os.environ.get("SEATLEDGER_DB") or str(data_dir() / "seatledger.sqlite")


def shown_target(db: str) -> str:
    """A ``--db`` argument fit to show before the database layer is loaded (no password)."""
    if "://" not in db:
        return db
    parts = urlsplit(db)
    if parts.password is None:
        return db
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}"))
