"""What read queries keep per worker: the targets that paths name, and whole small answers."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from service.api.encoding import accepts_gzip
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.usecases.data import DataState, DataTarget
from service.usecases.rendering import ResponseCache

_VARY = "Accept, Accept-Language"
#: Where a target is looked up: the API and the path segments that name it.
LocateKey = tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class Kept:
    """A whole answer kept for identical queries (same ETag: same data, structures, query,
    format and language); gzipped once when it is worth it."""

    body: bytes
    media_type: str
    gzipped: bytes | None


class ReadCaches:
    """Per worker: the targets that paths name, by the structures' fingerprint (resolving a
    dataflow reads and decodes its structures), and small answers by ETag."""

    def __init__(self, settings: Settings) -> None:
        self.targets: ResponseCache[Hashable, tuple[str, DataTarget]] = ResponseCache(256)
        self.answers: ResponseCache[str, Kept] = ResponseCache(
            settings.data_cache_bytes, weigh=lambda kept: len(kept.body) + len(kept.gzipped or b"")
        )
        self.gzip_minimum_size = settings.gzip_minimum_size

    def target(
        self, repo: StructureRepository, key: LocateKey, locate: Callable[[], DataTarget]
    ) -> tuple[DataTarget, str, DataState]:
        """The target, the structures' fingerprint it was resolved with, and its data set's
        state. A known target costs one round trip, which asks both fingerprints."""
        known = self.targets.get(key)
        if known is not None:
            tag, target = known
            structures, dataset = repo.state_and_dataset(target.flow.dsd.key)
            if structures.tag == tag:
                return target, tag, DataState(*dataset) if dataset else DataState(None, None)
        tag = repo.state().tag
        target = locate()
        self.targets.put(key, (tag, target))
        _, dataset = repo.state_and_dataset(target.flow.dsd.key)
        return target, tag, DataState(*dataset) if dataset else DataState(None, None)

    def keep(self, etag: str, media_type: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """``chunks`` passed on; a whole answer small enough to keep is kept under ``etag``
        (a client that leaves early leaves nothing behind)."""
        limit = self.answers.size // 64
        kept: list[bytes] | None = []
        size = 0
        for chunk in chunks:
            if kept is not None:
                size += len(chunk)
                if size <= limit:
                    kept.append(chunk)
                else:
                    kept = None
            yield chunk
        if kept is not None:
            self.kept(etag, media_type, b"".join(kept))

    def kept(self, etag: str, media_type: str, body: bytes) -> Kept:
        """A whole answer, gzipped once when it is worth it, kept if it is small enough."""
        small = len(body) < self.gzip_minimum_size
        packed = None if small else gzip.compress(body, compresslevel=6)
        found = Kept(body, media_type, packed)
        self.answers.put(etag, found)  # not kept beyond 1/64 of the cache (ResponseCache.put)
        return found


def kept_response(request: Request, kept: Kept, headers: dict[str, str]) -> Response:
    """A whole answer, gzipped already when the client takes gzip. HEAD: GET's headers,
    its Content-Length included (RFC 9110, 9.3.2), without the body."""
    body = kept.body
    if kept.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
        headers = {**headers, "Content-Encoding": "gzip", "Vary": f"{_VARY}, Accept-Encoding"}
        body = kept.gzipped
    if request.method == "HEAD":
        headers = {**headers, "Content-Length": str(len(body))}
        return Response(status_code=200, media_type=kept.media_type, headers=headers)
    return Response(body, media_type=kept.media_type, headers=headers)


def head_of_stream(media_type: str, headers: dict[str, str]) -> Response:
    """HEAD of an answer GET streams: GET's headers but no Content-Length, which GET does not
    know either (Starlette would say 0)."""
    response = Response(status_code=200, media_type=media_type, headers=headers)
    del response.headers["content-length"]
    return response
