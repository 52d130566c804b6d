"""Benchmark: structure responses on a warm server, and a fresh start (migrate + load).

Run:  .venv/bin/python -m bench.structures [--postgres URL] [--requests 200]

Targets (issue 2): a dataflow with references=all at p50 <= 20 ms; CL_AREA in SDMX-JSON 2.0 at
p50 <= 15 ms; a fresh start in <= 10 s on SQLite and on PostgreSQL. Each scenario runs twice: with
the per-worker response cache (what production does) and with it off (every request rebuilt
from the store), so the cost of a cold query is on record too. Results are printed and written
to bench/results/structures.json. Timings are wall-clock on this machine: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, text

from tests.live import launch, stop

ROOT = Path(__file__).resolve().parents[1]
console = Console()

SCENARIOS = {
    "dataflow references=all (SDMX-ML 2.1)": (
        "/rest/dataflow/ILO/DF_ILMS_A05/latest?references=all",
        {},
        20.0,
    ),
    "CL_AREA (SDMX-JSON 2.0)": (
        "/rest/v2/structure/codelist/ILO/CL_AREA/~",
        {"Accept": "application/vnd.sdmx.structure+json;version=2.0.0"},
        15.0,
    ),
    "CL_SEX (SDMX-ML 2.1)": ("/rest/codelist/ILO/CL_SEX/latest", {}, None),
}


def fresh_start(url: str) -> float:
    """Seconds for `migrate, then load every shipped structure` into an empty store."""
    env = {**os.environ, "ILMS_DATABASE_URL": url, "ILMS_LOG_JSON": "false"}
    code = (
        "import time;t=time.perf_counter();"
        "from service.cli import prepare_store;from service.settings import get_settings;"
        "prepare_store(get_settings());print(time.perf_counter()-t)"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


@contextmanager
def server(url: str, cache_size: int) -> Iterator[str]:
    """The service on a free loopback port (the tests' launcher), with its cache size."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = {"ILMS_RESPONSE_CACHE_SIZE": str(cache_size)}
        proc, base = launch(url, Path(tmp) / "server.log", cache)
        try:
            yield base
        finally:
            stop(proc)


def measure(base: str, path: str, headers: dict[str, str], n: int, progress: Progress) -> dict:
    task = progress.add_task(path[:60], total=n)
    times: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(5):  # warm-up
            client.get(path).raise_for_status()
        for _ in range(n):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            progress.advance(task)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
        "p99_ms": round(times[int(0.99 * len(times)) - 1], 2),
        "bytes": len(response.content),
    }


def reset_postgres(url: str) -> str:
    schema = "ilms_bench"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def run_store(name: str, url: str, n: int, results: dict) -> None:
    seconds = fresh_start(url)
    results[name] = {"fresh_start_s": round(seconds, 2), "target_s": 10.0, "requests": {}}
    for cache in (512, 0):
        with server(url, cache) as base, Progress(console=console, transient=True) as progress:
            for label, (path, headers, _target) in SCENARIOS.items():
                key = f"{label}, cache {'on' if cache else 'off'}"
                results[name]["requests"][key] = measure(base, path, headers, n, progress)


def report(results: dict) -> None:
    for store, found in results.items():
        table = Table(title=f"{store}: fresh start {found['fresh_start_s']} s (target <= 10 s)")
        for col in ("scenario", "p50 ms", "p95 ms", "p99 ms", "bytes", "target p50"):
            table.add_column(col)
        for key, r in found["requests"].items():
            target = next(
                (t for label, (_, _, t) in SCENARIOS.items() if key.startswith(label)), None
            )
            table.add_row(
                key,
                str(r["p50_ms"]),
                str(r["p95_ms"]),
                str(r["p99_ms"]),
                str(r["bytes"]),
                f"<= {target}" if target else "-",
            )
        console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("ILMS_TEST_DATABASE_URL"))
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        run_store("SQLite", f"sqlite:///{tmp}/bench.db", args.requests, results)
    if args.postgres:
        run_store("PostgreSQL", reset_postgres(args.postgres), args.requests, results)
    report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "structures.json").write_text(json.dumps(results, indent=2))
    console.print(f"written to {out / 'structures.json'}")


if __name__ == "__main__":
    main()
