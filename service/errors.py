"""Domain errors, each carrying its SDMX error code and HTTP status. No HTTP objects here.

Codes and statuses follow sdmx-rest ``doc/errors.md`` (v1: ``v2_1/ws/rest/docs/4_7_errors.md``).
"""

from __future__ import annotations

from typing import ClassVar


class SdmxError(Exception):
    """Base of every error the service reports as an SDMX error message."""

    code: ClassVar[int] = 500
    http_status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def message(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title


class NoResultsFound(SdmxError):
    code = 100
    http_status = 404
    title = "No Results Found"


class Unauthorized(SdmxError):
    code = 110
    http_status = 401
    title = "Unauthorized"


class Forbidden(SdmxError):
    """Authenticated, but not allowed to do this. sdmx-rest maps this to HTTP 403; SDMX has no
    code of its own for it, so it takes one from the custom range (1000 and up)."""

    code = 1403
    http_status = 403
    title = "Forbidden"


class ResponseTooLarge(SdmxError):
    code = 130
    http_status = 413
    title = "Response Too Large Due To Client Request"


class QuerySyntaxError(SdmxError):
    """The query is malformed (bad path, keyword or parameter value)."""

    code = 140
    http_status = 400
    title = "Syntax error"


class SemanticError(SdmxError):
    """The query is well formed but asks for something that makes no sense here.

    sdmx-rest maps 150 to HTTP 403 (Forbidden); some services use 400. We follow the standard.
    """

    code = 150
    http_status = 403
    title = "Semantic error"


class NotAcceptable(SdmxError):
    """No supported representation matches the request's Accept header or ``format``.
    sdmx-rest answers it with HTTP 406 (``doc/status.md``); the SDMX error codes have none of
    their own for it, so it takes one from the custom range (1000 and up), as Forbidden does."""

    code = 1406
    http_status = 406
    title = "Not Acceptable"


class NotImplementedYet(SdmxError):
    """A standard SDMX REST resource or feature this service does not implement."""

    code = 501
    http_status = 501
    title = "Not implemented"


class PayloadTooLarge(SdmxError):
    """A request body over the configured limit (counted after gzip decoding). SDMX's 130
    and 510 are about responses, so it takes a code from the custom range."""

    code = 1413
    http_status = 413
    title = "Payload too large"


class UnsupportedMediaType(SdmxError):
    """A request body in a format this resource does not take."""

    code = 140
    http_status = 415
    title = "Unsupported media type"


class UnreadableBody(SdmxError):
    """A request body that cannot be decoded (bad or truncated gzip...)."""

    code = 140
    http_status = 400
    title = "Unreadable request body"


class UnreadableMessage(SdmxError):
    """An SDMX message that cannot be read (malformed, truncated, unsafe): nothing is written."""

    code = 140
    http_status = 400
    title = "Unreadable data message"


class MethodNotAllowed(SdmxError):
    code = 140
    http_status = 405
    title = "Method not allowed"


class ResultTooLarge(SdmxError):
    code = 510
    http_status = 413
    title = "Response size exceeds service limit"


class ServiceUnavailable(SdmxError):
    code = 503
    http_status = 503
    title = "Service unavailable"


class InternalError(SdmxError):
    code = 500
    http_status = 500
    title = "Internal Server Error"
