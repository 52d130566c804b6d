"""Render structure query results, with a per-process cache keyed on the store's fingerprint."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Generic, TypeVar

from service.formats.base import Header, Lang
from service.formats.media_types import STRUCTURE_WRITERS
from service.model import Artefact
from service.storage.structures import StructureRepository
from service.usecases.structure import Selection, run

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str
    last_modified: dt.datetime | None
    language: str
    #: The body gzipped once, when it is worth it, so cache hits are not recompressed.
    gzipped: bytes | None = None


class ResponseCache(Generic[K, V]):
    """A small thread-safe LRU. Keys include the store's fingerprint, so writes invalidate it.

    ``size`` bounds the number of entries; with ``weigh``, it bounds their total weight
    (bytes, say) instead, and an entry heavier than ``size // 64`` is not kept.
    """

    def __init__(self, size: int, weigh: Callable[[V], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh
        self._weight = 0
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: K, value: V) -> None:
        weight = 1 if self._weigh is None else self._weigh(value)
        if self.size <= 0 or (self._weigh is not None and weight > self.size // 64):
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= self._weight_of(old)
            self._items[key] = value
            self._weight += weight
            while self._weight > self.size:
                _, dropped = self._items.popitem(last=False)
                self._weight -= self._weight_of(dropped)

    def _weight_of(self, value: V) -> int:
        return 1 if self._weigh is None else self._weigh(value)


#: The first of an SDMX-JSON message's ``meta.contentLanguages``, which the writers put at
#: the start of the message (``json_common.meta``) with the language served first.
_FIRST_CONTENT_LANGUAGE = re.compile(rb'"contentLanguages":\s*\[\s*"([^"]+)"')


def served_language(body: bytes, media_type: str) -> str:
    """The language an SDMX-JSON structure message gives its ``name`` fields in: the first
    accepted language the artefacts have, else English (``json_common.content_languages``).
    SDMX-ML messages carry every language: English, for the header."""
    found = _FIRST_CONTENT_LANGUAGE.search(body, 0, 2048) if "json" in media_type else None
    return found.group(1).decode() if found else "en"


def render_structures(
    repo: StructureRepository,
    selection: Selection,
    *,
    request_key: Hashable,
    media_type: str,
    lang: Lang,
    sender: str,
    structure_url: Callable[[Artefact], str],
    cache: ResponseCache[Hashable, Rendered],
    gzip_minimum_size: int = 1000,
) -> Rendered:
    """The response body for a structure query, from the cache when the store is unchanged."""
    return render(
        repo,
        lambda: run(repo, selection, structure_url).artefacts,
        request_key=request_key,
        media_type=media_type,
        lang=lang,
        sender=sender,
        cache=cache,
        gzip_minimum_size=gzip_minimum_size,
    )


def render(
    repo: StructureRepository,
    artefacts: Callable[[], Sequence[Artefact]],
    *,
    request_key: Hashable,
    media_type: str,
    lang: Lang,
    sender: str,
    cache: ResponseCache[Hashable, Rendered],
    gzip_minimum_size: int = 1000,
) -> Rendered:
    """A structure message of what ``artefacts`` finds, kept in ``cache`` while the store is
    unchanged (structure and schema queries)."""
    state = repo.state()
    key = (state.tag, request_key, media_type, lang.preferred)
    cached = cache.get(key)
    if cached is not None:
        return cached
    found = artefacts()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()
    header = Header(id=f"IREF{digest[:16]}", prepared=dt.datetime.now(dt.UTC), sender=sender)
    body = STRUCTURE_WRITERS[media_type].write_structures(found, header=header, lang=lang)
    rendered = Rendered(
        body=body,
        media_type=media_type,
        etag=f'"{digest[:32]}"',
        last_modified=state.last_modified,
        language=served_language(body, media_type),
        gzipped=gzip.compress(body, compresslevel=6) if len(body) >= gzip_minimum_size else None,
    )
    cache.put(key, rendered)
    return rendered
