"""Markdown and terminal text from untrusted names: the escaping every renderer shares.

Case names, machine and env names come from the benchmarked code, which in a pull request
from a fork is untrusted. Every such text reaches Markdown only through ``md``, which keeps
letters, digits, ``/`` and ``-`` and turns everything else into an HTML character reference,
so no name can open a tag, a table cell, a code span, a link or a mention, and none can
spell the hidden marker that identifies the comment. On a terminal, ``plain`` shows control
characters as escapes, so no name can move the cursor or recolour the screen.
"""

from __future__ import annotations

from collections.abc import Iterable

#: longest name shown before it is cut with an ellipsis
NAME_LIMIT = 160


def md(text: str, limit: int = NAME_LIMIT) -> str:
    """Return untrusted text as inert Markdown: only [A-Za-z0-9/-] and spaces stay literal."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(
        c if (c.isascii() and c.isalnum()) or c in "/- " else f"&#{ord(c)};" for c in text
    )


def code(text: str) -> str:
    """Return untrusted text as an inert inline code element."""
    return f"<code>{md(text)}</code>"


def plain(text: str, limit: int = NAME_LIMIT) -> str:
    """Return untrusted text safe for a terminal: unprintable characters as escapes."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    """Return the lines of a Markdown table whose cells are already escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def aligned(header: list[str], rows: Iterable[list[str]], right: set[int]) -> list[str]:
    """Return the lines of a plain-text table, the columns in ``right`` right-aligned."""
    rows = list(rows)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


__all__ = ["NAME_LIMIT", "aligned", "code", "md", "plain", "table"]
