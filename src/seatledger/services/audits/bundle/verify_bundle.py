#!/usr/bin/env python3
"""Verify a SeatLedger audit report bundle with the Python standard library alone.

(``cryptography`` is used where it is installed: faster, and it reads the certificate's subject
to compare the organization; without it Ed25519 is checked by the RFC 8032 code below.)

Usage::

    python3 verify_bundle.py BUNDLE [--pubkey signing-key.pub.pem] [--previous OLD/manifest.json]

BUNDLE is the bundle folder or its ``.zip``.  Checks, each reported by name:

1. ``manifest.sig`` is the Ed25519 signature of the exact bytes of ``manifest.json``, under the key
   you pinned (``--pubkey``) or, without it, the key in the bundle (which proves only that the
   bundle is self-consistent: pin the key the organization gave you);
2. the key and certificate in the bundle are the ones the manifest names (SHA-256 fingerprints);
3. every file the manifest lists is present with its SHA-256 and size, and there is no other file;
4. ``SHA256SUMS`` agrees with the manifest;
5. each entry ``ledger.jsonl`` discloses hashes to what its line says, computed as
   SHA-256("seatledger/ledger/v1\\0" || seq as 8 bytes big-endian || previous hash || body), and
   the disclosed entries' hashes, the checkpoint's head and the hashes of ``ledger.proof`` give
   the checkpoint's signed Merkle root (RFC 9162 hashing: leaf = SHA-256(0x00 || entry hash),
   node = SHA-256(0x01 || left || right)); an entry "withheld" (it names a person or another
   vendor) is proved by its hash alone;
6. the ledger extends the previous report's checkpoint: the manifest's ``previous_checkpoint``
   carries the inclusion path of the previous head in the previous tree and the RFC 9162
   consistency proof from that tree to this one; ``--previous`` names the manifest you kept from
   the last report, which must be that same checkpoint (format 1 bundles, which carried the whole
   ledger, are still checked as a chain).

The PDF's own signature is shown by any PDF reader or ``pdfsig report.pdf`` (poppler); its bytes
are covered by the manifest.  Exit status: 0 when everything verifies against the key you pinned,
3 when the bundle is intact but you pinned no key (it then proves only self-consistency: compare
the printed fingerprint with the one the organization gave you), 1 when something does not
verify (a ``--previous`` manifest without its ``manifest.sig`` beside it fails: continuity is
proved or it is not), 2 when the bundle cannot be read.

Each ``ledger.jsonl`` line is ``{"seq":N,"hash":"<hex>","prev":"<hex>","body":BODY}`` where BODY
is the exact byte string that was hashed (canonical JSON), or ``{"seq":N,"hash":"<hex>",
"withheld":…,"summary":…}``; the first entry whose recomputed hash differs is named.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

try:  # fast and constant-time where installed; the standard library alone works too
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover (the tests run both paths in subprocesses)
    Ed25519PublicKey = None  # type: ignore[assignment,misc]

FORMAT = "seatledger-bundle/2"
FORMATS = frozenset({"seatledger-bundle/1", FORMAT})  # /1: the whole ledger, no tree
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SUMS = "SHA256SUMS"
LEDGER = "ledger.jsonl"
PROOF = "ledger.proof"
VERIFY_TXT = "VERIFY.txt"
PUBLIC_KEY = "signing-key.pub.pem"
CERTIFICATE = "signing-cert.pem"
REPORT_PDF = "report.pdf"
DOMAIN_TAG = b"seatledger/ledger/v1\x00"
GENESIS_HASH = bytes(32)
UNSIGNED = frozenset({MANIFEST, SIGNATURE})  # every other file is listed in the manifest
_SEQ = struct.Struct(">Q")
_LINE = re.compile(
    rb'\{"seq":(0|[1-9][0-9]{0,18}),"hash":"([0-9a-f]{64})","body":(\{.*\})\}\n?\Z', re.DOTALL
)
_DISCLOSED = re.compile(
    rb'\{"seq":([1-9][0-9]{0,18}),"hash":"([0-9a-f]{64})","prev":"([0-9a-f]{64})",'
    rb'"body":(\{.*\})\}\n?\Z',
    re.DOTALL,
)
_CHUNK = 1 << 20


def ledger_line(seq: int, digest: bytes, body: bytes) -> bytes:
    """One ``ledger.jsonl`` line: the body embedded as its exact hashed bytes."""
    return b'{"seq":%d,"hash":"%s","body":%s}\n' % (seq, digest.hex().encode(), body)


def entry_hash(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """The chain hash of one ledger entry (as SeatLedger computes it)."""
    return hashlib.sha256(DOMAIN_TAG + _SEQ.pack(seq) + prev_hash + body).digest()


# ---- The Merkle tree of RFC 9162 (section 2.1), as SeatLedger builds it over the entries' hashes.


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): a leaf, here an entry's chain hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def multiproof_root(size: int, leaves: list[tuple[int, bytes]], nodes: list[bytes]) -> bytes | None:
    """The root of a tree of ``size`` leaves from some of them, ``(index, leaf hash)``
    ascending, and the hashes of the subtrees holding none of them, left to right and depth
    first (``ledger.proof``); None when the hashes are too few or too many."""
    indexes = [index for index, _ in leaves]
    given = iter(nodes)
    used = 0

    def mth(start: int, end: int, lo: int, hi: int) -> bytes:
        nonlocal used
        if lo == hi:
            used += 1
            return next(given)
        if end - start == 1:
            return leaves[lo][1]
        k = _split(end - start)
        mid = lo
        while mid < hi and indexes[mid] < start + k:
            mid += 1
        return node_hash(mth(start, start + k, lo, mid), mth(start + k, end, mid, hi))

    if size == 0:
        return None
    try:
        root = mth(0, size, 0, len(leaves))
    except StopIteration:
        return None
    return root if used == len(nodes) else None


def _climb_right_edge(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162's step after hashing in a left sibling: where ``fn`` is even (a right edge),
    climb while it stays even."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: ``path`` shows ``leaf`` at ``index`` of the tree ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _climb_right_edge(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: the tree ``root`` of ``size`` extends ``old_root``."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _climb_right_edge(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0


_ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo before the key


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key (its 32 raw bytes)."""

    raw: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the key's SubjectPublicKeyInfo DER, as the manifest names it."""
        return hashlib.sha256(_ED25519_SPKI + self.raw).hexdigest()

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``message``."""
        if Ed25519PublicKey is not None:
            try:
                Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
            except InvalidSignature:
                return False
            return True
        return ed25519_verify(self.raw, message, signature)


def fingerprint(key: PublicKey) -> str:
    """SHA-256 (hex) of a public key's SubjectPublicKeyInfo DER."""
    return key.fingerprint


