"""Each team's manager as its reviewer in an access review campaign.

The manager of a team is the person most of its members report to
(:meth:`~seatledger.services.directory.service.DirectoryService.team_managers`); they review the
team's seats where an operator account that may review is theirs.  Every team that cannot be
given its manager is said, with why, so the administrator can name someone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from seatledger.services.directory.service import TeamManager
from seatledger.services.lookups import NamedItem


@dataclass(frozen=True, slots=True)
class ManagerReviewers:
    """Team id -> the operator who reviews it, and a sentence for each team left without."""

    chosen: dict[int, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def managers_as_reviewers(
    managers: Mapping[int, TeamManager],
    teams: Sequence[NamedItem],
    reviewers: Sequence[NamedItem],
) -> ManagerReviewers:
    """Give each of ``teams`` its manager's operator account where that account may review.

    Args:
        managers: each team's manager (``DirectoryService.team_managers``).
        teams: the teams to give reviewers.
        reviewers: the operators who may review.
    """
    allowed = {item.id for item in reviewers}
    found = ManagerReviewers()
    for team in teams:
        manager = managers.get(team.id)
        if manager is None:
            found.missing.append(
                f"{team.name}: no manager recorded (HR import or People ▸ Manager…)"
            )
        elif manager.operator_id is None:
            found.missing.append(f"{team.name}: {manager.name} has no operator account")
        elif manager.operator_id not in allowed:
            found.missing.append(
                f"{team.name}: {manager.name}'s account {manager.operator} may not review"
            )
        else:
            found.chosen[team.id] = manager.operator_id
    return found
