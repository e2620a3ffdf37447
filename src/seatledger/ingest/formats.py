"""What each kind of import needs, and the export layouts SeatLedger recognizes by their headers.

A known format (an Intune device export, a Lansweeper software report, PowerShell's
``Get-ADUser | Export-Csv``...) is told from a few headers only it has; its columns then map to our
fields without help.  Any other layout maps by header synonyms ("Employee ID", "Full Name",
"Email Address"...), and what is still missing goes through the mapping step, whose mapping can
be saved by name.  The sources of the real headers are in ``docs/import-formats.md``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a file brings in."""

    PEOPLE = "people"
    DEVICES = "devices"
    INVENTORY = "inventory"
    ENTITLEMENTS = "entitlements"
    USAGE = "usage"
    SNIPEIT = "snipeit"
    GRANTS = "grants"

    @property
    def label(self) -> str:
        """The kind as shown to people."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    Kind.PEOPLE: "People (HR or directory export)",
    Kind.DEVICES: "Devices (hardware inventory)",
    Kind.INVENTORY: "Installed software (inventory)",
    Kind.ENTITLEMENTS: "Entitlements (purchase records)",
    Kind.USAGE: "Usage (license server, Microsoft 365 activity)",
    Kind.SNIPEIT: "Snipe-IT licenses",
    Kind.GRANTS: "License file grants (FlexNet lmstat -i)",
}


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normal(header: str) -> str:
    """A header compared loosely: lower case, letters and digits only, '#' read as "number"
    (BambooHR's "Employee #", a purchase's "PO #")."""
    return _NON_ALNUM.sub("", header.lower().replace("#", "number"))


@dataclass(frozen=True, slots=True)
class Field:
    """One thing a row can tell, with the header names that mean it."""

    key: str
    label: str
    required: bool = False
    synonyms: tuple[str, ...] = ()


def _f(key: str, label: str, *synonyms: str, required: bool = False) -> Field:
    return Field(key, label, required, tuple(normal(s) for s in (label, *synonyms)))


def _host_name(*synonyms: str) -> Field:
    """A device's name, as devices and installed software give it: the names both use first."""
    return _f(
        "hostname",
        "Host name",
        "device name",
        "devicename",
        "computer name",
        "computer",
        *synonyms,
        required=True,
    )


