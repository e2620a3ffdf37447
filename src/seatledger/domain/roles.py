"""Operator roles and what each may do.

Checked in the services, so no entry point can bypass them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """An operator's role."""

    ADMINISTRATOR = "administrator"
    LICENSE_MANAGER = "license_manager"
    AUDITOR = "auditor"
    VIEWER = "viewer"
    REVIEWER = "reviewer"  # decides access reviews, within the teams a campaign gives them

    @property
    def label(self) -> str:
        """The role as shown to people."""
        return self.value.replace("_", " ").capitalize()


class Permission(StrEnum):
    """A kind of action a service performs."""

    READ = "read"
    EDIT_LICENSES = "edit_licenses"
    ASSIGN_SEATS = "assign_seats"
    EDIT_DIRECTORY = "edit_directory"
    OVER_COMMIT = "over_commit"
    MANAGE_OPERATORS = "manage_operators"
    RUN_AUDITS = "run_audits"
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_SIGNING_KEYS = "manage_signing_keys"  # replace the identity reports are signed with
    MANAGE_REVIEWS = "manage_reviews"  # start and close access review campaigns
    REVIEW_ACCESS = "review_access"  # keep or release seats in a campaign (within one's teams)


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.LICENSE_MANAGER: frozenset(
        {
            Permission.READ,
            Permission.EDIT_LICENSES,
            Permission.ASSIGN_SEATS,
            Permission.EDIT_DIRECTORY,
            Permission.ACKNOWLEDGE_ALERTS,
        }
    ),
    Role.AUDITOR: frozenset(
        {Permission.READ, Permission.RUN_AUDITS, Permission.ACKNOWLEDGE_ALERTS}
    ),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.REVIEWER: frozenset({Permission.READ, Permission.REVIEW_ACCESS}),
}


def allows(role: Role, permission: Permission) -> bool:
    """Return whether ``role`` grants ``permission``."""
    return permission in _GRANTS[role]


def can_write(role: Role) -> bool:
    """Return whether the role may change license data at all (used to grey out actions)."""
    return allows(role, Permission.ASSIGN_SEATS)
