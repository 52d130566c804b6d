"""Data messages as the readers deliver them: a stream of flat rows, one per observation.

Every reader (SDMX-ML, SDMX-CSV, SDMX-JSON; any version) turns a message into ``DataRow``s in
the order it meets them, so validation and loading never depend on the format. A row carries
the values of every component it knows, by component id, with series- and dataset-level
attributes already copied onto it: the validator checks them at their DSD attachment level.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from service.model.base import Ref


class Action(enum.StrEnum):
    """What a data set asks the receiver to do (SDMX 3.0 actions; SDMX-CSV 2.0 ACTION codes)."""

    #: SDMX 2.1/3.0 Information and SDMX 2.1 Append: insert or update.
    INFORMATION = "I"
    #: SDMX 3.0 Append: insert or update (the same semantics here as Information).
    APPEND = "A"
    #: Insert or update, keeping stored attribute values the message leaves out.
    MERGE = "M"
    #: The series sent replace the stored ones: their other observations are deleted.
    REPLACE = "R"
    #: Delete what is sent: whole series, single observations, or only attribute values.
    DELETE = "D"

    @classmethod
    def parse(cls, text: str | None) -> Action:
        """An action from its SDMX-ML name (``Append``) or SDMX-CSV letter (``A``); None is I."""
        if not text:
            return cls.INFORMATION
        value = text.strip()
        key = value[:1].upper() if value else "I"
        if len(value) > 1 and value.lower() not in _NAMES:
            raise ValueError(f"unknown action {text!r}; expected one of {', '.join(_NAMES)}")
        return cls(key)


_NAMES = ("information", "append", "merge", "replace", "delete")
#: Action -> its one-letter code, for hot loops (cheaper than the enum's ``value``).
ACTION_CODES: dict[Action, str] = {a: a.value for a in Action}


class DataRow(NamedTuple):
    """One observation (or one series/attribute-only statement when ``time`` is None).

    ``key`` maps every dimension the message gave (TIME_PERIOD excluded) to its code;
    ``time`` is the TIME_PERIOD text; ``value`` the primary measure text (None when absent);
    ``attrs`` every attribute value that applies to this row, whatever level it was sent at.
    ``location`` says where in the message the row came from ("line 12", "row 7");
    ``structure`` is what the message says the row is for (a Dataflow, DataStructure or
    ProvisionAgreement reference), when it says it.
    """

    key: dict[str, str]
    time: str | None
    value: str | None
    attrs: dict[str, str]
    action: Action
    location: str
    structure: Ref | None = None


class DataReadError(ValueError):
    """A message that cannot be read: malformed, truncated, unsafe or not SDMX.

    ``location`` says where ("line 3", "byte 1024", "row 12"); the message says what.
    """

    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.location = location
