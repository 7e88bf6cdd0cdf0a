"""One error family: every error chiso raises on purpose derives from :class:`ChisoError`.

A ``ChisoError`` is a message for a person, never a bug: what went wrong and what to do,
in English and, where someone outside the data team may read it (a reporting unit), in
Vietnamese too; and the exit code a command that meets it ends with. The CLI prints it
without a traceback (``chiso.cli.main``); anything else is a bug and is printed with its
traceback and a request to report it.
"""

from __future__ import annotations

from warehouse.bilingual import Message

# the exit codes of every chiso command (README, "Exit codes")
EXIT_OK = 0  # done (chiso run: published)
EXIT_FAILED = 1  # a stage, a check, a source or a file failed; what is published is unchanged
EXIT_USAGE = 2  # a wrong argument or setting: fix the command line or the environment
EXIT_BUG = 3  # an unexpected error inside chiso: a traceback is printed, please report it


class ChisoError(Exception):
    """An error chiso explains: ``.message`` holds it in both languages (the same text in
    both when only data engineers read it), ``exit_code`` what a command ends with."""

    exit_code = EXIT_FAILED

    def __init__(self, en: str = "", vi: str | None = None, *, cell: str | None = None):
        self.message = Message(vi if vi is not None else en, en, cell)
        super().__init__(str(self.message) if vi is not None else en)

    @property
    def vi(self) -> str:
        return self.message.vi

    @property
    def en(self) -> str:
        return self.message.en


class UsageError(ChisoError):
    """The command line asks for something that cannot be (a malformed date, an unknown
    unit): said with what to give instead."""

    exit_code = EXIT_USAGE


class BilingualError(ChisoError, ValueError):
    """An error whose message a reporting unit may read: Vietnamese first, English beside
    it, located by cell when there is one."""

    def __init__(self, vi: str, en: str | None = None, cell: str | None = None):
        super().__init__(en if en is not None else vi, vi, cell=cell)
