"""What every structure writer offers: the message header and the writer protocol."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar, Protocol

import msgspec

from service.errors import SdmxError
from service.model import Artefact


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """The header of a message this service sends."""

    id: str
    prepared: dt.datetime
    sender: str = "ILO"
    test: bool = False


class Lang(msgspec.Struct, frozen=True):
    """The languages a client accepts, best first (from Accept-Language); ``en`` is the fallback.

    Multilingual formats (SDMX-ML, SDMX-JSON ``names``) carry every language whatever this
    says; it picks the single-language fields (SDMX-JSON ``name``, ``Content-Language``).
    """

    preferred: tuple[str, ...] = ("en",)

    def pick(self, texts: dict[str, str]) -> str | None:
        """The text in the best accepted language, else English, else the first one given."""
        for lang in self.preferred:
            if lang in texts:
                return texts[lang]
            base = lang.split("-")[0]
            if base in texts:
                return texts[base]
        if "en" in texts:
            return texts["en"]
        return next(iter(texts.values()), None)


class StructureWriter(Protocol):
    """A structure message format (SDMX-ML 2.1, SDMX-ML 3.0, SDMX-JSON 1.0 or 2.0)."""

    #: The canonical media type, with its ``version`` parameter.
    media_type: ClassVar[str]

    def write_structures(
        self, artefacts: Sequence[Artefact], *, header: Header, lang: Lang
    ) -> bytes:
        """A whole structure message holding ``artefacts``, in the order given."""
        ...

    def write_error(self, error: SdmxError, *, header: Header) -> bytes:
        """An SDMX error message for ``error`` (its ``code`` and ``message``)."""
        ...