FIELDS: Mapping[Kind, tuple[Field, ...]] = {
    Kind.PEOPLE: (
        _f(
            "employee_id",
            "Employee ID",
            "employee number",
            "employee no",
            "employeeid",
            "employeenumber",
            "emp id",
            "personnel number",
            "worker id",
            "staff id",
            "person number",
            "person id external",
            "user id",
            "samaccountname",
            "username",
            "user name",
            "login",
            required=True,
        ),
        _f(
            "name",
            "Full name",
            "name",
            "display name",
            "displayname",
            "employee name",
            "preferred name",
            "legal name",
            "worker",
            "descriptor",
            required=True,  # or a first and a last name: see detect()
        ),
        _f("first_name", "First name", "given name", "givenname", "firstname", "forename"),
        _f("last_name", "Last name", "surname", "family name", "lastname", "sn"),
        _f(
            "email",
            "Email address",
            "email",
            "e-mail",
            "mail",
            "work email",
            "work e-mail",
            "business email",
            "email - work",
            "email address work",
            "primary work email",
            "userprincipalname",
            "upn",
        ),
        _f(
            "team",
            "Department",
            "team",
            "department name",
            "cost centre",
            "cost center",
            "division",
            "organization",
            "organisation",
            "business unit",
            "org unit",
            "supervisory organization",
        ),
        _f(
            "status",
            "Employment status",
            "status",
            "employee status",
            "worker status",
            "active",
            "enabled",
            "account status",
            "employment state",
            "active status",
            "employmenthistorystatus",
        ),
        _f(
            "date_joined",
            "Hire date",
            "hire date",
            "date hired",
            "hired",
            "start date",
            "date joined",
            "joining date",
            "join date",
            "joined",
            "employment start date",
            "original hire date",
            "first day",
            "date of joining",
            "entry date",
            "date of hire",
        ),
        _f(
            "team_since",
            "Effective date",
            "effective date",
            "effective from",
            "team since",
            "department since",
            "transfer date",
            "date of transfer",
            "team start date",
            "department start date",
            "job effective date",
        ),
        _f(
            "date_left",
            "Termination date",
            "last day",
            "last working day",
            "end date",
            "leave date",
            "leaving date",
            "date left",
            "exit date",
            "termination",
            "terminated",
            "separation date",
            "end of employment",
            "contract end date",
            "employment end date",
            "actual termination date",
            "date of termination",
            "accountexpirationdate",
        ),
        # The manager's employee number or e-mail address (a name alone is ambiguous).
        _f(
            "manager",
            "Manager",
            "manager",
            "manager id",
            "manager employee id",
            "manager employee number",
            "manager email",
            "manager e-mail",
            "managerid",
            "manageremail",
            "line manager",
            "reports to",
            "supervisor",
            "supervisor id",
            "supervisor email",
            "vorgesetzter",
            "responsable",
        ),
        # After "team": a file whose only such column is a cost centre keeps it as the team.
        _f(
            "cost_centre",
            "Cost centre",
            "cost centre",
            "cost center",
            "costcenter",
            "costcentre",
            "cost centre code",
            "cost center code",
            "kostenstelle",
            "centre de coût",
            "centre de coûts",
        ),
    ),
    Kind.DEVICES: (
        _host_name(
            "name",
            "netbios name",
            "netbios_name0",
            "assetname",
            "asset name",
            "machine name",
            "hostname",
            "computername",
            "name0",
            "managed device name",
        ),
        _f(
            "serial",
            "Serial number",
            "serial",
            "serialnumber",
            "serial no",
            "serialnumber0",
            "service tag",
            "imei serial",
            "asset serial",
        ),
        _f(
            "os",
            "Operating system",
            "os",
            "operating system version",
            "osname",
            "os name",
            "os version",
            "operatingsystem",
            "operating_system_name_and0",
            "os code",
            "caption0",
            "ios version",
            "ipados version",
        ),
        _f(
            "processors",
            "Processors",
            "number of processors",
            "numberofprocessors",
            "cpus",
            "sockets",
            "processor count",
            "physical processors",
            "cpu count",
            "nrprocessors",
            "numberofprocessors0",
        ),
        _f(
            "cores",
            "Cores",
            "number of cores",
            "total number of cores",
            "numberofcores",
            "core count",
            "cores total",
            "cpu cores",
            "numberofcores0",
            "processor cores",
            "physical cores",
        ),
        _f(
            "processor_model",
            "Processor model",
            "processor type",  # Jamf Pro
            "processor",  # Lansweeper
            "processor name",
            "cpu model",
            "cpu type",
            "cpu name",
        ),
        _f(
            "owner",
            "Primary user",
            "primary user upn",
            "primary user email address",
            "primary user",
            "primary user(s)",
            "user principal name",
            "user_principal_name0",
            "email address",
            "email",
            "username",
            "user",
            "owner",
            "assigned to",
            "last logged on user",
            "user_name0",
            "assigned user",
        ),
        _f(
            "last_seen",
            "Last seen",
            "last check-in",
            "last check in",
            "lastseen",
            "last inventory update",
            "last activity",
            "last hardware scan",
            "last contact",
            "lastcheckin",
            "last sync date time",
            "last sync",
            "lasthwscan",
        ),
    ),
    Kind.INVENTORY: (
        _host_name(
            "netbios_name0",
            "assetname",
            "asset name",
            "machine name",
            "pscomputername",
            "__server",
            "hostname",
            "computername",
            "name0",
            "machine",
        ),
        _f(
            "publisher",
            "Publisher",
            "applicationpublisher",
            "application publisher",
            "vendor",
            "softwarepublisher",
            "software publisher",
            "publisher0",
            "manufacturer",
            "company",
        ),
        _f(
            "title",
            "Title",
            "application name",
            "applicationname",
            "displayname",
            "display name",
            "software",
            "softwarename",
            "software name",
            "product name",
            "productname0",
            "displayname0",
            "application title",
            "application",
            "program",
            "name",
            "app name",
            "product",
            required=True,
        ),
        _f(
            "version",
            "Version",
            "application version",
            "applicationversion",
            "displayversion",
            "display version",
            "softwareversion",
            "software version",
            "version0",
            "productversion0",
            "applicationshortversion",
            "app version",
        ),
        _f(
            "install_date",
            "Install date",
            "installdate",
            "installdate0",
            "installed on",
            "install date",
            "date installed",
            "installed",
            "installdate2",
        ),
    ),
    Kind.ENTITLEMENTS: (
        _f(
            "vendor",
            "Vendor",
            "publisher",
            "manufacturer",
            "software vendor",
            "vendor name",
            required=True,
        ),
        _f(
            "product",
            "Product",
            "product name",
            "software",
            "title",
            "software title",
            "license name",
            "item",
            "description",
            "name",
            required=True,
        ),
        _f(
            "metric",
            "Metric",
            "license metric",
            "license type",
            "licence type",
            "licensing model",
            "license model",
            "unit of measure",
            "uom",
            required=True,
        ),
        _f(
            "quantity",
            "Quantity",
            "qty",
            "seats",
            "licenses",
            "licences",
            "units",
            "license count",
            "number of licenses",
            "count",
            required=True,
        ),
        _f(
            "term_start",
            "Start date",
            "term start",
            "purchase date",
            "valid from",
            "effective date",
            "subscription start",
            "start",
            "contract start",
            "order date",
        ),
        _f(
            "term_end",
            "End date",
            "term end",
            "expiration date",
            "expiry date",
            "expires",
            "valid to",
            "valid until",
            "subscription end",
            "end",
            "renewal date",
            "contract end",
            "termination date",
        ),
        _f(
            "unit_cost",
            "Unit cost",
            "unit price",
            "price per unit",
            "cost per seat",
            "price",
            "cost per license",
            "unit cost (net)",
        ),
        _f("currency", "Currency", "ccy", "currency code"),
        _f(
            "po_reference",
            "PO reference",
            "po number",
            "po",
            "purchase order",
            "order number",
            "order no",
            "contract",
            "contract number",
            "agreement number",
            "invoice",
            "invoice number",
            "reference",
            "purchase order number",
            required=True,
        ),
        _f(
            "reseller",
            "Reseller",
            "supplier",
            "partner",
            "distributor",
            "seller",
            "vendor of record",
            "sold by",
        ),
        _f(
            "min_cores",
            "Minimum cores per processor",
            "min cores per processor",
            "minimum cores",
            "min cores",
        ),
        _f("core_factor", "Core factor", "core factor"),
        _f(
            "notice_days",
            "Notice periods",
            "notice days",
            "reminder days",
            "remind days before",
        ),
        _f(
            "cancel_by",
            "Cancel by",
            "cancel-by date",
            "cancel by date",
            "cancellation deadline",
            "cancellation notice date",
        ),
        _f(
            "unit_table",
            "Units per core by processor",
            "rates by processor",
            "core factor table",
            "pvu table",
            "unit table",
        ),
    ),
    Kind.USAGE: (
        _f("user", "User", "user name", "username", "login", "user id", "account", required=True),
        _f(
            "feature",
            "Product",
            "feature",
            "feature name",
            "license feature",
            "software",
            "application",
            "license",
            required=True,
        ),
        _f(
            "host",
            "Host",
            "hostname",
            "host name",
            "computer",
            "device",
            "workstation",
            "machine",
            "display",
        ),
        _f(
            "checkout",
            "Checkout",
            "checkout time",
            "checked out",
            "check out",
            "start",
            "start time",
            "session start",
            "out",
            required=True,
        ),
        _f(
            "checkin",
            "Checkin",
            "checkin time",
            "checked in",
            "check in",
            "end",
            "end time",
            "session end",
            "in",
        ),
    ),
    Kind.SNIPEIT: (
        # Snipe-IT's import templates name the license "Item name" (or "License Name") and
        # the person a seat is checked out to "Name" or "Full Name": the license's own names
        # come first.  Its export (v6.3+) has no "Item name": there "Name" is the license.
        _f(
            "name",
            "License",
            "item name",
            "license name",
            "software name",
            "name",
            required=True,
        ),
        # Snipe-IT does not require a manufacturer: a license without one is still read.
        _f("vendor", "Manufacturer", "manufacturer", "vendor"),
        _f("seats", "Seats", "total seats", "seats total", required=True),
        _f("purchase_date", "Purchase date"),
        _f("expiration_date", "Expiration date", "expires", "termination date"),
        _f("purchase_cost", "Purchase cost", "cost"),
        _f("currency", "Currency", "ccy", "currency code"),
        # The purchase order is the PO reference; the order number (the supplier's) stands in.
        _f("purchase_order", "Purchase order", "purchase order number", "po number"),
        _f("order_number", "Order number"),
        _f("supplier", "Supplier"),
        _f("serial", "Product key", "serial", "license key", "serial number"),
    ),
    # Read from 'lmutil lmstat -i' output only (ingest.flexlm_grants), never from a table: the
    # import service opens no table for grants, and no export has a column of this name.
    Kind.GRANTS: (_f("feature_lines", "Feature lines of 'lmutil lmstat -i'", required=True),),
}


