"""Unified diffs shown in pages."""

from __future__ import annotations


def diff_lines(text: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs for `components/_diff.html`."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("+++", "---", "diff --git", "index ", "new file", "deleted file")):
            css = "meta"
        elif line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        else:
            css = "ctx"
        lines.append((css, line))
    return lines
