"""The ``ilms`` command: serve, migrate, and load or regenerate the SDMX structures."""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.settings import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from service.storage.loader import LoadReport

app = typer.Typer(help="ilms-sdmx: the SDMX service for ILO labour migration statistics.")
db_app = typer.Typer(help="Database schema.")
structures_app = typer.Typer(help="SDMX structural metadata.")
app.add_typer(db_app, name="db")
app.add_typer(structures_app, name="structures")
token_app = typer.Typer(help="API tokens for writing (data providers and admins).")
app.add_typer(token_app, name="token")
data_app = typer.Typer(help="Data: load or validate SDMX data messages.")
app.add_typer(data_app, name="data")
demo_app = typer.Typer(help="Synthetic demonstration data (never official statistics).")
app.add_typer(demo_app, name="demo")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


class CountingReader:
    """Wraps a binary stream and counts the bytes read through it (for the progress bar)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readable(self) -> bool:
        return True


def _digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a data file's (unpacked) content: what the submission records."""
    digest = hashlib.sha256()
    size = 0
    with open_data_file(path) as (stream, _name, _size):
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def open_data_file(path: Path) -> Iterator[tuple[IO[bytes], str, int]]:
    """A data file's bytes (.gz and single-member .zip unpacked), its inner name and size."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise _fail(f"{path} holds {len(members)} files; give a zip with exactly one")
            with archive.open(members[0]) as stream:
                yield stream, members[0].filename, members[0].file_size
        return
    if path.suffix.lower() == ".gz":
        with gzip.open(path, "rb") as gz:
            yield gz, path.name, 0  # type: ignore[misc]
        return
    with path.open("rb") as stream:
        yield stream, path.name, path.stat().st_size


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]Error:[/red] {message}")
    return typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store (ILMS_DATABASE_URL) to the latest schema."""
    from service.db import make_engine
    from service.storage.migrate import current_revision, upgrade

    settings = _settings()
    engine = make_engine(settings)
    try:
        upgrade(engine)
        out.print(f"Store {engine.url.render_as_string()} at migration {current_revision(engine)}")
    except Exception as exc:
        raise _fail(f"could not migrate {engine.url.render_as_string()}: {exc}") from exc
    finally:
        engine.dispose()


@structures_app.command("load")
def structures_load(
    paths: Annotated[list[Path], typer.Argument(help="SDMX-ML 2.1/3.0 structure files or folders")],
) -> None:
    """Load SDMX-ML 2.1 or 3.0 structure messages into the store (insert or replace)."""
    from service.db import make_engine
    from service.storage.migrate import upgrade

    settings = _settings()
    engine = make_engine(settings)
    try:
        upgrade(engine)
        report = _load(engine, paths, replace=True)
    finally:
        engine.dispose()
    out.print(
        f"{report.files} files, {report.artefacts} artefacts: {report.inserted} inserted, "
        f"{report.updated} updated, {report.unchanged} unchanged"
    )
    for note in report.skipped:
        err.print(f"[yellow]skipped[/yellow] {note}")


def _load(engine: Engine, paths: list[Path], *, replace: bool) -> LoadReport:
    from service.formats.readers.sdmx_ml_structure import StructureReadError
    from service.storage.loader import load_paths, structure_files

    try:
        files = structure_files(paths)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    with _progress() as progress, Session(engine) as session:
        task = progress.add_task("Reading structures", total=len(files))
        try:
            report = load_paths(
                session, files, replace=replace, progress=lambda _p: progress.advance(task)
            )
            session.commit()
        except StructureReadError as exc:
            raise _fail(str(exc)) from exc
    return report


@structures_app.command("import-ilo")
def structures_import_ilo(
    source: Annotated[Path, typer.Argument(help="A real ILOSTAT SDMX-ML 2.1 structure message")],
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write")] = PROJECT_ROOT
    / "codelists",
) -> None:
    """Regenerate codelists/ (ILOSTAT's codelists and concept schemes) from an ILOSTAT message."""
    from service.ilo_import import import_ilo

    if not source.is_file():
        raise _fail(f"no file at {source}")
    written = import_ilo(source, out_dir)
    out.print(f"Wrote {len(written)} files to {out_dir}")


