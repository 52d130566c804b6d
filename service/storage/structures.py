"""The structure repository: stores maintainable artefacts and answers look-ups on them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from threading import Lock

import msgspec
from sqlalchemy import Engine, delete, func, select, tuple_
from sqlalchemy.orm import Session

from service.model import Artefact, Ref, artefact_class
from service.model.types import StructureType, structure_type
from service.storage.tables import ArtefactRow, DatasetRow, ReferenceRow, as_utc

ArtefactKey = tuple[StructureType, str, str, str]  # type, agency, id, version

_DECODER = msgspec.json.Decoder(Artefact)
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the store knows about an artefact without decoding its body."""

    pk: int
    type: StructureType
    agency: str
    id: str
    version: str
    is_final: bool
    content_hash: str

    @property
    def key(self) -> ArtefactKey:
        return (self.type, self.agency, self.id, self.version)


@dataclass(frozen=True, slots=True)
class StoreState:
    """A cheap fingerprint of the whole structure store, for caching and ETags."""

    count: int
    last_modified: dt.datetime | None

    @property
    def tag(self) -> str:
        stamp = self.last_modified.isoformat() if self.last_modified else "-"
        return f"{self.count}:{stamp}"


@dataclass(frozen=True, slots=True)
class SaveResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class _DecodedCache:
    """Decoded artefacts by content hash: bodies are immutable, so a hash never goes stale."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, Artefact] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, content_hash: str) -> Artefact | None:
        with self._lock:
            found = self._items.get(content_hash)
            if found is not None:
                self._items.move_to_end(content_hash)
            return found

    def put(self, content_hash: str, artefact: Artefact) -> None:
        with self._lock:
            self._items[content_hash] = artefact
            if len(self._items) > self._size:
                self._items.popitem(last=False)


_CACHE = _DecodedCache()


def key_of(artefact: Artefact) -> ArtefactKey:
    return (structure_type(artefact), artefact.agency, artefact.id, artefact.version)


def ref_key(ref: Ref) -> ArtefactKey | None:
    """The stored-artefact key a maintainable reference points at (None: a type we don't store)."""
    try:
        cls = artefact_class(ref.cls)
    except ValueError:
        return None
    return (structure_type_of(cls), ref.agency, ref.id, ref.version)


def structure_type_of(cls: type[Artefact]) -> StructureType:
    return StructureType(str(cls.__struct_config__.tag))


def encode(artefact: Artefact) -> tuple[str, str]:
    body = _ENCODER.encode(artefact)
    return body.decode(), hashlib.sha256(body).hexdigest()


class StructureRepository:
    """All SQL on structures. Never commits: the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def index(self, types: Iterable[StructureType] | None = None) -> list[IndexEntry]:
        stmt = select(
            ArtefactRow.pk,
            ArtefactRow.type,
            ArtefactRow.agency,
            ArtefactRow.artefact_id,
            ArtefactRow.version,
            ArtefactRow.is_final,
            ArtefactRow.content_hash,
        )
        if types is not None:
            stmt = stmt.where(ArtefactRow.type.in_([t.value for t in types]))
        return [
            IndexEntry(r[0], StructureType(r[1]), r[2], r[3], r[4], r[5], r[6])
            for r in self.session.execute(stmt)
        ]

    def load(self, entries: Sequence[IndexEntry]) -> dict[int, Artefact]:
        """The decoded artefacts of ``entries``, by primary key."""
        found: dict[int, Artefact] = {}
        missing: dict[int, str] = {}
        for entry in entries:
            cached = _CACHE.get(entry.content_hash)
            if cached is None:
                missing[entry.pk] = entry.content_hash
            else:
                found[entry.pk] = cached
        if missing:
            rows = self.session.execute(
                select(ArtefactRow.pk, ArtefactRow.body).where(ArtefactRow.pk.in_(list(missing)))
            )
            for pk, body in rows:
                artefact = _DECODER.decode(body)
                _CACHE.put(missing[pk], artefact)
                found[pk] = artefact
        return found

    def referencing(self, keys: Iterable[ArtefactKey]) -> set[int]:
        """Primary keys of the artefacts that refer to any of ``keys``."""
        wanted = [(t.value, a, i, v) for t, a, i, v in keys]
        if not wanted:
            return set()
        target = tuple_(
            ReferenceRow.target_type,
            ReferenceRow.target_agency,
            ReferenceRow.target_id,
            ReferenceRow.target_version,
        )
        pks: set[int] = set()
        for chunk_start in range(0, len(wanted), 200):
            chunk = wanted[chunk_start : chunk_start + 200]
            stmt = select(ReferenceRow.source_pk).where(target.in_(chunk))
            pks.update(self.session.scalars(stmt))
        return pks

    def state(self) -> StoreState:
        count, last = self.session.execute(
            select(func.count(ArtefactRow.pk), func.max(ArtefactRow.updated_at))
        ).one()
        return StoreState(int(count), as_utc(last))

    def state_and_dataset(
        self, dsd: tuple[str, str, str]
    ) -> tuple[StoreState, tuple[int, dt.datetime | None] | None]:
        """``state()`` and the data set of a DSD (agency, id, version) with when it last
        changed (None before its first upload), in one statement: what every data query
        answered from a cache must still ask.

        On PostgreSQL, before the session has begun a transaction, it is asked outside one
        (autocommit): an answer from the cache then costs two round trips (the pool's ping and
        this), not four (BEGIN and ROLLBACK too), and PostgreSQL spends that much less too."""
        agency, dsd_id, version = dsd
        dataset = (
            select(DatasetRow.pk, DatasetRow.last_changed)
            .where(
                DatasetRow.agency == agency,
                DatasetRow.dsd_id == dsd_id,
                DatasetRow.version == version,
            )
            .subquery()
        )
        statement = select(
            select(func.count(ArtefactRow.pk)).scalar_subquery(),
            select(func.max(ArtefactRow.updated_at)).scalar_subquery(),
            select(dataset.c.pk).scalar_subquery(),
            select(dataset.c.last_changed).scalar_subquery(),
        )
        bind = self.session.get_bind()
        if (
            isinstance(bind, Engine)
            and bind.dialect.name == "postgresql"
            and not self.session.in_transaction()
        ):
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                count, last, pk, changed = conn.execute(statement).one()
        else:
            count, last, pk, changed = self.session.execute(statement).one()
        found = None if pk is None else (int(pk), as_utc(changed))
        return StoreState(int(count), as_utc(last)), found

    def save(self, artefacts: Sequence[Artefact], *, replace: bool = True) -> SaveResult:
        """Insert new artefacts; update changed ones when ``replace`` (else leave them)."""
        existing = {e.key: e for e in self.index()}
        now = dt.datetime.now(dt.UTC)
        inserted = updated = unchanged = 0
        # one artefact once: files of one load may repeat one (the last copy counts)
        for artefact in {key_of(a): a for a in artefacts}.values():
            body, digest = encode(artefact)
            current = existing.get(key_of(artefact))
            if current is None:
                self._insert(artefact, body, digest, now)
                inserted += 1
            elif current.content_hash == digest or not replace:
                unchanged += 1
            else:
                self._update(current.pk, artefact, body, digest, now)
                updated += 1
        self.session.flush()
        return SaveResult(inserted, updated, unchanged)

    def delete(self, key: ArtefactKey) -> bool:
        t, agency, artefact_id, version = key
        result = self.session.execute(
            delete(ArtefactRow).where(
                ArtefactRow.type == t.value,
                ArtefactRow.agency == agency,
                ArtefactRow.artefact_id == artefact_id,
                ArtefactRow.version == version,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _insert(self, artefact: Artefact, body: str, digest: str, now: dt.datetime) -> None:
        row = ArtefactRow(
            type=structure_type(artefact).value,
            agency=artefact.agency,
            artefact_id=artefact.id,
            version=artefact.version,
            is_final=artefact.is_final,
            body=body,
            content_hash=digest,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        self._write_references(row.pk, artefact)

    def _update(
        self, pk: int, artefact: Artefact, body: str, digest: str, now: dt.datetime
    ) -> None:
        row = self.session.get_one(ArtefactRow, pk)
        row.is_final = artefact.is_final
        row.body = body
        row.content_hash = digest
        row.updated_at = now
        self.session.execute(delete(ReferenceRow).where(ReferenceRow.source_pk == pk))
        self._write_references(pk, artefact)

    def _write_references(self, pk: int, artefact: Artefact) -> None:
        keys = {k for k in (ref_key(r) for r in artefact.references()) if k is not None}
        self.session.add_all(
            ReferenceRow(
                source_pk=pk,
                target_type=t.value,
                target_agency=a,
                target_id=i,
                target_version=v,
            )
            for t, a, i, v in sorted(keys)
        )
