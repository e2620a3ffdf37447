"""Outputs an administrator may hold that SeatLedger does not import as the kind offered, named.

A license server's other reports, another vendor's tool, or a debug log offered as something other
than usage, read as a table give a generic "no column feeds this field"; naming the format (and
what to export instead) lets the user act.  Each is told from a line that only that tool writes.
"""

from __future__ import annotations

import re

from seatledger.ingest.dsls import looks_like_dsls
from seatledger.ingest.flexlm_log import looks_like_debug_log
from seatledger.ingest.lmx import looks_like_licstat
from seatledger.ingest.rlm import looks_like_rlmstat
from seatledger.ingest.sentinel import looks_like_lsmon

_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"lmstat -i does not give information|^Feature\s+Version\s+#\s?licenses", re.M),
        "FlexNet 'lmutil lmstat -i' output: the features a license file grants, not who uses "
        "them. Import it as license file grants ('seatledger import grants FILE --server "
        "PORT@HOST'), which are compared with the purchases; import the output of 'lmutil "
        "lmstat -a' for usage",
    ),
    (
        # lmutil's banner with no status line after it: 'lmutil lmstat -v' (the version only,
        # "lmstat v11.13.1.2 build 173302 x64_lsb"), lmhostid, lmdiag...  An 'lmstat -a' whose
        # server could not be reached still has its status line, and is refused by that line.
        re.compile(
            r"\A(?![\s\S]*Flexible License Manager status on)\s*(?:lmutil|lmstat) - Copyright"
        ),
        "FlexNet 'lmutil' output with no status of the license server (no 'Flexible License "
        "Manager status on' line: 'lmutil lmstat -v' prints only the version). Import the output "
        "of 'lmutil lmstat -a', which lists who uses which feature",
    ),
    (
        # Any other rlmutil output (rlmhostid, 'rlmutil -v', 'rlmstat -avail'): no pool or usage
        # status of an ISV server, and no statistics to date them.
        re.compile(r"Reprise Software|^\s*rlm(?:util|stat) v\d", re.M),
        "Reprise RLM output with no license pool or usage status ('rlmutil rlmhostid', "
        "'rlmutil -v' or 'rlmstat -avail' print none). Import the output of 'rlmutil rlmstat "
        "-a', which lists who uses which license",
    ),
    (
        # Microsoft 365's other usage reports (Teams user activity, email activity, OneDrive and
        # SharePoint activity, Office activations) share the first two columns of the active
        # user detail report, but name no workload's last activity date.
        re.compile(
            r'\A\ufeff?"?Report Refresh Date"?[,;]"?User Principal Name"?[,;]'
            r"(?![^\n]*(?:Exchange|OneDrive|SharePoint|Skype For Business|Yammer|Teams) "
            r"Last Activity Date)",
            re.I,
        ),
        "a Microsoft 365 usage report other than the active user detail report (no column gives "
        "a workload's last activity date: Teams user activity, email activity, OneDrive or "
        "SharePoint activity, or Office activations). Import the Microsoft 365 active user "
        "detail report as usage (admin center: Reports > Usage > Microsoft 365 apps > Active "
        "users > Export, or Get-MgReportOffice365ActiveUserDetail), which gives each user's last "
        "activity per workload",
    ),
    (
        # Snipe-IT's list of one license's seats (who holds each): no name, seat count or cost.
        re.compile(r'\A\ufeff?"?Seat"?[,;]"?User"?[,;]'),
        "a Snipe-IT seat list of one license (who holds each seat), not the license itself: "
        "import the licenses (Licenses > Export in Snipe-IT, or its license import template)",
    ),
)


def unsupported_format(head: str) -> str | None:
    """What a file is when its first lines are a known output SeatLedger cannot import, else None.

    ``head``: the file's first few kilobytes as text.  A FlexNet debug log and rlmstat output
    are named too: they are usage, and offered as anything else would be read as a table of
    nothing.
    """
    if looks_like_rlmstat(head):
        return (
            "Reprise RLM 'rlmutil rlmstat -a' output, which holds license usage: import it as "
            "usage ('seatledger import usage FILE'), which reads its checkouts"
        )
    if looks_like_debug_log(head):
        return (
            "a FlexNet (lmgrd or vendor daemon) debug log, which holds license usage: import it "
            "as usage ('seatledger import usage FILE'), which reads its checkouts, checkins and "
            "denials"
        )
    if looks_like_licstat(head):
        return (
            "X-Formation LM-X 'lmxendutil -licstat' output, which holds license usage: import "
            "it as usage ('seatledger import usage FILE'), which reads its checkouts"
        )
    if looks_like_lsmon(head):
        return (
            "Sentinel RMS 'lsmon' output, which holds license usage: import it as usage "
            "('seatledger import usage FILE'), which reads its clients"
        )
    if looks_like_dsls(head):
        return (
            "Dassault Systèmes DSLS license usage ('DSLicSrv -admin', 'getLicenseUsage'), which "
            "holds license usage: import it as usage ('seatledger import usage FILE'), which "
            "reads its sessions"
        )
    for pattern, description in _FORMATS:
        if pattern.search(head):
            return description
    return None
