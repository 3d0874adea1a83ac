"""Error types and the documented exit codes.

Every error a user can cause or meet is one of these; the CLI turns each into one line and an
exit code, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every infragate command (documented in the README)."""

    CONFORMANT = 0
    NON_CONFORMANT = 1
    COULD_NOT_VERIFY = 2
    BAD_USAGE = 3
    REFUSED_BY_SAFETY = 4


class InfragateError(Exception):
    """Base of every error infragate reports as one line."""

    exit_code: ExitCode = ExitCode.COULD_NOT_VERIFY


class UsageError(InfragateError):
    """A wrong option, argument or feature file."""

    exit_code = ExitCode.BAD_USAGE


class ProfileError(InfragateError):
    """A target profile that cannot be used: names the file, the key path, the line and what was expected."""

    exit_code = ExitCode.BAD_USAGE

    def __init__(self, file: str, key: str, expected: str, line: int | None = None) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        self.line = line
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {key}: {expected}")


class SafetyError(InfragateError):
    """An action the safety policy refuses (destructive work on production, load beyond caps, ...)."""

    exit_code = ExitCode.REFUSED_BY_SAFETY


class ProbeError(InfragateError):
    """A probe could not do its job: the verdict is "could not verify", never a pass or a fail."""

    exit_code = ExitCode.COULD_NOT_VERIFY


class SandboxError(InfragateError):
    """The reference deployment could not be brought up, inspected or torn down."""

    exit_code = ExitCode.COULD_NOT_VERIFY
