"""Benchmark: loading big data messages into PostgreSQL with full validation.

Run:  .venv/bin/python -m bench.upload [--postgres URL] [--sizes 1000000,5000000] [--xml-size N]

For each size, the demo generator writes an SDMX-CSV 2.0 message (and, at ``--xml-size``, an
SDMX-ML 2.1 structure-specific one) for DF_ILMS_A03; each is loaded into a fresh PostgreSQL
schema in a child process (the same code path as ``ilms data load``), timing it and reading the
child's peak RSS. Targets (issue 3): CSV >= 200,000 obs/s, SDMX-ML >= 100,000 obs/s, peak RSS
<= 300 MB and the same at 1 M and 5 M observations. In the same run, two comparisons:

- the roof: PostgreSQL ``COPY`` of the same CSV file into an equivalent table without indexes;
- a peer: the time sdmx1's ``sdmx.read_sdmx`` takes just to parse the same SDMX-ML file.

Results are printed and written to bench/results/upload.json. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
FLOW = "DF_ILMS_A03"
console = Console()

CHILD = """
import json, sys, time
from service.db import make_engine, session_factory
from service.settings import Settings
from service.usecases.ingest import Upload, ingest
url, path, media, flow = sys.argv[1:5]
engine = make_engine(Settings(database_url=url))
with open(path, "rb") as body:
    upload = Upload(agency="ILO", flow_id=flow, version="1.0", body=body, media_type=media,
                    content_sha256="bench", size_bytes=0)
    start = time.perf_counter()
    outcome = ingest(session_factory(engine), upload)
    seconds = time.perf_counter() - start
print(json.dumps({"status": outcome.status, "rows": outcome.rows, "seconds": seconds,
                  "problems": outcome.report.counts}))
"""

PEER = """
import sys, time
import sdmx
start = time.perf_counter()
message = sdmx.read_sdmx(sys.argv[1])
print(time.perf_counter() - start)
"""


def fresh_schema(base_url: str, schema: str) -> str:
    """A URL on an empty schema holding the migrated store and the shipped structures."""
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    sys.path.insert(0, str(ROOT))
    from tests.conftest import prepare  # the same preparation the tests use

    prepare(url)
    return url


def run_child(code: str, *args: str) -> tuple[str, int, float]:
    """Run ``code`` in a child interpreter; its stdout, peak RSS in MB and CPU seconds (user
    and system: on a busy machine the elapsed time says less)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env, cwd=ROOT
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {out[-2000:]}")
    return out, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def load(base_url: str, path: Path, media: str, label: str) -> dict[str, Any]:
    url = fresh_schema(base_url, "ilms_bench_upload")
    with console.status(f"loading {label}…"):
        out, rss, cpu = run_child(CHILD, url, str(path), media, FLOW)
    found = json.loads(out.strip().splitlines()[-1])
    if found["status"] != "accepted":
        raise RuntimeError(f"{label} was not accepted: {found}")
    rows, seconds = found["rows"], found["seconds"]
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "obs_per_s": round(rows / seconds),
        "peak_rss_mb": rss,
        "child_cpu_s": round(cpu, 2),
    }


def roof(base_url: str, path: Path) -> dict[str, Any]:
    """PostgreSQL COPY of the same CSV into a table of text columns without indexes."""
    import psycopg

    dsn = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn, path.open("rb") as source:
        columns = source.readline().decode().strip().split(",")
        conn.execute("DROP TABLE IF EXISTS bench_roof")
        cols = ", ".join(f"c{i} text" for i in range(len(columns)))
        conn.execute(f"CREATE UNLOGGED TABLE bench_roof ({cols})")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_roof FROM STDIN (FORMAT csv)") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM bench_roof").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE bench_roof")
    return {"rows": rows, "seconds": round(seconds, 2), "obs_per_s": round(rows / seconds)}


def peer(path: Path) -> dict[str, Any]:
    with console.status("sdmx1 parsing the SDMX-ML file…"):
        out, rss, _ = run_child(PEER, str(path))
    return {"seconds": round(float(out.strip().splitlines()[-1]), 2), "peak_rss_mb": rss}


def generate(size: int, fmt: str, folder: Path) -> Path:
    from service.demo.generate import generate as write

    path = folder / f"{FLOW}-{size}.{fmt}"
    with console.status(f"generating {size:,} observations as {fmt}…"):
        write(size, fmt, path, FLOW)  # type: ignore[arg-type]
    return path


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A benchmark's arguments, described by the first line of ``doc``: ``--postgres``, the
    tests' PostgreSQL by default."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "ILMS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    return parser


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--xml-size", type=int, default=1_000_000)
    parser.add_argument("--no-peer", action="store_true", help="skip the sdmx1 comparison")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "csv": {},
        "targets": {"csv_obs_per_s": 200_000, "xml_obs_per_s": 100_000, "peak_rss_mb": 300},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            path = generate(size, "csv", folder)
            results["csv"][size] = load(
                args.postgres, path, "application/vnd.sdmx.data+csv", f"{size:,} CSV"
            )
            if size == min(int(s) for s in args.sizes.split(",")):
                results["roof"] = roof(args.postgres, path)
            path.unlink()
        xml = generate(args.xml_size, "xml", folder)
        results["xml"] = load(args.postgres, xml, "application/xml", f"{args.xml_size:,} SDMX-ML")
        if not args.no_peer:
            results["peer_sdmx1_parse"] = peer(xml)
    report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "upload.json").write_text(json.dumps(results, indent=2))
    console.print(f"written to {out / 'upload.json'}")


def report(results: dict[str, Any]) -> None:
    table = Table(title="Upload into PostgreSQL with full validation (DF_ILMS_A03)")
    for col in ("load", "observations", "seconds", "obs/s", "CPU s", "peak RSS MB", "target"):
        table.add_column(col)
    for size, r in results["csv"].items():
        table.add_row(
            "SDMX-CSV 2.0",
            f"{size:,}",
            str(r["seconds"]),
            f"{r['obs_per_s']:,}",
            str(r["child_cpu_s"]),
            str(r["peak_rss_mb"]),
            ">= 200,000 obs/s, <= 300 MB",
        )
    x = results["xml"]
    table.add_row(
        "SDMX-ML 2.1 SS",
        f"{x['rows']:,}",
        str(x["seconds"]),
        f"{x['obs_per_s']:,}",
        str(x["child_cpu_s"]),
        str(x["peak_rss_mb"]),
        ">= 100,000 obs/s, <= 300 MB",
    )
    console.print(table)
    roof_r = results["roof"]
    first = next(iter(results["csv"].values()))
    console.print(
        f"roof: PostgreSQL COPY of the same CSV, no indexes: {roof_r['obs_per_s']:,} rows/s; "
        f"ours is {first['obs_per_s'] / roof_r['obs_per_s']:.2f} of the roof"
    )
    if "peer_sdmx1_parse" in results:
        p = results["peer_sdmx1_parse"]
        ratio = p["seconds"] / x["seconds"]
        console.print(
            f"peer: sdmx1 read_sdmx alone parses the SDMX-ML file in {p['seconds']} s "
            f"(peak RSS {p['peak_rss_mb']} MB); our full load (parse, validate, store) "
            f"takes {x['seconds']} s: sdmx1's parse / our load = {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
