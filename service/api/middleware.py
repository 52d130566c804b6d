"""ASGI middleware: CORS on every response (errors too), ``Vary: Accept-Encoding`` on every
answer to GET and HEAD (any may be gzipped: caches must see the same Vary on every
representation, not only on the gzipped ones), one log line per request, and a last line of
defence that turns any unhandled exception into an SDMX error (500), never a bare page."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.encoding import without_refused_gzip
from service.api.errors import render_error
from service.errors import InternalError, QuerySyntaxError, SdmxError

log = logging.getLogger("ilms.access")

EXPOSED = "ETag, Last-Modified, Content-Language, Content-Disposition, Location, X-Request-ID"
METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"


class SdmxHttpMiddleware:
    def __init__(self, app: ASGIApp, cors_origins: Sequence[str], sender: str = "ILO") -> None:
        self.app = app
        self.origins = list(cors_origins)
        self.sender = sender

    def _allow_origin(self, origin: str | None) -> str | None:
        if "*" in self.origins:
            return "*"
        return origin if origin in self.origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and headers.get("access-control-request-method"):
            await self._preflight(headers, send)
            return
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # /rest/dataflow/ILO/ is /rest/dataflow/ILO
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        encoding = headers.get("accept-encoding")
        if encoding and "gzip" in encoding.lower():
            _set_header(scope, b"accept-encoding", without_refused_gzip(encoding))
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        cacheable = scope["method"] in ("GET", "HEAD")
        head = scope["method"] == "HEAD"
        state: dict[str, Any] = {"status": 0, "bytes": 0, "started": False}
        start = time.perf_counter()

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                self._own_headers(MutableHeaders(scope=message), cacheable, origin, request_id)
            elif message["type"] == "http.response.body":
                state["bytes"] = int(state["bytes"]) + len(message.get("body", b""))
                if head and message.get("body"):
                    # GET's headers (Content-Length too, RFC 9110 9.3.2), never a body
                    message = {**message, "body": b""}
            await send(message)

        try:
            if "\x00" in path or b"%00" in scope.get("query_string", b""):
                # no SDMX id, period, value or token holds U+0000 (nor can PostgreSQL's text)
                nul = QuerySyntaxError("the request's path or query holds a NUL character (%00)")
                await self._error(scope, headers, wrapped_send, nul)
            else:
                await self.app(scope, receive, wrapped_send)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if state["started"]:
                raise
            await self._internal_error(scope, headers, wrapped_send)
        finally:
            self._log(scope, state, start, request_id)

    def _own_headers(
        self, out: MutableHeaders, cacheable: bool, origin: str | None, request_id: str
    ) -> None:
        if cacheable:
            _vary_on_encoding(out)
        self._cors_headers(out, origin)
        out["X-Request-ID"] = request_id

    def _cors_headers(self, out: MutableHeaders, origin: str | None) -> None:
        allowed = self._allow_origin(origin)
        if allowed is None:
            return
        out["Access-Control-Allow-Origin"] = allowed
        out["Access-Control-Expose-Headers"] = EXPOSED
        if allowed != "*":
            out.add_vary_header("Origin")

    async def _preflight(self, headers: Headers, send: Send) -> None:
        out = MutableHeaders()
        self._cors_headers(out, headers.get("origin"))
        out["Access-Control-Allow-Methods"] = METHODS
        requested = headers.get("access-control-request-headers")
        out["Access-Control-Allow-Headers"] = requested or "Accept, Accept-Language, Authorization"
        out["Access-Control-Max-Age"] = "86400"
        out["Content-Length"] = "0"
        await send({"type": "http.response.start", "status": 204, "headers": out.raw})
        await send({"type": "http.response.body", "body": b""})

    async def _internal_error(self, scope: Scope, headers: Headers, send: Send) -> None:
        error = InternalError("the service failed to answer; the failure has been logged")
        await self._error(scope, headers, send, error)

    async def _error(self, scope: Scope, headers: Headers, send: Send, error: SdmxError) -> None:
        """``error`` as an SDMX error message in the format the request asks for."""
        query = scope.get("query_string", b"").decode(errors="replace")
        fmt = parse_qs(query).get("format", [None])[0]
        body, media_type = render_error(
            error, scope["path"], headers.get("accept"), fmt, self.sender
        )
        raw = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": error.http_status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], start: float, request_id: str) -> None:
        client = scope.get("client")
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode(errors="replace"),
                "status": state["status"],
                "bytes": state["bytes"],
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "client": client[0] if client else None,
                "request_id": request_id,
            },
        )


def _set_header(scope: Scope, name: bytes, value: str) -> None:
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != name] + [
        (name, value.encode("latin-1"))
    ]


def _vary_on_encoding(headers: MutableHeaders) -> None:
    """``Vary`` with ``Accept-Encoding``, each name once: GZipMiddleware adds it only to what
    it compresses or could have (large bodies), after what a route may have said already."""
    named: dict[str, str] = {}
    for value in headers.getlist("vary"):
        for name in value.split(","):
            if name.strip():
                named.setdefault(name.strip().lower(), name.strip())
    if "*" not in named:
        named.setdefault("accept-encoding", "Accept-Encoding")
    headers["Vary"] = ", ".join(named.values())