@dataclass(frozen=True, slots=True)
class Format:
    """An export layout recognized by headers only it has."""

    name: str
    kind: Kind
    signature: frozenset[str]  # normalized headers that must all be present
    columns: Mapping[str, str]  # field key -> header, where synonyms would not find it
    fallbacks: Mapping[str, str]  # field key -> header read where the field's own cell is empty
    directory: bool = False  # a directory of accounts: its status is an account's, not a job's
    # Fields whose empty cell repeats the row above: Jamf writes a computer's own fields on
    # its first row only, and one more row under it for each application or group.
    carried: frozenset[str] = frozenset()
    # Fallbacks the import's notes mention each time they stand in (not a directory's usual
    # SamAccountName, but a Snipe-IT user file's username for an empty employee number).
    announced: frozenset[str] = frozenset()
    # A registry listing of Uninstall keys: a key without a DisplayName is no program (Windows
    # lists none for it: AddressBook, IE40, WIC... on every machine), not a row with a problem.
    uninstall_keys: bool = False


def _fmt(
    name: str,
    kind: Kind,
    signature: Sequence[str],
    /,
    *,
    fallbacks: Mapping[str, str] | None = None,
    directory: bool = False,
    carried: Sequence[str] = (),
    announced: Sequence[str] = (),
    uninstall_keys: bool = False,
    **columns: str,
) -> Format:
    return Format(
        name,
        kind,
        frozenset(normal(h) for h in signature),
        columns,
        fallbacks or {},
        directory,
        frozenset(carried),
        frozenset(announced),
        uninstall_keys,
    )


