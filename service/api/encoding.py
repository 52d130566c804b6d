"""Content-coding negotiation (gzip), honouring q-values as RFC 9110 says."""

from __future__ import annotations


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (listed, or ``*``, without ``q=0``)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.replace(" ", "").removeprefix("q=")
            return not (params and q in ("0", "0.0", "0.00", "0.000"))
    return False


def without_refused_gzip(accept_encoding: str) -> str:
    """Accept-Encoding with gzip removed when the client refuses it (``gzip;q=0``).

    Starlette's GZipMiddleware only looks for the substring ``gzip``; this keeps it honest.
    """
    if accepts_gzip(accept_encoding):
        return accept_encoding
    kept = [p for p in accept_encoding.split(",") if p.split(";")[0].strip().lower() != "gzip"]
    return ",".join(kept) or "identity"
