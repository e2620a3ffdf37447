"""``seatledger verify``: everything the standalone verifier checks, plus the PDF's signature.

The standalone checks come from :mod:`.verify_bundle` itself (the file every bundle ships), so the
two verdicts never disagree; pyHanko then validates report.pdf's PAdES signature, trusting only the
bundle's certificate, and checks that the certificate is the one the signed manifest names.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm

from seatledger.services.audits.bundle import verify_bundle as vb


def verify(
    path: Path,
    *,
    pubkey: bytes | None = None,
    previous_manifest: bytes | None = None,
    previous_signature: bytes | None = None,
    opening: bytes | None = None,
) -> vb.Result:
    """Verify the bundle at ``path`` (folder or zip); see :func:`verify_bundle.verify`.

    Raises:
        BundleError: the bundle cannot be read at all.
    """
    result = vb.verify(
        path,
        pubkey=pubkey,
        previous_manifest=previous_manifest,
        previous_signature=previous_signature,
        opening=opening,
    )
    if not result.manifest:
        return result
    bundle = vb.Bundle(path)
    try:
        if vb.REPORT_PDF in bundle.names and vb.CERTIFICATE in bundle.names:
            check_pdf(result, bundle.read(vb.REPORT_PDF), bundle.read(vb.CERTIFICATE))
        else:
            result.add("PDF signature", False, "report.pdf or signing-cert.pem is missing")
    finally:
        bundle.close()
    return result


def check_pdf(result: vb.Result, pdf: bytes, certificate_pem: bytes) -> None:
    """Validate the PDF's signature with pyHanko, trusting the given certificate alone."""
    from pyhanko.keys import load_certs_from_pemder_data  # noqa: PLC0415 (heavy; only here)
    from pyhanko.pdf_utils.misc import PdfReadError  # noqa: PLC0415
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    name = "PDF signature"
    try:
        certs = list(load_certs_from_pemder_data(certificate_pem))
    except (ValueError, UnsupportedAlgorithm):
        result.add(name, False, "signing-cert.pem cannot be read")
        return
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures: list[Any] = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError) as exc:
        result.add(name, False, f"report.pdf cannot be read as a PDF ({exc})")
        return
    if len(signatures) != 1:
        result.add(name, False, f"report.pdf has {len(signatures)} signatures, not one")
        return
    signature = signatures[0]
    context = ValidationContext(trust_roots=certs, allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # untrusted bytes: any failure to validate is a failed check
        # (pyHanko raises SignatureValidationError, cryptography UnsupportedAlgorithm, ...)
        result.add(name, False, f"report.pdf's signature cannot be validated ({exc})")
        return
    signer = status.signing_cert
    problems = []
    if not status.intact:
        problems.append("the signed bytes were changed")
    if not status.valid:
        problems.append("the signature does not match the signed bytes")
    if not status.trusted:
        problems.append("it is not signed by the bundle's certificate")
    if signer is None or signer.sha256 != certs[0].sha256:
        problems.append("the signer's certificate is not signing-cert.pem")
    coverage = getattr(status.coverage, "name", str(status.coverage))
    if coverage != "ENTIRE_FILE":
        problems.append(f"the signature does not cover the whole file ({coverage})")
    if problems:
        result.add(name, False, "; ".join(problems))
    else:
        subject = signer.subject.human_friendly if signer is not None else ""
        result.add(name, True, f"PAdES, intact, whole file, signed by {subject}")
