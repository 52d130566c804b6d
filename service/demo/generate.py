"""Big synthetic ILMS data messages for benchmarks: SDMX-CSV 2.0, SDMX-ML 2.1, SDMX-JSON 2.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from service.demo.plan import Plan, generated_rows, plan
from service.demo.structures import IlmsStructures
from service.demo.writers import CHUNK_WRITERS

__all__ = ["Format", "Plan", "generate", "generated_rows", "plan"]

Format = Literal["csv", "xml", "json"]


def generate(
    observations: int,
    fmt: Format,
    out: Path | BinaryIO,
    flow: str = "DF_ILMS_A03",
    *,
    structures: IlmsStructures | None = None,
) -> int:
    """Writes a message of ``observations`` synthetic observations for ``flow``, streaming, in
    constant memory; returns the bytes written.

    ``fmt``: ``csv`` SDMX-CSV 2.0, ``xml`` SDMX-ML 2.1 structure-specific data, ``json``
    SDMX-JSON 2.0. ``out`` is a path (created or replaced) or a binary stream (left open).
    """
    writer = CHUNK_WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(CHUNK_WRITERS)}")
    chunks = writer(plan(observations, flow, structures))
    if isinstance(out, Path):
        with out.open("wb") as stream:
            return _write(chunks, stream)
    return _write(chunks, out)


def _write(chunks: Iterator[str], stream: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        data = chunk.encode()
        stream.write(data)
        written += len(data)
    return written