def _pem_der(pem: bytes, label: str) -> bytes | None:
    """The DER inside a PEM block with ``label`` (PUBLIC KEY, CERTIFICATE), or None."""
    begin, end = b"-----BEGIN %s-----" % label.encode(), b"-----END %s-----" % label.encode()
    start = pem.find(begin)
    stop = pem.find(end, start + 1)
    if start < 0 or stop < 0:
        return None
    try:
        return base64.b64decode(b"".join(pem[start + len(begin) : stop].split()), validate=True)
    except ValueError:
        return None


# --------------------------------------------------------------------- Ed25519 (RFC 8032)
# Verification only, with the standard library, so that this script runs where the
# `cryptography` package is not installed; it is used only then.  Checked against RFC 8032's
# test vectors (tests/services/test_verify_bundle_stdlib.py).  Not constant-time: it handles
# public data.

_P = 2**255 - 19
_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_G_Y = 4 * pow(5, _P - 2, _P) % _P


def _ed_add(a: _Point, b: _Point) -> _Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % _P
    bb = (y1 + x1) * (y2 + x2) % _P
    cc = 2 * t1 * t2 * _D % _P
    dd = 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _ed_mul(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _ed_add(result, point)
        point = _ed_add(point, point)
        scalar >>= 1
    return result


def _ed_equal(a: _Point, b: _Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _ed_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _ed_point(data: bytes) -> _Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _ed_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_G = (_ed_x(_G_Y, 0) or 0, _G_Y, 1, (_ed_x(_G_Y, 0) or 0) * _G_Y % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 section 5.1.7: whether ``signature`` is ``public``'s over ``message``."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _ed_point(public)
    r = _ed_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _ed_equal(_ed_mul(s, _G), _ed_add(r, _ed_mul(h, a)))


class BundleError(Exception):
    """The bundle cannot be read at all."""


@dataclass
class Check:
    """One named check and what it found."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class Result:
    """Every check run on a bundle."""

    checks: list[Check] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    pinned: bool = False  # checked against a key the verifier pinned, not the bundled one
    key_fingerprint: str = ""
    key_lost: str = ""  # how the bundled key replaced the pinned one after its loss, if it did

    @property
    def ok(self) -> bool:
        """True when every check passed (and at least one ran)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record a check; return ``ok``."""
        self.checks.append(Check(name, ok, detail))
        return ok

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]


class Bundle:
    """The files of a bundle, from its folder or its zip (read in place, never extracted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_dir():
            self.names = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()
            )
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            entries = [i.filename for i in self._zip.infolist() if not i.is_dir()]
            if len(entries) != len(set(entries)):
                raise BundleError(f"{path.name} holds two files of the same name")
            tops = {name.split("/", 1)[0] for name in entries}
            if len(tops) == 1 and all("/" in n for n in entries):
                self._prefix = tops.pop() + "/"
            self.names = sorted(n.removeprefix(self._prefix) for n in entries)
        else:
            raise BundleError(f"{path} is neither a bundle folder nor a zip file")

    def close(self) -> None:
        """Close the zip, if any."""
        if self._zip is not None:
            self._zip.close()

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A file of the bundle, opened for reading bytes."""
        if self._zip is not None:
            with self._zip.open(self._prefix + name) as handle:
                yield handle
        else:
            with (self.path / name).open("rb") as handle:
                yield handle

    def read(self, name: str) -> bytes:
        """A whole (small) file."""
        with self.open(name) as handle:
            return handle.read()

    def digest(self, name: str) -> tuple[str, int]:
        """SHA-256 (hex) and size of a file, streamed."""
        sha = hashlib.sha256()
        size = 0
        with self.open(name) as handle:
            while chunk := handle.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
        return sha.hexdigest(), size


def _load_key(pem: bytes, where: str) -> PublicKey:
    der = _pem_der(pem, "PUBLIC KEY")
    if der is None:
        raise BundleError(f"{where} is not a PEM public key")
    if len(der) != len(_ED25519_SPKI) + 32 or not der.startswith(_ED25519_SPKI):
        raise BundleError(f"{where} is not an Ed25519 public key")
    return PublicKey(der[len(_ED25519_SPKI) :])


def _checkpoint(value: Any, where: str) -> tuple[int, bytes] | None:
    if value is None:
        return None
    try:
        size = value["size"]
        head = bytes.fromhex(value["head"])
    except (TypeError, KeyError, ValueError):
        raise BundleError(f"{where}: the checkpoint is not {{size, head}}") from None
    if type(size) is not int or size < 0 or len(head) != 32:
        raise BundleError(f"{where}: the checkpoint is not {{size, head}}")
    return size, head


def check_signature(result: Result, bundle: Bundle, pinned: bytes | None) -> bool:
    """Check 1 and 2: the manifest's signature, and the key and certificate it names."""
    if MANIFEST not in bundle.names or SIGNATURE not in bundle.names:
        missing = MANIFEST if MANIFEST not in bundle.names else SIGNATURE
        return result.add("manifest signature", False, f"{missing} is missing")
    manifest_bytes = bundle.read(MANIFEST)
    signature = bundle.read(SIGNATURE)
    bundled = _load_key(bundle.read(PUBLIC_KEY), PUBLIC_KEY) if PUBLIC_KEY in bundle.names else None
    key = _load_key(pinned, "--pubkey") if pinned is not None else bundled
    if key is None:
        return result.add("manifest signature", False, f"no --pubkey and no {PUBLIC_KEY}")
    which = "the pinned key" if pinned is not None else f"the bundled key ({PUBLIC_KEY})"
    result.pinned = pinned is not None
    result.key_fingerprint = fingerprint(key)
    if not key.verify(signature, manifest_bytes):
        rotated = (
            _rotation(bundle, key, bundled)
            if bundled is not None and bundled.verify(signature, manifest_bytes)
            else None
        )
        lost = (
            _replaced_lost(bundle, key, bundled)
            if rotated is None and bundled is not None and bundled.verify(signature, manifest_bytes)
            else None
        )
        if lost is not None:
            # Not endorsed: the pinned key was declared lost.  Intact, but not verified against
            # the pin (exit 3), and said so, so a vendor confirms the new key by another channel.
            assert bundled is not None
            result.add("key replaced after loss", True, lost)
            result.key_lost = lost
            result.pinned = False
            result.key_fingerprint = fingerprint(bundled)
            key, which = bundled, "the key that replaced your pinned key (NOT endorsed by it)"
        elif rotated is None:
            detail = f"manifest.sig is not a signature of manifest.json by {which}"
            if bundled is not None and fingerprint(bundled) != fingerprint(key):
                detail += "; the bundle carries a different key than the one you pinned"
                detail += ", and no statement signed by your key endorses it"
            return result.add("manifest signature", False, detail)
        else:
            assert bundled is not None
            result.add("key rotation", True, rotated)
            key, which = bundled, "the key your pinned key endorsed"
    if pinned is None and bundled is not None and (lost := _replaced_lost(bundle, None, bundled)):
        result.add("key replaced after loss", True, lost)  # said even when nothing is pinned
        result.key_lost = lost
    result.add("manifest signature", True, f"Ed25519, {which}, SHA-256 {fingerprint(key)}")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return result.add("manifest", False, "manifest.json is not JSON")
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        return result.add("manifest", False, f"manifest.json is not a {FORMAT} manifest")
    result.manifest = manifest
    signing = manifest.get("signing") or {}
    named = signing.get("ed25519_public_key_sha256")
    if named != fingerprint(key):
        result.add(
            "signing key", False, "the manifest names another key than the one it is signed with"
        )
    elif bundled is not None and fingerprint(bundled) != named:
        result.add("signing key", False, f"{PUBLIC_KEY} is not the key the manifest names")
    else:
        result.add("signing key", True, f"SHA-256 {named}")
    if CERTIFICATE in bundle.names:
        check_certificate(result, bundle.read(CERTIFICATE), signing)
    return True


def _rotation(bundle: Bundle, pinned: PublicKey, bundled: PublicKey) -> str | None:
    """How the pinned key endorsed the bundled one, if a disclosed ledger entry says so.

    When an organization rotates its signing identity, the retiring key signs a statement
    naming its successor; the statement rides in the identity's ledger entry, which every
    bundle discloses.  A vendor who pinned the old key follows one rotation offline.
    """
    if LEDGER not in bundle.names:
        return None
    old, new = fingerprint(pinned), fingerprint(bundled)
    for body in _identity_entries(bundle):
        try:
            endorsement = body["what"]["after"]["endorsement"]
            statement = endorsement["statement"].encode()
            said = json.loads(statement)
            signature = base64.b64decode(endorsement["signature"], validate=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if (
            said.get("statement") == "seatledger signing identity rotation"
            and said.get("previous_ed25519_fingerprint") == old
            and said.get("next_ed25519_fingerprint") == new
            and pinned.verify(signature, statement)
        ):
            return (
                f"your pinned key {old[:16]}… endorsed this key {new[:16]}… on "
                f"{said.get('at', '?')} (ledger entry {body.get('seq')})"
            )
    return None


def _identity_entries(bundle: Bundle) -> Iterator[Any]:
    """The disclosed ledger entries' bodies that may be about the signing identity (a line that
    is not an entry, or not JSON, is passed over: the ledger check reports it)."""
    with bundle.open(LEDGER) as handle:
        for line in handle:
            if b'"signing_identity.' not in line:
                continue
            match = _DISCLOSED.match(line)
            try:
                yield json.loads(match.group(4)) if match else {}
            except ValueError:
                continue


KEY_LOST_STATEMENT = "seatledger signing identity replaced after loss"


def _replaced_lost(bundle: Bundle, pinned: PublicKey | None, bundled: PublicKey) -> str | None:
    """How the bundled key replaced the pinned one after the organization declared it lost.

    Nobody can sign with a lost key, so there is no endorsement: instead one administrator
    requested the replacement with a reason (``signing_identity.key_lost_request``) and a
    second one approved it (``signing_identity.replace_lost``, which names the lost key, the
    request and both).  The entries are checked against the signed Merkle root like every
    disclosed entry, but that root is signed by the new key: they tell the vendor what the
    organization recorded, not that the pinned key agreed.
    """
    if LEDGER not in bundle.names:
        return None
    old, new = None if pinned is None else fingerprint(pinned), fingerprint(bundled)
    requests: dict[int, dict[str, Any]] = {}
    found: dict[str, Any] | None = None
    for body in _identity_entries(bundle):
        try:
            action = body["action"]
            after = body["what"]["after"] or {}
        except (KeyError, TypeError, AttributeError):
            continue
        if action == "signing_identity.key_lost_request":
            requests[body.get("seq", 0)] = body
        elif action == "signing_identity.replace_lost" and isinstance(after, dict):
            said = after.get("key_lost")
            if (
                isinstance(said, dict)
                and said.get("statement") == KEY_LOST_STATEMENT
                and (old is None or said.get("previous_ed25519_fingerprint") == old)
                and after.get("ed25519_fingerprint") == new
            ):
                found = body
    if found is None:
        return None
    said = found["what"]["after"]["key_lost"]
    lost = str(said.get("previous_ed25519_fingerprint", "?"))
    whose = "the pinned key" if pinned is not None else "its previous key"
    approver = found.get("operator", "?")
    requester = said.get("requested_by", "?")
    request = requests.get(said.get("request_seq"))
    if request is None:
        asked = f"(its entry {said.get('request_seq')} is not disclosed)"
    elif request.get("operator") != requester or requester == approver:
        return None  # the request is not the one named, or one administrator did both
    else:
        asked = f"(ledger entry {request.get('seq')}, reason: {request['what'].get('reason')!r})"
    return (
        f"{'your pinned' if pinned is not None else 'the previous'} key {lost[:16]}… did NOT "
        f"endorse this key {new[:16]}…: the organization declared {whose} lost; {requester} "
        "requested the replacement on "
        f"{str(said.get('requested_at', '?'))[:10]} {asked} and {approver} approved it on "
        f"{str(said.get('approved_at', '?'))[:10]} (ledger entry {found.get('seq')})"
    )


def check_certificate(result: Result, pem: bytes, signing: dict[str, Any]) -> None:
    """The certificate is the one the manifest names, and is the organization's the report is of.

    A report whose manifest names one organization and whose certificate another could pass a
    key for someone else's.
    """
    der = _pem_der(pem, "CERTIFICATE")
    if der is None:
        result.add("certificate", False, f"{CERTIFICATE} is not a PEM certificate")
        return
    cert_fp = hashlib.sha256(der).hexdigest()
    if cert_fp != signing.get("certificate_sha256"):
        result.add("certificate", False, f"{CERTIFICATE} is not the certificate the manifest names")
        return
    result.add("certificate", True, f"SHA-256 {cert_fp}")
    try:
        from cryptography import x509  # noqa: PLC0415 (only reading the subject needs it)
        from cryptography.x509.oid import NameOID  # noqa: PLC0415
    except ImportError:
        result.add("organization", True, "not compared with the certificate (needs 'cryptography')")
        return
    subject = x509.load_der_x509_certificate(der).subject
    names = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or (
        subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    certified = str(names[0].value) if names else subject.rfc4514_string()
    stated = str(result.manifest.get("organization", ""))
    if stated.strip() != certified.strip():
        result.add(
            "organization",
            False,
            f"the manifest says '{stated}' but the certificate is {certified!r}'s",
        )
    else:
        result.add("organization", True, certified)


def check_files(result: Result, bundle: Bundle) -> None:
    """Check 3 and 4: every listed file's hash and size; nothing missing, nothing extra."""
    listed: dict[str, Any] = {}
    for item in result.manifest.get("files", []):
        listed[str(item.get("path"))] = item
    present = set(bundle.names) - UNSIGNED
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    if missing:
        result.add("files present", False, "missing: " + ", ".join(missing))
    if extra:
        result.add("no extra files", False, "not in the manifest: " + ", ".join(extra))
    bad = []
    for name in sorted(set(listed) & present):
        sha, size = bundle.digest(name)
        if sha != listed[name].get("sha256") or size != listed[name].get("size"):
            bad.append(f"{name} (SHA-256 {sha}, {size} bytes)")
    if bad:
        result.add("file hashes", False, "changed: " + "; ".join(bad))
    elif not missing and not extra:
        result.add("file hashes", True, f"{len(listed)} files match the manifest")
    if SUMS in present and SUMS in listed:
        sums = {}
        for line in bundle.read(SUMS).decode("utf-8", "replace").splitlines():
            digest, _, name = line.partition("  ")
            sums[name] = digest
        agree = sums == {n: i.get("sha256") for n, i in listed.items() if n != SUMS}
        result.add(SUMS, agree, "" if agree else f"{SUMS} disagrees with the manifest")


def check_ledger(
    result: Result,
    bundle: Bundle,
    previous: list[tuple[str, tuple[int, bytes]]],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Check 5 and 6: the chain up to the checkpoint, and every previous checkpoint on it."""
    checkpoint = _checkpoint(result.manifest.get("checkpoint"), MANIFEST)
    if checkpoint is None:
        result.add("ledger", False, "the manifest has no checkpoint")
        return
    if LEDGER not in bundle.names:
        result.add("ledger", False, f"{LEDGER} is missing")
        return
    size, head = checkpoint
    wanted = {n: (label, h) for label, (n, h) in previous}
    seen: dict[int, bytes] = {}
    prev = GENESIS_HASH
    expected = 1
    failure = ""
    with bundle.open(LEDGER) as handle:
        for number, line in enumerate(handle, start=1):
            match = _LINE.match(line)
            if match is None:
                failure = f"line {number} is not a ledger entry"
                break
            seq = int(match.group(1))
            if seq != expected:
                later = _line_of(handle, expected) if seq > expected else None
                kind = "missing (the sequence skips)" if later is None else "out of order"
                failure = f"entry {expected} is {kind}: line {number} holds entry {seq}"
                break
            stated = bytes.fromhex(match.group(2).decode())
            computed = entry_hash(seq, prev, match.group(3))
            if computed != stated:  # every entry before it verified, so this one changed
                failure = f"entry {seq} was edited: its hash does not match its contents"
                break
            if seq in wanted:
                seen[seq] = computed
            prev = computed
            expected += 1
            if progress is not None and seq % 100_000 == 0:
                progress(seq)
    last = expected - 1
    if not failure and last < size:
        failure = f"the ledger is truncated: {last} entries, the checkpoint says {size}"
    elif not failure and last > size:
        failure = f"the ledger holds {last} entries, more than the checkpoint's {size}"
    elif not failure and prev != head:
        failure = "the last entry's hash is not the checkpoint's head"
    if failure:
        result.add("ledger chain", False, failure)
    else:
        result.add("ledger chain", True, f"{size} entries, head {head.hex()}")
    for label, (n, h) in previous:
        if n > last:
            result.add(
                f"extends {label}",
                False,
                f"{label} has {n} entries; this ledger has only {last}",
            )
        elif n == 0:
            result.add(f"extends {label}", True, "the previous checkpoint was empty")
        elif n not in seen:
            result.add(f"extends {label}", False, "the ledger breaks before reaching it")
        elif seen[n] != h:
            result.add(
                f"extends {label}",
                False,
                f"entry {n} has hash {seen[n].hex()}, {label} says {h.hex()}: "
                "the history that report saw was rewritten",
            )
        else:
            result.add(f"extends {label}", True, f"entry {n} has the head {h.hex()}")


def _hashes(value: Any, where: str) -> list[bytes]:
    if not isinstance(value, list):
        raise BundleError(f"{where} is not a list of hashes")
    try:
        out = [bytes.fromhex(item) for item in value]
    except (TypeError, ValueError):
        raise BundleError(f"{where} is not a list of hashes") from None
    if any(len(item) != 32 for item in out):
        raise BundleError(f"{where} is not a list of hashes")
    return out


def _root(value: Any, where: str) -> bytes | None:
    if not isinstance(value, dict) or value.get("root") is None:
        return None
    try:
        root = bytes.fromhex(value["root"])
    except (TypeError, ValueError):
        raise BundleError(f"{where}: the root is not a hash") from None
    if len(root) != 32:
        raise BundleError(f"{where}: the root is not a hash")
    return root


def check_disclosed(
    result: Result,
    bundle: Bundle,
    kept: list[tuple[str, tuple[int, bytes], bytes | None]],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Check 5 and 6 of a scoped bundle: each disclosed entry hashes to what it says, and all of
    them, with the checkpoint's head, give the signed Merkle root; the previous checkpoint is in
    the past of this tree (RFC 9162 consistency) and is the one the vendor kept."""
    manifest = result.manifest
    checkpoint = _checkpoint(manifest.get("checkpoint"), MANIFEST)
    root = _root(manifest.get("checkpoint"), MANIFEST)
    if checkpoint is None or root is None:
        result.add("ledger", False, "the manifest's checkpoint has no Merkle root")
        return
    for name in (LEDGER, PROOF):
        if name not in bundle.names:
            result.add("ledger", False, f"{name} is missing")
            return
    size, head = checkpoint
    leaves: list[tuple[int, bytes]] = []
    failure = ""
    disclosed = withheld = 0
    last = 0
    with bundle.open(LEDGER) as handle:
        for number, line in enumerate(handle, start=1):
            match = _DISCLOSED.match(line)
            if match is not None:
                seq = int(match.group(1))
                stated = bytes.fromhex(match.group(2).decode())
                prev = bytes.fromhex(match.group(3).decode())
                body = match.group(4)
                if entry_hash(seq, prev, body) != stated:
                    failure = f"entry {seq} (line {number}) was edited: its hash does not match"
                    break
                try:
                    named = json.loads(body).get("seq")
                except (ValueError, AttributeError):
                    named = None
                if named != seq:
                    failure = f"entry {seq} (line {number}): its body names another position"
                    break
            else:
                try:
                    value = json.loads(line)
                    seq, stated = int(value["seq"]), bytes.fromhex(value["hash"])
                    whole = bool(value["withheld"]) and len(stated) == 32
                except (ValueError, KeyError, TypeError, AttributeError):
                    whole = False
                if not whole:
                    failure = f"line {number} is not a disclosed ledger entry"
                    break
                withheld += 1
            if not last < seq <= size:
                failure = f"line {number}: entry {seq} is out of order or beyond the checkpoint"
                break
            if seq == size and stated != head:
                failure = f"entry {seq} is the checkpoint's last entry but not its head"
                break
            leaves.append((seq - 1, leaf_hash(stated)))
            disclosed += 1
            last = seq
            if progress is not None and disclosed % 100_000 == 0:
                progress(disclosed)
    if failure:
        result.add("disclosed entries", False, failure)
        return
    if last != size:
        leaves.append((size - 1, leaf_hash(head)))
    proof = bundle.read(PROOF)
    nodes = [proof[i : i + 32] for i in range(0, len(proof), 32)]
    if len(proof) % 32 or multiproof_root(size, leaves, nodes) != root:
        result.add(
            "disclosed entries",
            False,
            f"{LEDGER} and {PROOF} do not give the signed Merkle root: an entry was changed, "
            "added, dropped or moved",
        )
        return
    result.add(
        "disclosed entries",
        True,
        f"{disclosed} of {size} entries ({withheld} by their hash only), each at its place "
        f"under the signed Merkle root {root.hex()}",
    )
    _check_continuity(result, manifest, size, root, kept)


def _check_continuity(
    result: Result,
    manifest: dict[str, Any],
    size: int,
    root: bytes,
    kept: list[tuple[str, tuple[int, bytes], bytes | None]],
) -> None:
    given = manifest.get("previous_checkpoint")
    stated: dict[str, Any] = given if isinstance(given, dict) else {}
    point = _checkpoint(given, MANIFEST)
    label = "extends the previous checkpoint"
    if point is not None:
        old, old_head = point
        if old == 0:
            result.add(label, True, "the previous checkpoint was empty")
        else:
            old_root = _root(stated, MANIFEST)
            path = _hashes(stated.get("head_path"), "previous_checkpoint.head_path")
            consistency = _hashes(stated.get("consistency"), "previous_checkpoint.consistency")
            if old_root is None:
                result.add(label, False, "the previous checkpoint has no root")
            elif not verify_inclusion(old - 1, old, leaf_hash(old_head), path, old_root):
                result.add(label, False, f"the head of entry {old} is not in the previous tree")
            elif not verify_consistency(old, size, old_root, root, consistency):
                result.add(
                    label,
                    False,
                    f"the tree of {old} entries is not the start of this one: the history the "
                    "previous report saw was rewritten",
                )
            else:
                result.add(label, True, f"the first {old} entries are those it signed (RFC 9162)")
    for name, (n, h), r in kept:
        if point is None:
            result.add(
                f"extends {name}",
                False,
                "this bundle names no previous checkpoint, so continuity cannot be proved",
            )
        elif (n, h) != point or (r is not None and r != _root(stated, MANIFEST)):
            result.add(
                f"extends {name}",
                False,
                f"this bundle proves continuity from the checkpoint of {point[0]} entries, "
                f"not from {name} ({n} entries): continuity with it cannot be proved",
            )
        else:
            result.add(f"extends {name}", True, f"it is the checkpoint this bundle proves ({n})")


COMMIT_TAG = b"seatledger/commit/v1\x00"


def check_opening(result: Result, bundle: Bundle, opening: bytes) -> None:
    """An opening the organization handed over reveals the value of a commitment that a
    disclosed entry holds: SHA-256("seatledger/commit/v1" 0x00 || salt || canonical JSON of the
    value) must equal it.  Nothing else of the entry, or of anyone else, is revealed."""
    name = "opening"
    try:
        document = json.loads(opening)
        digest = str(document["commitment"])
        salt = bytes.fromhex(document["salt"])
        value = document["value"]
    except (ValueError, KeyError, TypeError):
        result.add(name, False, "the opening is not a seatledger-opening/1 document")
        return
    canonical = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
    if hashlib.sha256(COMMIT_TAG + salt + canonical).hexdigest() != digest:
        result.add(name, False, f"the value and salt do not open commitment {digest[:16]}…")
        return
    needle = b'{"commit":"%s"}' % digest.encode()
    with bundle.open(LEDGER) as handle:
        held = [
            int(match.group(1))
            for line in handle
            if needle in line and (match := _DISCLOSED.match(line)) is not None
        ]
    if not held:
        result.add(name, False, f"no disclosed entry holds commitment {digest[:16]}…")
        return
    entries = ", ".join(str(seq) for seq in held[:5]) + ("…" if len(held) > 5 else "")
    result.add(
        name, True, f"{document.get('field', 'the field')} is {value!r} in entries {entries}"
    )


def _line_of(handle: IO[bytes], seq: int) -> int | None:
    """Whether entry ``seq`` comes later in the file (then the ledger is reordered, not short)."""
    prefix = b'{"seq":%d,' % seq
    for line in handle:
        if line.startswith(prefix):
            return seq
    return None


def verify(
    path: Path,
    *,
    pubkey: bytes | None = None,
    previous_manifest: bytes | None = None,
    previous_signature: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    opening: bytes | None = None,
) -> Result:
    """Run every check on the bundle at ``path`` (a folder or a zip).

    Args:
        path: the bundle.
        pubkey: the Ed25519 public key (PEM) pinned by the vendor; None trusts the bundled one.
        previous_manifest: the manifest.json of the previous report, as kept by the vendor.
        previous_signature: that manifest's manifest.sig, checked with the same key when given.
        progress: called with the number of ledger entries checked so far.
        opening: an opening of one commitment (``seatledger ledger reveal``) to check.

    Raises:
        BundleError: the bundle cannot be read at all.
    """
    result = Result()
    bundle = Bundle(path)
    try:
        if not check_signature(result, bundle, pubkey) or not result.manifest:
            return result
        check_files(result, bundle)
        previous: list[tuple[str, tuple[int, bytes]]] = []
        kept_root: bytes | None = None
        if previous_manifest is not None:
            # Continuity is proved or it fails: a previous manifest without its signature, or
            # without a checkpoint, proves nothing about what the last report saw.
            if previous_signature is None:
                result.add(
                    "previous manifest signature",
                    False,
                    f"{SIGNATURE} is not beside the previous manifest: without it the previous "
                    "checkpoint cannot be trusted, so continuity is not proved",
                )
            else:
                key_pem = pubkey if pubkey is not None else bundle.read(PUBLIC_KEY)
                signed = _load_key(key_pem, "the key").verify(previous_signature, previous_manifest)
                result.add(
                    "previous manifest signature",
                    signed,
                    "" if signed else "the previous manifest is not signed by this key",
                )
            try:
                old = json.loads(previous_manifest)
            except ValueError:
                raise BundleError("the previous manifest is not JSON") from None
            point = _checkpoint(old.get("checkpoint"), "the previous manifest")
            if point is None:
                result.add(
                    "extends the previous report's checkpoint",
                    False,
                    "the previous manifest has no checkpoint",
                )
            else:
                previous.append(("the previous report's checkpoint", point))
                kept_root = _root(old.get("checkpoint"), "the previous manifest")
        if result.manifest.get("format") == FORMAT:
            kept = [(label, point, kept_root) for label, point in previous]
            check_disclosed(result, bundle, kept, progress)
            if opening is not None:
                check_opening(result, bundle, opening)
            return result
        stated = _checkpoint(result.manifest.get("previous_checkpoint"), MANIFEST)
        if stated is not None:
            previous.append(("the checkpoint this manifest names as previous", stated))
        check_ledger(result, bundle, previous, progress)
    finally:
        bundle.close()
    return result


def verdict_lines(result: Result) -> list[str]:
    """The verdict as lines of text: one per check, then the conclusion."""
    lines = [
        f"{'ok  ' if c.ok else 'FAIL'}  {c.name}{': ' + c.detail if c.detail else ''}"
        for c in result.checks
    ]
    if result.ok and result.pinned:
        lines.append("VERIFIED: the bundle is intact and signed with the key you pinned.")
    elif result.ok and result.key_lost:
        lines.append(
            "INTACT, KEY REPLACED AFTER LOSS: the bundle is intact and signed with a new key "
            f"(SHA-256 {result.key_fingerprint}) that your pinned key never endorsed; the "
            "organization recorded the pinned key as lost and two administrators approved its "
            "replacement. Confirm the new fingerprint with the organization by another channel "
            "before you pin it (--pubkey); --previous with your last report shows whether this "
            "ledger extends the one your pinned key signed."
        )
    elif result.ok:
        lines.append(
            "INTACT, KEY NOT PINNED: the bundle is intact and self-consistent, but it is signed "
            f"with the key it carries (SHA-256 {result.key_fingerprint}). Compare that "
            "fingerprint with the one the organization gave you, or run again with --pubkey."
        )
    else:
        names = ", ".join(c.name for c in result.failures()) or "nothing could be checked"
        lines.append(f"NOT VERIFIED: {names}.")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Verify a SeatLedger audit report bundle.")
    parser.add_argument("bundle", type=Path, help="the bundle folder or .zip")
    parser.add_argument("--pubkey", type=Path, help="the Ed25519 public key (PEM) you pinned")
    parser.add_argument("--previous", type=Path, help="the manifest.json of the previous report")
    parser.add_argument(
        "--opening", type=Path, help="an opening of one commitment the organization gave you"
    )
    args = parser.parse_args(argv)
    try:
        pinned = args.pubkey.read_bytes() if args.pubkey else None
        old = old_sig = None
        if args.previous:
            old = args.previous.read_bytes()
            sig_path = args.previous.with_name(SIGNATURE)
            old_sig = sig_path.read_bytes() if sig_path.is_file() else None
        result = verify(
            args.bundle,
            pubkey=pinned,
            previous_manifest=old,
            previous_signature=old_sig,
            opening=args.opening.read_bytes() if args.opening else None,
        )
    except (BundleError, OSError, zipfile.BadZipFile) as exc:
        sys.stderr.write(f"cannot verify: {exc}\n")
        return 2
    sys.stdout.write("\n".join(verdict_lines(result)) + "\n")
    return exit_status(result)


EXIT_NOT_PINNED = 3


def exit_status(result: Result) -> int:
    """0 verified against a pinned key, 3 intact but unpinned, 1 something does not verify."""
    if not result.ok:
        return 1
    return 0 if result.pinned else EXIT_NOT_PINNED


if __name__ == "__main__":
    sys.exit(main())