@structures_app.command("build-ilms")
def structures_build_ilms(
    codelists: Annotated[Path, typer.Option(help="The codelists folder")] = PROJECT_ROOT
    / "codelists",
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write")] = PROJECT_ROOT / "dsd",
) -> None:
    """Regenerate dsd/ (the ILMS DSDs, dataflows, constraints, schemes) from the modelling."""
    from service.ilms.build import write_dsd_dir

    written = write_dsd_dir(codelists, out_dir)
    out.print(f"Wrote {len(written)} files to {out_dir}")


def _session() -> Session:
    from service.db import make_engine
    from service.storage.migrate import upgrade

    engine = make_engine(_settings())
    upgrade(engine)
    return Session(engine, expire_on_commit=False)


def _check_provider(session: Session, provider: str) -> None:
    """``AGENCY:PROVIDER_ID`` must name a data provider in a stored data provider scheme."""
    from service.model import DataProviderScheme
    from service.model.types import StructureType
    from service.storage.structures import StructureRepository

    agency, _, provider_id = provider.partition(":")
    if not agency or not provider_id:
        raise _fail(f"--provider takes AGENCY:PROVIDER_ID (e.g. ILO:THA), not {provider!r}")
    repo = StructureRepository(session)
    entries = [e for e in repo.index([StructureType.DATAPROVIDERSCHEME]) if e.agency == agency]
    for scheme in repo.load(entries).values():
        if isinstance(scheme, DataProviderScheme) and scheme.item(provider_id) is not None:
            return
    raise _fail(f"no data provider {provider_id} in {agency}'s data provider scheme")


@token_app.command("create")
def token_create(
    provider: Annotated[
        str | None, typer.Option(help="The data provider it acts for: AGENCY:PROVIDER_ID")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An admin token")] = False,
    label: Annotated[str | None, typer.Option(help="A note to recognise it by")] = None,
) -> None:
    """Create a token; it is printed once, alone on the last line of standard output."""
    from service.storage.tokens import TokenRepository

    if admin == (provider is not None):
        raise _fail("give exactly one of --provider AGENCY:PROVIDER_ID or --admin")
    session = _session()
    try:
        if provider is not None:
            _check_provider(session, provider)
        token, row = TokenRepository(session).create(provider=provider, is_admin=admin, label=label)
        session.commit()
    finally:
        session.close()
    who = "admin" if admin else f"provider {provider}"
    err.print(
        f"Created token {row.prefix}… for {who}. Keep it: it is not stored and not shown again."
    )
    print(token)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[
        str, typer.Argument(help="The token, or its prefix as `ilms token list` shows")
    ],
) -> None:
    """Revoke a token (given whole, or by its prefix)."""
    from service.storage.tokens import TokenRepository

    session = _session()
    try:
        count = TokenRepository(session).revoke(token)
        session.commit()
    finally:
        session.close()
    if count == 0:
        raise _fail("no active token matches")
    out.print(f"Revoked {count} token{'s' if count > 1 else ''}.")


@token_app.command("list")
def token_list() -> None:
    """List tokens (prefix, who, created, revoked): never the tokens themselves."""
    from service.storage.tokens import TokenRepository

    session = _session()
    try:
        rows = TokenRepository(session).list()
    finally:
        session.close()
    for row in rows:
        who = "admin" if row.is_admin else row.provider
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        out.print(
            f"{row.prefix}  {who}  created {row.created_at:%Y-%m-%d}  {state}  {row.label or ''}"
        )


_FLOW_REF = re.compile(r"^([A-Za-z][\w.-]*):([\w@$-]+)(?:\(([\w.+~*-]+)\))?$")


def _flow_ref(text: str) -> tuple[str, str, str]:
    found = _FLOW_REF.match(text.strip())
    if found is None:
        raise _fail(f"--dataflow takes AGENCY:ID(VERSION), e.g. ILO:DF_ILMS_A05(1.0); not {text!r}")
    agency, flow_id, version = found.groups()
    return agency, flow_id, version or "latest"


