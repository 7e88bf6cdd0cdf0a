"""Messages in Vietnamese and English, as one typed value from the reader that finds a
problem to the report a reporting unit reads (errors.txt, errors.json, the validator).

A message is never one "vi; en" string to split again: a cell value containing "; " would
split it in the wrong place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """One thing to tell a person, in both languages, located by cell when there is one."""

    vi: str
    en: str
    cell: str | None = None

    def __str__(self) -> str:
        where_vi = f"Ô {self.cell}: " if self.cell else ""
        where_en = f"cell {self.cell}: " if self.cell else ""
        return f"{where_vi}{self.vi}; {where_en}{self.en}"
