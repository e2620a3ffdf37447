"""``seatledger signing``: show, create, import or rotate the report-signing identity."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import key_passphrase, reader, signed_in
from seatledger.paths import replaced
from seatledger.services.audits.signing import fingerprint_text
from seatledger.services.operators.session import ORGANIZATION_KEY, read_setting


def cmd_signing(args: argparse.Namespace) -> int:
    """Show, create, import or rotate the report-signing identity."""
    if args.signing_command == "show":
        service = reader(args).signing
        history = service.history()
        if not history:
            say("No signing identity yet; it is created on first signing.")
            return EXIT_OK
        for info in history:
            state = "active" if info.active else f"retired {info.retired_at:%Y-%m-%d}"
            say(f"Identity {info.id} ({state}, {info.origin} {info.created_at:%Y-%m-%d}):")
            say(f"  organization       {info.organization}")
            until = f"{info.certificate_not_after:%Y-%m-%d}"
            say(f"  certificate        {info.certificate_subject}, until {until}")
            say(f"  manifest key       SHA-256 {fingerprint_text(info.ed25519_fingerprint)}")
            say(f"  PDF certificate    SHA-256 {fingerprint_text(info.certificate_fingerprint)}")
        if args.pubkey_out:
            with replaced(Path(args.pubkey_out)) as target:
                target.write_bytes(service.public_key_pem(history[0].id))
            say(f"Wrote the manifest key of identity {history[0].id} to {args.pubkey_out}.")
        return EXIT_OK
    if args.signing_command == "key-lost":
        return _key_lost(args)
    services = signed_in(args)
    service = services.signing
    organization = getattr(args, "organization", "") or read_setting(services.db, ORGANIZATION_KEY)
    if args.signing_command == "import":
        data = Path(args.file).read_bytes()
        p12_password = os.environ.get("SEATLEDGER_PKCS12_PASSWORD")
        if p12_password is None and sys.stdin.isatty():
            p12_password = getpass.getpass(f"Password of {Path(args.file).name}: ")
        current = key_passphrase() if service.current() is not None else None
        identity = service.import_pkcs12(
            data, p12_password, key_passphrase(new=True), args.reason, current_passphrase=current
        )
    elif args.signing_command == "rotate":
        current = key_passphrase()
        identity = service.rotate(current, key_passphrase(new=True), organization, args.reason)
    else:
        identity = service.create(key_passphrase(new=True), organization)
    say(f"Signing identity {identity.id} for {identity.organization}:")
    say(f"  manifest key       SHA-256 {fingerprint_text(identity.ed25519_fingerprint)}")
    say(f"  PDF certificate    SHA-256 {fingerprint_text(identity.certificate_fingerprint)}")
    return EXIT_OK


def _key_lost(args: argparse.Namespace) -> int:
    """Request, approve, withdraw or show the replacement of an identity whose key is lost."""
    if args.key_lost_command == "show":
        pending = reader(args).signing.key_lost_request()
        say(f"Pending: {pending.text}." if pending else "No key-lost request is pending.")
        return EXIT_OK
    service = signed_in(args).signing
    if args.key_lost_command == "request":
        request = service.request_key_lost(args.reason)
        say(f"Recorded: {request.text}.")
        say(
            "Another administrator approves it with 'seatledger signing key-lost approve', which "
            "retires the lost identity and creates the new one."
        )
        return EXIT_OK
    if args.key_lost_command == "withdraw":
        request = service.withdraw_key_lost(args.reason)
        say(f"Withdrawn: {request.text}.")
        return EXIT_OK
    data = p12_password = None
    if args.p12:
        data = Path(args.p12).read_bytes()
        p12_password = os.environ.get("SEATLEDGER_PKCS12_PASSWORD")
        if p12_password is None and sys.stdin.isatty():
            p12_password = getpass.getpass(f"Password of {Path(args.p12).name}: ")
    identity = service.approve_key_lost(
        key_passphrase(new=True), args.organization, data, p12_password
    )
    say(f"Signing identity {identity.id} for {identity.organization} replaces the lost one:")
    say(f"  manifest key       SHA-256 {fingerprint_text(identity.ed25519_fingerprint)}")
    say(f"  PDF certificate    SHA-256 {fingerprint_text(identity.certificate_fingerprint)}")
    say(
        "The lost key cannot endorse it: give vendors this fingerprint by another channel "
        "(their verifier reports the key as replacing a lost one until they pin it)."
    )
    return EXIT_OK
