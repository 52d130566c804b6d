"""What read queries keep per worker: the targets that paths name, and whole small answers."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from service.api.auth import check_read_access
from service.api.conditional import not_modified
from service.api.deps import closing_stream, in_session
from service.api.encoding import accepts_gzip
from service.query.structure import ApiVersion
from service.settings import Settings
from service.storage.data_reads import DataReads
from service.storage.probe import DatasetState, StateProbe
from service.storage.structures import StoreState, StructureRepository
from service.usecases.data import DataState, DataTarget, locate_v1, locate_v2
from service.usecases.rendering import ResponseCache

log = logging.getLogger(__name__)
#: Answers up to this size are read whole before they are sent (see ``ReadCaches.respond``).
WHOLE_ANSWER = 256 * 1024
_VARY = "Accept, Accept-Language"
#: The path segments that name a query's target (data and availability alike).
_TARGET_SEGMENTS: dict[ApiVersion, tuple[str, ...]] = {
    ApiVersion.V1: ("flow_ref", "provider_ref"),
    ApiVersion.V2: ("context", "agency", "resource_id", "version"),
}


def locate(repo: StructureRepository, api: ApiVersion, p: Mapping[str, str]) -> DataTarget:
    """The target a data or availability path names. v2 availability paths may leave out the
    agency and id: ``*``."""
    if api is ApiVersion.V1:
        return locate_v1(repo, p["flow_ref"], p.get("provider_ref"))
    agency, resource_id = p.get("agency", "*"), p.get("resource_id", "*")
    return locate_v2(repo, p["context"], agency, resource_id, p.get("version"))


def _target_key(api: ApiVersion, path: Mapping[str, str]) -> Hashable:
    return (api, *(path.get(name) for name in _TARGET_SEGMENTS[api]))


@dataclass(frozen=True, slots=True)
class Kept:
    """A whole answer kept for identical queries (same ETag: same data, structures, query,
    format and language); gzipped once when it is worth it."""

    body: bytes
    media_type: str
    gzipped: bytes | None


@dataclass(frozen=True, slots=True)
class Probed:
    """What the state probe answered for a request's known target."""

    target: DataTarget
    structures: StoreState
    dataset: DatasetState


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
        self,
        repo: StructureRepository,
        api: ApiVersion,
        request: Request,
        *,
        harvest: bool = False,
    ) -> tuple[DataTarget, str, DataState]:
        """The target the request's path names (``locate``), the structures' fingerprint it
        was resolved with, and its data set's state. A known target costs one round trip,
        which asks both fingerprints, or none when the state probe asked them for this request
        already (:meth:`known_answer`, when the answer was not kept).

        ``harvest`` (an ``updatedAfter`` query): the state is read once no upload is between
        stamping its versions and committing them (``DataReads.wait_for_writers``), so that
        neither a 304 nor a kept answer can hide versions stamped before the query came."""
        path = request.path_params
        key = _target_key(api, path)
        known = self.targets.get(key)
        if known is not None:
            tag, target = known
            probed: Probed | None = getattr(request.state, "probed", None)
            if probed is not None and probed.target is target:
                structures, dataset = probed.structures, probed.dataset
            else:
                structures, dataset = repo.state_and_dataset(target.flow.dsd.key)
            if structures.tag != tag:
                known = None
        if known is None:
            tag = repo.state().tag
            target = locate(repo, api, path)
            self.targets.put(key, (tag, target))
            _, dataset = repo.state_and_dataset(target.flow.dsd.key)
        if harvest and dataset is not None and DataReads(repo.session).wait_for_writers(dataset[0]):
            _, dataset = repo.state_and_dataset(target.flow.dsd.key)
        return target, tag, DataState.of(dataset)

    async def known_answer(
        self,
        request: Request,
        api: ApiVersion,
        tag_and_headers: TagAndHeaders,
    ) -> Response | None:
        """A repeated query's kept answer, or its 304, without a trip to the thread pool
        (PostgreSQL: ``StateProbe``). None when the answer must be made: its target not
        resolved yet, the structures changed, the answer not kept, ``updatedAfter`` (which
        waits for uploads in flight), or no probe (SQLite).

        ``tag_and_headers``: the answer's ETag and headers for a target, the structures'
        fingerprint and the data set's state (None: not answerable here, e.g. no format)."""
        probe: StateProbe | None = request.app.state.state_probe
        if probe is None or "updatedAfter" in request.query_params:
            return None
        known = self.targets.get(_target_key(api, request.path_params))
        if known is None:
            return None
        tag, target = known
        try:
            structures, dataset = await probe.ask(target.flow.dsd.key)
        except Exception:  # the answer is made through a session, which reports the cause
            log.warning("state probe failed; answering through a session", exc_info=True)
            return None
        # asked after the request came: the session's answer needs not ask it again
        request.state.probed = Probed(target, structures, dataset)
        if structures.tag != tag:
            return None
        state = DataState.of(dataset)
        made = tag_and_headers(target, tag, state)
        if made is None:
            return None
        etag, headers = made
        return self.revalidated(request, state, etag, headers)

    def revalidated(
        self, request: Request, state: DataState, etag: str, headers: dict[str, str]
    ) -> Response | None:
        """304 when the client's copy is current, else the kept answer under ``etag``; None
        when the answer must be made."""
        if state.dataset_pk is not None and not_modified(request, etag, state.last_changed):
            return Response(status_code=304, headers=headers)
        kept = self.answers.get(etag)
        return None if kept is None else kept_response(request, kept, headers)

    def respond(
        self,
        request: Request,
        etag: str,
        media_type: str,
        first: bytes,
        chunks: Iterator[bytes],
        headers: dict[str, str],
        *,
        whole: bool = True,
    ) -> Response:
        """The answer ``first`` and ``chunks`` make: whole when it ends within
        :data:`WHOLE_ANSWER` bytes (read here, on the thread that made it, rather than a trip
        to the thread pool per chunk; with its Content-Length; kept for identical queries),
        else streamed, and kept if it ends small enough after all (:meth:`keep`). HEAD gets
        GET's answer, whose body ``SdmxHttpMiddleware`` drops, or a streamed answer's
        headers.

        ``whole`` False: streamed from the first chunk on, for an answer known to be large
        (a PostgreSQL export, whose next chunk may come only after a pass over the data)."""
        read = [first]
        size = len(first)
        while whole and size <= WHOLE_ANSWER:
            chunk = next(chunks, None)
            if chunk is None:
                body = b"".join(read)
                if self.answers.size > 0:
                    return kept_response(request, self.kept(etag, media_type, body), headers)
                return Response(body, media_type=media_type, headers=headers)
            read.append(chunk)
            size += len(chunk)
        if request.method == "HEAD":  # what GET streams: no Content-Length either
            _close(chunks)
            return head_of_stream(media_type, headers)
        streamed = self.keep(etag, media_type, _after(read, chunks))
        return StreamingResponse(closing_stream(streamed), media_type=media_type, headers=headers)

    def keep(self, etag: str, media_type: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """``chunks`` passed on; a whole answer small enough to keep is kept under ``etag``
        (a client that leaves early leaves nothing behind)."""
        limit = self.answers.size // 64
        kept: list[bytes] | None = []
        size = 0
        try:
            for chunk in chunks:
                if kept is not None:
                    size += len(chunk)
                    if size <= limit:
                        kept.append(chunk)
                    else:
                        kept = None
                yield chunk
        finally:  # closed early (the client left): close what the chunks come from
            _close(chunks)
        if kept is not None:
            self.kept(etag, media_type, b"".join(kept))

    def kept(self, etag: str, media_type: str, body: bytes) -> Kept:
        """A whole answer, gzipped once when it is worth it, kept if it is small enough."""
        small = len(body) < self.gzip_minimum_size
        packed = None if small else gzip.compress(body, compresslevel=6)
        found = Kept(body, media_type, packed)
        self.answers.put(etag, found)  # not kept beyond 1/64 of the cache (ResponseCache.put)
        return found


def _close(chunks: Iterator[bytes]) -> None:
    """Close ``chunks`` when it can be (a generator: what it holds open is let go)."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _after(read: list[bytes], chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks ``read`` already, then ``chunks``; closing this closes ``chunks``."""
    yield from read
    yield from chunks


TagAndHeaders = Callable[[DataTarget, str, DataState], tuple[str, dict[str, str]] | None]


async def serve_read(
    request: Request,
    api: ApiVersion,
    tag_and_headers: TagAndHeaders,
    answer: Callable[..., Response],
) -> Response:
    """A data or availability read: access checked, then a repeated query's kept answer or 304
    on the event loop (:meth:`ReadCaches.known_answer`), else ``answer`` with a session of its
    own (``in_session``)."""
    await check_read_access(request)
    caches: ReadCaches = request.app.state.read_caches
    if (known := await caches.known_answer(request, api, tag_and_headers)) is not None:
        return known
    return await in_session(request, answer)


def kept_response(request: Request, kept: Kept, headers: dict[str, str]) -> Response:
    """A whole answer, gzipped already when the client takes gzip. HEAD gets the same, GET's
    headers with its Content-Length (RFC 9110, 9.3.2): ``SdmxHttpMiddleware`` drops the body."""
    body = kept.body
    if kept.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
        headers = {**headers, "Content-Encoding": "gzip", "Vary": f"{_VARY}, Accept-Encoding"}
        body = kept.gzipped
    return Response(body, media_type=kept.media_type, headers=headers)


def head_of_stream(media_type: str, headers: dict[str, str]) -> Response:
    """HEAD of an answer GET streams: GET's headers but no Content-Length, which GET does not
    know either (Starlette would say 0)."""
    response = Response(status_code=200, media_type=media_type, headers=headers)
    del response.headers["content-length"]
    return response