def _load_file(path: Path, dataflow: str, *, dry_run: bool) -> int:
    """Load (or only validate) one file; prints the report; returns the exit code."""
    from service.db import make_engine, session_factory
    from service.formats.readers.data import media_type_for_file
    from service.storage.migrate import upgrade
    from service.usecases.ingest import Upload, ingest

    if not path.is_file():
        raise _fail(f"no file at {path}")
    agency, flow_id, version = _flow_ref(dataflow)
    sha256, size = _digest(path)
    engine = make_engine(_settings())
    upgrade(engine)
    try:
        with open_data_file(path) as (stream, name, _), _progress() as progress:
            counted = CountingReader(stream)
            read = progress.add_task("Reading", total=size or None)
            obs = progress.add_task("Observations", total=None)

            def advance(rows: int) -> None:
                progress.update(read, completed=counted.count)
                progress.update(obs, completed=rows)

            upload = Upload(
                agency=agency,
                flow_id=flow_id,
                version=version,
                body=counted,  # type: ignore[arg-type]
                media_type=media_type_for_file(name),
                content_sha256=sha256,
                size_bytes=size,
                dry_run=dry_run,
            )
            outcome = ingest(session_factory(engine), upload, progress=advance)
            progress.update(read, completed=counted.count)
    finally:
        engine.dispose()
    return _print_outcome(outcome)


def _print_outcome(outcome: Any) -> int:
    counts = outcome.counts.as_dict()
    if outcome.status in ("accepted", "dry_run"):
        verb = "Accepted" if outcome.status == "accepted" else "Valid (dry run, nothing written)"
        changes = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v)
        seconds = outcome.duration_ms / 1000
        out.print(f"{verb}: {outcome.dataflow}, {outcome.rows} rows in {seconds:.1f}s; {changes}")
        if outcome.submission_id is not None:
            out.print(f"Submission {outcome.submission_id}")
        return 0
    out.print(f"[red]Rejected[/red]: {outcome.dataflow or 'the upload'}; nothing was written.")
    if outcome.error is not None:
        out.print(outcome.error.message)
    out.print(outcome.report.to_text())
    return 1


@data_app.command("load")
def data_load(
    file: Annotated[Path, typer.Argument(help="SDMX-ML, SDMX-CSV or SDMX-JSON; .gz or .zip too")],
    dataflow: Annotated[str, typer.Option(help="AGENCY:ID(VERSION), e.g. ILO:DF_ILMS_A05(1.0)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only")] = False,
) -> None:
    """Load a data message into a dataflow: all of it, or nothing if any row is invalid."""
    raise typer.Exit(_load_file(file, dataflow, dry_run=dry_run))


@data_app.command("validate")
def data_validate(
    file: Annotated[Path, typer.Argument(help="SDMX-ML, SDMX-CSV or SDMX-JSON; .gz or .zip too")],
    dataflow: Annotated[str, typer.Option(help="AGENCY:ID(VERSION), e.g. ILO:DF_ILMS_A05(1.0)")],
) -> None:
    """Validate a data message against a dataflow, writing nothing."""
    raise typer.Exit(_load_file(file, dataflow, dry_run=True))


def load_demo(settings: Settings) -> int:
    """Load the synthetic ILMS demo data set; the number of observations stored."""
    import tempfile

    from service.db import make_engine, session_factory
    from service.demo.ilms import write_demo
    from service.usecases.ingest import Upload, ingest

    engine = make_engine(settings)
    factory = session_factory(engine)
    total = 0
    try:
        with tempfile.TemporaryDirectory() as tmp, _progress() as progress:
            task = progress.add_task("Writing the demo files", total=None)
            files = write_demo(Path(tmp))
            progress.update(task, total=len(files), completed=0, description="Loading demo data")
            for flow_id, path in files:
                sha256, size = _digest(path)
                with path.open("rb") as body:
                    upload = Upload(
                        agency="ILO",
                        flow_id=flow_id,
                        version="1.0",
                        body=body,
                        media_type="application/vnd.sdmx.data+csv;version=2.0.0",
                        content_sha256=sha256,
                        size_bytes=size,
                        submitter="demo (synthetic data)",
                    )
                    outcome = ingest(factory, upload)
                if outcome.status != "accepted":
                    raise _fail(
                        f"the demo data for {flow_id} was refused:\n{outcome.report.to_text()}"
                    )
                total += outcome.counts.observations_inserted
                progress.advance(task)
    finally:
        engine.dispose()
    return total


