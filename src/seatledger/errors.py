"""The error hierarchy every layer raises: known, explainable failures versus bugs.

A :class:`KnownError` carries a message a user can act on (it names the file, line, field and what
to do); anything else reaching the top level is a bug, shown with details and logged.
"""

from __future__ import annotations


class KnownError(Exception):
    """A failure the user can understand and act on; its message is shown as is."""


class ValidationError(KnownError):
    """Input that breaks a rule; ``field`` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(KnownError):
    """A reference to something that does not exist (or no longer does)."""


class PermissionDenied(KnownError):
    """The signed-in operator's role does not allow the action."""


class AuthenticationError(KnownError):
    """Unknown operator or wrong password."""


class SignInDelayed(AuthenticationError):
    """Repeated failed sign-ins: the next attempt waits ``seconds`` before it is even checked."""

    def __init__(self, message: str, seconds: int) -> None:
        super().__init__(message)
        self.seconds = seconds


class LimitExceeded(KnownError):
    """An assignment that would break a purchased limit or another seat rule."""

    def __init__(self, message: str, *, free: int, needed: int) -> None:
        super().__init__(message)
        self.free = free
        self.needed = needed


class DatabaseError(KnownError):
    """The database cannot be opened or used (not a database, locked, too new, unreachable)."""


class LedgerIntegrityError(KnownError):
    """The activity ledger does not verify; ``seq`` names the first bad entry."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class StateIntegrityError(KnownError):
    """Rows a report counts differ from what the activity ledger says of them."""


class Cancelled(KnownError):
    """The user cancelled a long operation; nothing was changed."""


class UpgradeError(DatabaseError):
    """An upgrade of an older database failed and was rolled back; ``backup`` is its copy."""

    def __init__(self, message: str, *, backup: object = None) -> None:
        super().__init__(message)
        self.backup = backup
