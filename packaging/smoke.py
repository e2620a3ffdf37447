"""Smoke-test a frozen SeatLedger: it runs without the Python it was built with.

Usage (``make package`` runs it on what it built)::

    python packaging/smoke.py dist/seatledger/seatledger

In a temporary folder, with the environment stripped of Python's variables: ``--version``; a
small demo database built by the frozen program; ``ledger verify`` of it; a whole audit of one
vendor (``audit run``: its position, usage charts drawn by Qt, the signed PDF and bundle) and
``verify`` of the bundle against the public key ``signing show`` exports; the window, which must
first paint its sign-in window (the database still opening behind it), and, signed in from the
environment, paint the main window.  The window runs offscreen unless DISPLAY is set (under
``xvfb-run``, say).  Prints each step and the start-to-window times; exits non-zero on the first
failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 300  # seconds for the demo build on a slow machine
AUDITED = "Tableau"  # a vendor of the small demo


class SmokeFailed(Exception):
    """A step of the smoke test failed."""


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _environment(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "SEATLEDGER_", "QT_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _run(program: Path, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 (the program under test, our own arguments, no shell)
        [str(program), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise SmokeFailed(f"seatledger {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def _first_window(program: Path, db: Path, env: dict[str, str]) -> float:
    """Start the window without credentials; return the seconds to its first paint (the
    sign-in window), then close it: nobody is there to sign in."""
    started = time.monotonic()
    with subprocess.Popen(  # noqa: S603 (the program under test, no shell)
        [str(program), "--db", str(db)],
        env={**env, "SEATLEDGER_EXIT_AFTER_PAINT": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # "painted SECONDS", or "" if it ended
            if not line.startswith("painted "):
                process.kill()
                _out, err = process.communicate(timeout=10)
                raise SmokeFailed(f"the window never painted ({line!r}):\n{err}")
            return float(line.split()[1]) if line.split()[1:] else time.monotonic() - started
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


def _audit(program: Path, db: Path, home: Path, env: dict[str, str]) -> None:
    """Audit one vendor of the demo as its auditor, then verify the signed bundle as a vendor
    would: against the organization's public key, pinned."""
    signer = {
        **env,
        "SEATLEDGER_PASSWORD": "demo",
        "SEATLEDGER_KEY_PASSPHRASE": "a smoke test's signing passphrase",
    }
    out = home / "audit"
    audit = ["audit", "run", "--db", str(db), "--operator", "auditor", "--vendor", AUDITED]
    ran = _run(program, [*audit, "--attest", "Smoke test.", "--out", str(out)], signer)
    lines = [line.split(maxsplit=1) for line in ran.splitlines() if line.startswith("  ")]
    paths = {words[0]: words[1] for words in lines if len(words) == 2}
    if "zip" not in paths or not Path(paths["zip"]).is_file():
        raise SmokeFailed(f"audit run wrote no bundle .zip:\n{ran}")
    _say(f"ok  audit run: {ran.splitlines()[0]} Signed: {Path(paths['zip']).name}")
    key = home / "organization.pem"
    _run(program, ["signing", "show", "--db", str(db), "--pubkey-out", str(key)], env)
    verdict = _run(program, ["verify", paths["zip"], "--pubkey", str(key)], env)
    _say(f"ok  verify: {verdict.strip().splitlines()[0]}")


def smoke(program: Path) -> None:
    """Run every step; raise SmokeFailed on the first that fails."""
    if not program.is_file():
        raise SmokeFailed(f"{program} does not exist: run `make package` first")
    with tempfile.TemporaryDirectory(prefix="seatledger-smoke-") as folder:
        home = Path(folder)
        env = _environment(home)
        version = _run(program, ["--version"], env).strip()
        _say(f"ok  --version: {version}")
        db = home / "demo.sqlite"
        _run(program, ["demo", "--db", str(db)], env)
        _say(f"ok  demo database built: {db.stat().st_size / 1e6:.1f} MB")
        verified = _run(program, ["ledger", "verify", "--db", str(db)], env)
        _say(f"ok  ledger verify: {verified.strip().splitlines()[0]}")
        _audit(program, db, home, env)
        painted = _first_window(program, db, env)
        _say(f"ok  sign-in window painted {painted:.3f} s after start")
        signed_in = {
            **env,
            "SEATLEDGER_EXIT_AFTER_PAINT": "1",
            "SEATLEDGER_OPERATOR": "viewer",
            "SEATLEDGER_PASSWORD": "demo",
        }
        output = _run(program, ["--db", str(db)], signed_in)
        times = dict(line.split(maxsplit=1) for line in output.splitlines() if " " in line)
        if "usable" not in times:
            raise SmokeFailed(f"the main window never painted: {times}")
        _say(f"ok  main window painted {float(times['usable']):.3f} s after start (signed in)")


def main(argv: list[str]) -> int:
    """Smoke-test the program named on the command line."""
    if len(argv) != 1:
        raise SystemExit("usage: python packaging/smoke.py dist/seatledger/seatledger")
    try:
        smoke(Path(argv[0]).resolve())
    except (SmokeFailed, subprocess.TimeoutExpired) as exc:
        sys.stderr.write(f"FAILED  {exc}\n")
        return 1
    _say("the frozen program works")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