def _has_data(settings: Settings) -> bool:
    from sqlalchemy import func, select

    from service.db import make_engine
    from service.storage.tables import ObservationRow

    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            return bool(session.scalar(select(func.count()).select_from(ObservationRow)))
    finally:
        engine.dispose()


def demo_allowed(settings: Settings, force: bool) -> bool:
    """Synthetic data goes into the embedded SQLite store only, unless forced on purpose."""
    return force or settings.demo_data == "force" or settings.is_sqlite


@demo_app.command("load")
def demo_load(
    force: Annotated[
        bool, typer.Option("--force", help="Load it into a PostgreSQL store too (on purpose)")
    ] = False,
) -> None:
    """Load the deterministic synthetic ILMS data set (ten ASEAN states, 2010-2024)."""
    from service.db import make_engine
    from service.storage.migrate import upgrade

    settings = _settings()
    if not demo_allowed(settings, force):
        raise _fail(
            "refusing to put synthetic demo data into a PostgreSQL store; it goes into the "
            "embedded SQLite store only. Pass --force if this store is a throw-away one."
        )
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    count = load_demo(settings)
    out.print(f"Loaded {count:,} synthetic demo observations (SOURCE says so on every one).")


@demo_app.command("generate")
def demo_generate(
    out_file: Annotated[Path, typer.Argument(help="Where to write the message")],
    observations: Annotated[int, typer.Option(min=1, help="How many observations")] = 1_000_000,
    fmt: Annotated[str, typer.Option("--format", help="csv, xml or json")] = "csv",
    dataflow: Annotated[str, typer.Option(help="The ILMS dataflow id")] = "DF_ILMS_A03",
) -> None:
    """Write a big synthetic message (SDMX-CSV 2.0, SDMX-ML 2.1 structure-specific or SDMX-JSON
    2.0) for benchmarks."""
    from service.demo.generate import generate

    if fmt not in ("csv", "xml", "json"):
        raise _fail(f"--format is csv, xml or json, not {fmt!r}")
    with err.status(f"Writing {observations:,} observations…"):
        written = generate(observations, fmt, out_file, dataflow)  # type: ignore[arg-type]
    out.print(f"Wrote {written:,} bytes to {out_file}")


def prepare_store(settings: Settings) -> None:
    """Migrate, then load the shipped structures that the store does not have yet."""
    from service.db import make_engine
    from service.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        started = time.perf_counter()
        upgrade(engine)
        dirs = [d for d in settings.structure_dirs if d.is_dir()]
        report = _load(engine, dirs, replace=False)
        err.print(
            f"Store ready in {time.perf_counter() - started:.1f}s "
            f"({report.inserted} structures added, {report.unchanged} already there)"
        )
    finally:
        engine.dispose()


def _maybe_demo(settings: Settings, wanted: bool) -> None:
    """A fresh embedded store gets the synthetic demo data, so a newcomer sees data at once."""
    if not wanted or settings.demo_data == "never" or not demo_allowed(settings, force=False):
        return
    if _has_data(settings):
        return
    count = load_demo(settings)
    err.print(
        f"Loaded {count:,} SYNTHETIC demo observations (not official statistics); "
        "start with --no-demo or ILMS_DEMO_DATA=never to skip them."
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    prepare: Annotated[
        bool, typer.Option(help="Migrate and load the shipped structures first")
    ] = True,
    demo: Annotated[
        bool, typer.Option(help="Load the synthetic demo data into a fresh embedded store")
    ] = True,
) -> None:
    """Start the service (migrating and loading the shipped structures first)."""
    import uvicorn

    settings = _settings()
    if prepare:
        try:
            prepare_store(settings)
        except typer.Exit:
            raise
        except Exception as exc:
            raise _fail(f"could not prepare the store: {exc}") from exc
        _maybe_demo(settings, demo)
    err.print(f"Serving on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