# Jamf Pro writes a computer's (or mobile device's) fields on its first row only: each further
# application, group or profile gets a row of its own under it, the computer's cells left empty.
_JAMF_CARRIED = ("hostname",)


def _jamf_devices(name: str, signature: Sequence[str], **columns: str) -> Format:
    """A Jamf Pro device export: the owner by e-mail, else by user name; the device's fields
    carried down to the rows under it."""
    devices = _fmt(
        name, Kind.DEVICES, signature, fallbacks={"owner": "Username"}, carried=_JAMF_CARRIED
    )
    return dataclasses.replace(devices, columns={"owner": "Email Address", **columns})


FORMATS: tuple[Format, ...] = (
    _fmt(
        "Active Directory (Get-ADUser | Export-Csv)",
        Kind.PEOPLE,
        ("SamAccountName", "UserPrincipalName", "DistinguishedName"),
        # Service accounts have no EmployeeID or mail: AD leaves the cells empty.
        fallbacks={"employee_id": "SamAccountName", "email": "UserPrincipalName"},
        # HR decides who is employed: a disabled account is not a leaver.
        directory=True,
        status="Enabled",
        name="Name",
        email="mail",
    ),
    _fmt("HR export", Kind.PEOPLE, ("Employee ID", "Employment Status")),
    # Admins rarely export AD's default properties: 'Get-ADUser | Select-Object Name,
    # SamAccountName, EmailAddress, Enabled | Export-Csv' is the common form.  Any file with an
    # account name column is a directory's list of accounts, whichever columns it kept: its
    # Enabled is the account's, and its built-in and service accounts are no people.
    _fmt(
        "Active Directory (Get-ADUser | Select-Object | Export-Csv)",
        Kind.PEOPLE,
        ("SamAccountName",),
        fallbacks={"employee_id": "SamAccountName", "email": "UserPrincipalName"},
        directory=True,
        status="Enabled",
        email="mail",
    ),
    # Microsoft Entra ID (Azure AD): 'Get-MgUser -All | Select-Object UserPrincipalName,
    # DisplayName, Mail, AccountEnabled, ... | Export-Csv'.  AccountEnabled is the account's, as
    # AD's Enabled; without an EmployeeId column the user principal name is the only ID.
    _fmt(
        "Microsoft Entra ID users (Get-MgUser | Export-Csv)",
        Kind.PEOPLE,
        ("UserPrincipalName", "AccountEnabled", "EmployeeId"),
        fallbacks={"employee_id": "UserPrincipalName"},
        directory=True,
        status="AccountEnabled",
        employee_id="EmployeeId",
        email="Mail",
    ),
    _fmt(
        "Microsoft Entra ID users (Get-MgUser | Export-Csv)",
        Kind.PEOPLE,
        ("UserPrincipalName", "AccountEnabled"),
        directory=True,
        status="AccountEnabled",
        employee_id="UserPrincipalName",
        email="Mail",
    ),
    _fmt(
        "Snipe-IT users",
        Kind.PEOPLE,
        ("Employee Number", "Username", "First Name", "Last Name", "Location"),
        # Snipe-IT requires a username, not an employee number; the notes say where it stood in.
        fallbacks={"employee_id": "Username"},
        announced=("employee_id",),
        email="email",
    ),
    _fmt(
        "Microsoft Intune devices",
        Kind.DEVICES,
        ("Device name", "Primary user UPN", "Serial number"),
        owner="Primary user UPN",
        last_seen="Last check-in",
        os="OS",
    ),
    _fmt(
        "Microsoft Configuration Manager devices",
        Kind.DEVICES,
        ("Netbios_Name0", "SerialNumber0"),
    ),
    _fmt(
        "Lansweeper assets",
        Kind.DEVICES,
        ("AssetName", "Lastseen"),
        owner="Username",
    ),
    _jamf_devices(
        "Jamf Pro computers",
        ("Computer Name", "Last Inventory Update"),
        os="Operating System Version",
        # When the inventory was last read, not when the agent last called in (documented
        # choice, docs/import-formats.md 2.4): an agent may check in for years after its
        # inventory stopped updating.
        last_seen="Last Inventory Update",
    ),
    *(
        # One row per application or group under each computer: its name on the first row only.
        _jamf_devices(
            f"Jamf Pro computers (a row per {per})",
            ("Computer Name", column),
            os="Operating System Version",
        )
        for per, column in (("application", "Application Title"), ("group", "Computer Group"))
    ),
    _jamf_devices(
        "Jamf Pro mobile devices",
        ("Display Name", "Serial Number"),
        hostname="Display Name",
        os="iOS Version",
        last_seen="Last Inventory Update",
    ),
    # Jamf School's device export (Devices > Export): semicolon-delimited, a column per field
    # in PascalCase, times in ISO 8601 UTC.  Its trailing 'Username' column is not the owner's
    # (empty where OwnerUsername is set): the owner is OwnerEmail, else OwnerUsername.  Jamf
    # School collects a device's inventory when it checks in, so LastConnected is when it was
    # last read (DateModified is when the record was last changed, by anyone).
    _fmt(
        "Jamf School devices",
        Kind.DEVICES,
        ("DeviceUDID", "LocationName", "OwnerEmail", "SerialNumber"),
        fallbacks={"owner": "OwnerUsername"},
        hostname="Name",
        serial="SerialNumber",
        os="OsVersion",
        owner="OwnerEmail",
        last_seen="LastConnected",
    ),
    _fmt(
        "Microsoft Intune discovered apps",
        Kind.INVENTORY,
        ("ApplicationName", "ApplicationPublisher", "DeviceName"),
        title="ApplicationName",
        version="ApplicationVersion",
    ),
    _fmt(
        "Microsoft Configuration Manager installed software",
        Kind.INVENTORY,
        ("Netbios_Name0", "DisplayName0"),
    ),
    _fmt(
        "Lansweeper installed software",
        Kind.INVENTORY,
        ("AssetName", "softwareName"),
    ),
    _fmt(
        "Jamf Pro applications",
        Kind.INVENTORY,
        ("Computer Name", "Application Title"),
        carried=_JAMF_CARRIED,
    ),
    _fmt(
        "PowerShell registry Uninstall keys",
        Kind.INVENTORY,
        ("PSComputerName", "DisplayName", "DisplayVersion"),
        uninstall_keys=True,
    ),
    _fmt(
        # Run on the machine itself: no PSComputerName; the host is given (--host).
        "PowerShell registry Uninstall keys (one machine)",
        Kind.INVENTORY,
        ("DisplayName", "DisplayVersion", "Publisher"),
        uninstall_keys=True,
    ),
    _fmt(
        "PowerShell Win32_Product",
        Kind.INVENTORY,
        ("Name", "Vendor", "Version", "PSComputerName"),
        title="Name",
    ),
    _fmt(
        "Snipe-IT license import template",
        Kind.SNIPEIT,
        ("Item name", "Seats"),
    ),
    _fmt(
        "Snipe-IT licenses",
        Kind.SNIPEIT,
        ("Seats",),
    ),
)


