"""Secret references in profiles, and their redaction from every report and log line.

A profile names a secret as ``${NAME}`` or ``${env:NAME}`` (an environment variable, either with
``:-default``) or ``${file:/path/to/secret}``; ``$${`` is a literal ``${``. Any other ``${...}`` is an
error, never literal text. The value is read when the profile loads and remembered here, so that
whatever infragate writes can be scrubbed of it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

REFERENCE = re.compile(r"(?<!\$)\$\{(?:(file|env):)?([^}:]+?)(?::-([^}]*))?\}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FORMS = "${NAME}, ${env:NAME}, ${NAME:-default}, ${file:PATH}, or $${ for a literal ${"
MASK = "***"
# scheme://user:password@ : the password of a URL's user information, wherever a URL is written.
USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)([^/\s@]+)@")


class Redactor:
    """Remembers secret values and replaces them in text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._kept: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        """Remember a secret value and its obvious encodings (URL, JSON, HTML, base64 at any offset);
        values under 4 characters are masked only where they stand alone."""
        if value:
            with self._lock:
                self._values.add(value)
                self._values.update(variant for variant in encodings(value) if len(variant) >= 4)
                self._pattern = None

    def keep(self, *texts: str) -> None:
        """Never mask a secret that lies wholly inside one of these texts: paths the user chose (the
        profile, the reports folder) say where things are, and a secret that happens to spell part of
        one would make them useless. A secret that only overlaps one is masked as ever."""
        with self._lock:
            self._kept.update(text for text in texts if len(text) > 1)

    def keep_paths(self, *paths: str | Path) -> None:
        """keep() each path as written and as resolved (a report may name either)."""
        self.keep(*(text for path in paths for text in (str(path), str(Path(path).resolve()))))

    def holds_secret(self, text: str) -> bool:
        """Whether a remembered secret (or an encoding of one) appears in the text."""
        return self.redact(text) != text

    def redact(self, text: str) -> str:
        """Text with every remembered secret replaced by the mask (the longest where several match),
        and the password of any URL's user information (``https://user:***@host``), remembered or not."""
        with self._lock:
            if self._pattern is None and self._values:
                self._pattern = re.compile(
                    "|".join(
                        re.escape(value) if len(value) >= 4 else rf"(?<!\w){re.escape(value)}(?!\w)"
                        for value in sorted(self._values, key=len, reverse=True)
                    )
                )
            pattern, kept, values = self._pattern, tuple(self._kept), tuple(self._values)
        if "://" in text:
            text = _outside(kept, USERINFO, lambda match: f"{match.group(1)}{MASK}@", text)
        # The search for plain substrings first: most texts hold no secret, and finding that is several
        # times faster than running the pattern over a report of megabytes.
        if pattern is None or not any(value in text for value in values):
            return text
        return _outside(kept, pattern, lambda match: MASK, text)


def _outside(kept: tuple[str, ...], pattern: re.Pattern[str], mask: Callable[[re.Match[str]], str], text: str) -> str:
    """The text with each match of the pattern masked, except a match that lies inside a kept text."""
    spans = [
        (found.start(), found.end()) for path in kept if path in text for found in re.finditer(re.escape(path), text)
    ]

    def replace(match: re.Match[str]) -> str:
        if any(start <= match.start() and match.end() <= end for start, end in spans):
            return match.group(0)
        return mask(match)

    return pattern.sub(replace, text)


def encodings(value: str) -> set[str]:
    """The forms a secret takes in artifacts: URL-quoted (a DSN), JSON- and HTML-escaped (reports),
    base64 (a Basic authorization header), the latter at each of the three offsets it can start at
    inside a longer encoded text (only the characters that depend on the secret alone)."""
    raw = value.encode()
    found = {
        quote(value, safe=""),
        quote_plus(value, safe=""),
        json.dumps(value)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(raw).decode())  # the secret encoded alone
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw).decode()
            start, end = (4 if offset else 0), 4 * ((offset + len(raw)) // 3)
            if end - start >= 8:
                found.add(encoded[start:end])
    found.discard(value)
    return found


def redact_tree(folder: Path) -> int:
    """Scrub every remembered secret from every text file under a folder; the number of files changed."""
    changed = 0
    for path in sorted(folder.rglob("*")) if folder.is_dir() else [folder]:
        if not path.is_file() or path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        clean = REDACTOR.redact(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs remembered secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR.redact(record.getMessage())
        record.args = None
        return True


class SecretReferenceError(ValueError):
    """A secret reference that cannot be resolved."""


MAX_SECRET_BYTES = 64 * 1024


def read_bounded_text(path: Path, limit: int) -> str:
    """A regular file's UTF-8 text of at most `limit` bytes; ValueError says, in a few words, why not.

    Never blocks on a FIFO or a device, never reads more than the limit (/dev/zero), never fails on
    binary content with anything but a ValueError."""
    try:
        status = path.stat()
    except OSError as exc:
        raise ValueError(exc.strerror or "cannot be read") from None
    if not stat.S_ISREG(status.st_mode):
        raise ValueError("not a regular file")
    if status.st_size > limit:
        raise ValueError(f"larger than {limit // 1024} KiB")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ValueError(exc.strerror or "cannot be read") from None
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def expand(text: str, base_dir: Path | None, environ: dict[str, str]) -> str:
    """Text with each ``${NAME}`` / ``${env:NAME}`` / ``${file:PATH}`` replaced by its value, each value
    registered as a secret; SecretReferenceError for a ``${`` of any other form."""
    known = sum(1 for _ in REFERENCE.finditer(text))
    if text.count("${") - text.count("$${") != known:
        raise SecretReferenceError(f"a secret reference of a known form ({FORMS})")

    def resolve(match: re.Match[str]) -> str:
        source, name, default = match.group(1), match.group(2).strip(), match.group(3)
        if source != "file" and not _VARIABLE.fullmatch(name):
            raise SecretReferenceError(f"an environment variable's name in ${{{name}}} (letters, digits, _)")
        if source == "file":
            path = Path(name).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            try:
                value = read_bounded_text(path, MAX_SECRET_BYTES).strip()
            except ValueError as exc:
                raise SecretReferenceError(f"a readable secret file of UTF-8 text ({path}: {exc})") from None
        elif name in environ:
            value = environ[name]
        elif default is not None:
            return default  # a default written in the profile is no secret
        else:
            raise SecretReferenceError(f"environment variable {name} to be set")
        REDACTOR.register(value)
        return value

    expanded = REFERENCE.sub(resolve, text).replace("$${", "${")
    # A password written into a URL is a secret too: masked wherever a URL is written, and on its own
    # where it is long enough not to be a word of the report (a one-letter test password would mask
    # every <b> of report.html).
    for match in USERINFO.finditer(expanded):
        for password in {match.group(2), unquote(match.group(2))}:
            if len(password) >= 4:
                REDACTOR.register(password)
    return expanded
