"""What the snapshot readers (LM-X, Sentinel RMS) refuse alike, told in the same words: the last
line cut off, a feature block before any server line, a line no block has, a file with no
feature block at all.

Each of these outputs is a server line followed by its feature blocks; a block a line of which was
refused is damaged, and its checkouts close no session an earlier snapshot saw.
"""

from __future__ import annotations

from typing import Protocol

from seatledger.ingest.snapshot_text import cut_line
from seatledger.ingest.tabular import Problem


class Block(Protocol):
    """A feature block being read: damaged once a line of it is refused."""

    damaged: bool


def cut_off(
    problems: list[Problem], number: int, line: str, again: str, block: Block | None
) -> None:
    """Refuse the last line, which the file ends in the middle of, and damage the block it cut."""
    problems.append(cut_line(number, line, again))
    if block is not None:
        block.damaged = True


def stray(
    problems: list[Problem], block: Block, number: int, column: str, line: str, *, what: str
) -> None:
    """Refuse a line the block cannot have (``what``: what it is not) and damage the block."""
    problems.append(
        Problem(number, column, line.strip(), f"{what}; the file may be cut short or edited")
    )
    block.damaged = True


def before_any_server(number: int, line: str, server_line: str, again: str) -> Problem:
    """The problem of a feature block's first line that follows no server line
    (``server_line``: that line as the output writes it)."""
    return Problem(
        number,
        "server",
        line.strip(),
        f"follows no {server_line} line: the file was edited or is cut at its start; {again}",
    )


def no_blocks(problems: list[Problem], block_line: str, command: str) -> None:
    """Refuse a file without a feature block (``block_line``: its first line as the output
    writes it), unless a line of it was refused already."""
    if not problems:
        problems.append(
            Problem(0, "", "", f"no {block_line} block; is this the output of '{command}'?")
        )