@dataclass(frozen=True, slots=True)
class Detection:
    """How a file's columns feed a kind's fields."""

    kind: Kind
    format_name: str  # a known format, "saved mapping 'X'", or "columns by name"
    columns: Mapping[str, int]  # field key -> column index
    missing: tuple[Field, ...]  # required fields no column feeds
    unused: tuple[str, ...]  # headers nothing reads
    fallbacks: Mapping[str, int] = field(default_factory=dict)  # key -> column if cell empty
    directory: bool = False  # see Format.directory
    carried: frozenset[str] = frozenset()  # see Format.carried
    announced: frozenset[str] = frozenset()  # see Format.announced
    uninstall_keys: bool = False  # see Format.uninstall_keys

    @property
    def complete(self) -> bool:
        """Whether every required field has a column."""
        return not self.missing


def detect(
    kind: Kind, header: Sequence[str], saved: Mapping[str, str] | None = None, saved_name: str = ""
) -> Detection:
    """Map a header row to a kind's fields: a saved mapping, else a known format, else synonyms."""
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        index.setdefault(normal(cell), position)
    present = set(index)
    columns: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    name = "columns matched by name"
    known: Format | None = None
    if saved is not None:
        name = f"saved mapping '{saved_name}'" if saved_name else "chosen columns"
        for key, heading in saved.items():
            if normal(heading) in index:
                columns[key] = index[normal(heading)]
    else:
        known = next((f for f in FORMATS if f.kind is kind and f.signature <= present), None)
        if known is not None:
            name = known.name
            for key, heading in known.columns.items():
                if normal(heading) in index:
                    columns[key] = index[normal(heading)]
            for key, heading in known.fallbacks.items():
                if normal(heading) in index:
                    fallbacks[key] = index[normal(heading)]
    taken = set(columns.values())
    if saved is None:
        for spec in FIELDS[kind]:
            if spec.key in columns:
                continue
            for synonym in spec.synonyms:
                found = index.get(synonym)
                if found is not None and found not in taken:
                    columns[spec.key] = found
                    taken.add(found)
                    break
    missing = tuple(
        spec
        for spec in FIELDS[kind]
        if spec.required
        and spec.key not in columns
        and not (spec.key == "name" and {"first_name", "last_name"} <= set(columns))
    )
    unused = tuple(h for i, h in enumerate(header) if i not in taken and h)
    fallbacks = {k: i for k, i in fallbacks.items() if k in columns and columns[k] != i}
    if (
        "currency" not in columns
        and any(spec.key == "currency" for spec in FIELDS[kind])
        and (cost := next((k for k in _COSTS if k in columns), None)) is not None
    ):
        # "$79.66" names its currency: the amount's column says it where no column does, and
        # says it only where a cell has a symbol or code (an empty currency keeps what is stored).
        columns["currency"] = columns[cost]
    if known is None:
        return Detection(kind, name, columns, missing, unused, fallbacks)
    return Detection(
        kind,
        name,
        columns,
        missing,
        unused,
        fallbacks,
        known.directory,
        known.carried,
        known.announced & set(fallbacks),
        known.uninstall_keys,
    )


_COSTS = ("unit_cost", "purchase_cost")  # the amount fields whose cells may name a currency


def field_label(kind: Kind, key: str) -> str:
    """The label of a kind's field."""
    return next(f.label for f in FIELDS[kind] if f.key == key)
