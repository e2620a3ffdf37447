"""``seatledger reclaim``: reclaim rules, exclusions and runs from the command line.

``reclaim rule`` sets (or ``--remove`` removes) a product's rule; ``reclaim exclude`` and
``reclaim include`` manage the exclusions; ``reclaim run`` starts a run and lists its candidates;
``reclaim notices`` writes the CSV and ``.eml`` drafts; ``reclaim keep`` keeps candidates with a
reason; ``reclaim finish`` releases the rest once the grace period is over; ``reclaim list``
shows the rules, exclusions, runs and what was reclaimed per month.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import reader, signed_in
from seatledger.errors import NotFoundError
from seatledger.services.operators.session import Services


def cmd_reclaim(args: argparse.Namespace) -> int:
    """Run one ``reclaim`` action."""
    command = args.reclaim_command
    if command == "list":
        return _list(reader(args))
    services = signed_in(args)
    if command == "rule":
        product = _product(services, args.product)
        if args.remove:
            services.reclaim.remove_rule(product)
            say(f"{args.product}: no reclaim rule any more.")
        else:
            services.reclaim.set_rule(product, args.idle_days, args.grace_days)
            say(
                f"{args.product}: seats unused for {args.idle_days} days are reclaimed "
                f"{args.grace_days} days after a run names them, unless kept."
            )
    elif command in ("exclude", "include"):
        target = _target(services, args.kind, args.name)
        if command == "exclude":
            services.reclaim.exclude(args.kind, target, args.reason)
            say(f"The {args.kind} {args.name} is excluded from reclaim runs.")
        else:
            services.reclaim.include(args.kind, target)
            say(f"The {args.kind} {args.name} is reclaimed like the rest again.")
    elif command == "run":
        run = services.reclaim.start_run()
        _show(services, run)
    elif command == "notices":
        files = services.reclaim.write_notices(args.run, Path(args.out), args.sender)
        say(f"Wrote {files[0]} and {len(files) - 1} e-mail drafts to {args.out}.")
    elif command == "keep":
        count = services.reclaim.keep(args.run, args.candidates, args.reason)
        say(f"{count} kept.")
    else:
        released = services.reclaim.finish(args.run)
        say(f"Reclaim run {args.run} finished: {released} released.")
    return EXIT_OK


def _product(services: Services, name: str) -> int:
    wanted = name.strip().lower()
    for product in services.reviews.choices().products:
        if wanted in (product.name.lower(), f"{product.vendor} {product.name}".lower()):
            return product.id
    raise NotFoundError(f"No product named '{name}'.")


def _target(services: Services, kind: str, name: str) -> int:
    if kind == "product":
        return _product(services, name)
    if kind == "team":
        for team in services.reviews.choices().teams:
            if team.name.lower() == name.strip().lower():
                return team.id
        raise NotFoundError(f"No team named '{name}'.")
    return services.reads.person_ids([name])[0]


def _show(services: Services, run: int) -> None:
    found = services.reclaim.candidates(run)
    say(f"Reclaim run {run}: {len(found)} idle seats.")
    say(f"{'#':>6}  {'Holder':<24} {'License':<36} {'Last use':<10}  Release on")
    for c in found:
        used = c.last_use.isoformat() if c.last_use else "never"
        state = f"  kept by {c.kept_by}: {c.keep_reason}" if c.kept_by else ""
        say(
            f"{c.id:>6}  {c.holder[:24]:<24} {c.license[:36]:<36} {used:<10}  "
            f"{c.release_on}{state}{'  ' + c.outcome if c.outcome else ''}"
        )


def _list(services: Services) -> int:
    rules = services.reclaim.rules()
    say("Rules:" if rules else "No reclaim rules.")
    for r in rules:
        say(f"  {r.product}: unused {r.idle_days} days, grace {r.grace_days} days")
    for kind, target, reason in services.reclaim.exclusions():
        say(f"  excluded {kind} {target}: {reason}")
    for run in services.reclaim.runs():
        say(
            f"Run {run.id} ({run.status}, {run.started_at:%Y-%m-%d} by {run.started_by}): "
            f"{run.candidates} candidates, {run.kept} kept, {run.released} released"
        )
    for month in services.reclaim.reclaimed_by_month():
        costs = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in month.cost.items())
        say(f"Reclaimed in {month.month}: {month.seats} seats{' (' + costs + ')' if costs else ''}")
    return EXIT_OK
