"""A PostgreSQL cluster of the test run's own, for a machine where the server is installed.

Without ``SEATLEDGER_TEST_PG`` the PostgreSQL half of the suite would be skipped; where the
server's programs are installed (``initdb`` on PATH, or Debian's ``/usr/lib/postgresql/N/bin``)
the suite instead starts a throwaway cluster in a temporary folder, listening on a free port of
127.0.0.1 only, and removes it at the end.  Whether the machine's own cluster runs does not
matter: this one is initialized and started from nothing.  ``initdb`` refuses to run as root;
as root the cluster is run by the ``postgres`` account (``runuser``), as Debian's own is.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROLE = PASSWORD = "seatledger"  # the cluster's superuser, as .ci/run's (tests read a password)
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_SETTINGS = (
    # A cluster that lives as long as one test run: durability buys nothing.
    "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c listen_addresses=127.0.0.1 -c max_connections=100"
)


class ClusterUnavailable(Exception):
    """No throwaway cluster can be started here; the message says why."""


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian version), or None."""
    found = shutil.which("initdb")
    if found is not None and shutil.which("pg_ctl", path=str(Path(found).parent)):
        return Path(found).parent

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name))

    installed = sorted(DEBIAN_BINARIES.glob("*/bin/initdb"), key=version)
    return installed[-1].parent if installed else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(folder: Path) -> list[str]:
    """The command prefix that runs the server's programs as a user they accept."""
    if os.geteuid() != 0:
        return []
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable(
            "initdb refuses to run as root and there is no 'postgres' account to run it"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterUnavailable("initdb refuses to run as root and runuser is not installed")
    os.chown(folder, account.pw_uid, account.pw_gid)
    return [runuser, "-u", "postgres", "--"]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ClusterUnavailable(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")


@contextmanager
def throwaway_cluster(binaries: Path) -> Iterator[str]:
    """Initialize and start a cluster in a temporary folder; yield a superuser URL to its
    ``postgres`` database; stop it and remove the folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="seatledger-pg-"))
    try:
        prefix = _as_server_user(folder)
        data, port = folder / "data", _free_port()
        password = folder / "password"
        password.write_text(PASSWORD + "\n", encoding="utf-8")
        password.chmod(0o644)  # for the postgres account, when root runs the suite
        _run(
            [
                *prefix,
                str(binaries / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                ROLE,
                "--pwfile",
                str(password),
                "--auth-host",
                "scram-sha-256",
                "--auth-local",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",  # as Debian's own cluster on which CI runs the suite
                "--no-sync",
            ],
            "initdb",
        )
        pg_ctl = [*prefix, str(binaries / "pg_ctl"), "--pgdata", str(data)]
        options = f"-p {port} -k {folder} {SERVER_SETTINGS}"
        _run(
            [*pg_ctl, "--log", str(folder / "server.log"), "--options", options, "--wait", "start"],
            "pg_ctl start",
        )
        try:
            yield f"postgresql+psycopg://{ROLE}:{PASSWORD}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*pg_ctl, "--mode", "immediate", "--wait", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
