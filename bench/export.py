"""Benchmark: exporting data from PostgreSQL through the SDMX data API, full and small queries.

Run:  .venv/bin/python -m bench.export [--postgres URL] [--sizes 1000000,5000000] [--quick]

For each size, the demo generator writes an SDMX-CSV 2.0 message of that many observations for
DF_ILMS_A03, loaded into a fresh PostgreSQL schema with ``bench.upload``'s helpers; the real
service then runs on it with 2 uvicorn workers on 127.0.0.1 (the tests' launcher). Targets
(issue 4, section 8):

- a full export of the dataflow, streamed by a client that discards the bytes (observations
  counted in the stream): SDMX-CSV 2.0 >= 500,000 observations/s, SDMX-ML 2.1
  structure-specific and SDMX-JSON 2.0 >= 250,000; first byte within 300 ms; the serving
  worker's peak RSS growth (sampled from /proc every 10 ms) <= 100 MB at 1 M and at 5 M;
- small queries (one series of about 20 observations; the generator's series have 15, in
  SDMX-JSON 2.0) from 32 concurrent clients: p50 <= 5 ms, p99 <= 30 ms, >= 800 requests/s.
  A closed loop (each client sends its next request when the last is answered) gives the
  throughput. With 32 requests always in flight its latency is tied to it (Little's law:
  p50 ~ 32 / rate, so 5 ms needs ~6,400 requests/s), so when it reaches 800/s an open loop
  at 800/s follows, whose latencies count from each request's scheduled time. The small
  queries run twice: against a server whose per-worker answer cache is off
  (``ILMS_DATA_CACHE_BYTES=0``: every query read from the store), and as configured by default
  (a repeated query on unchanged data comes from the cache; the 200 keys asked in turn are
  all kept after the warm-up). The client is aiohttp, the cheapest of the usual ones.

In the same run, two comparisons: the roof, PostgreSQL ``COPY (SELECT the same rows) TO
STDOUT`` read and discarded by psycopg; and a peer, sdmx1's ``sdmx.to_xml`` serialising an
sdmx1 StructureSpecificDataSet built from the same generated observations (at the smallest
size only: sdmx1 holds the whole message in memory; only the serialisation is timed).

Client, server and PostgreSQL share this machine's cores with whatever else runs: every
figure carries the load average, and the CPU time the workers spent (/proc), which says what
a figure cost the server whatever else ran. Results are printed and written to
bench/results/export.json. A benchmark, not a test.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from bench.upload import CHILD, FLOW, bench_parser, fresh_schema, generate, run_child
from tests.live import launch, stop

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "ilms_bench_export"
PATH = f"/rest/data/ILO,{FLOW},1.0"
#: Wide enough for the tables when the output is not a terminal.
console = Console(width=max(120, shutil.get_terminal_size().columns))

TARGETS = {
    "first_byte_ms": 300,
    "rss_growth_mb": 100,
    "small_p50_ms": 5.0,
    "small_p99_ms": 30.0,
    "small_rps": 800,
}
CLIENTS = 32
#: The small queries ask for SDMX-JSON 2.0, what a web application would.
SMALL_ACCEPT = "application/vnd.sdmx.data+json;version=2.0.0"


@dataclass(frozen=True)
class ExportFormat:
    """A format of the full export, its target and how its observations are counted."""

    label: str
    accept: str
    target_obs_per_s: int
    #: One match per observation (a literal, or a pattern); ``offset`` corrects for matches
    #: that are not observations (the CSV header line).
    marker: bytes | re.Pattern[bytes]
    offset: int = 0


EXPORTS = (
    ExportFormat("SDMX-CSV 2.0", "application/vnd.sdmx.data+csv;version=2.0.0", 500_000, b"\n", -1),
    ExportFormat(
        "SDMX-ML 2.1 SS",
        "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
        250_000,
        b"<Obs ",
    ),
    # Observations are keyed by their position in the series: ``"14":[value, ...]``.
    ExportFormat(
        "SDMX-JSON 2.0",
        "application/vnd.sdmx.data+json;version=2.0.0",
        250_000,
        re.compile(rb'"\d+":\['),
    ),
)

#: The rows a full export reads (``DataReads.observations`` on the current data of the flow's
#: data set), in the same order; the schema holds one data set, whose key goes in ``{}``.
ROOF_SQL = (
    "COPY (SELECT s.series_key, c.time_period, c.value, c.value_text, c.attrs, c.recorded_at "
    "FROM observation_current c JOIN series s ON s.pk = c.series_pk WHERE s.dataset_pk = {} "
    "ORDER BY s.series_key, c.time_period) TO STDOUT"
)
#: Series with the number of observations nearest to 20, spread over the table.
KEYS_SQL = (
    "SELECT s.series_key, count(*) FROM series s JOIN observation_current c "
    "ON c.series_pk = s.pk GROUP BY s.series_key "
    "ORDER BY abs(count(*) - 20), md5(s.series_key) LIMIT 200"
)

PEER = """
import itertools, json, sys, time
import sdmx
from sdmx.message import DataMessage
from sdmx.model import v21 as m
from service.demo.plan import SERIES_ATTRIBUTES, generated_rows, plan
size, flow = int(sys.argv[1]), sys.argv[2]
found = plan(size, flow)
d = found.flow.dsd
dsd = sdmx.read_sdmx(f"dsd/{d.agency}_{d.id}_{d.version}.xml").structure[d.id]
measure = dsd.measures.components[0]
attributes = {a.id: a for a in dsd.attributes.components}
def value(name, text):
    return m.AttributeValue(value=text, value_for=attributes[name])
start = time.perf_counter()
ds = m.StructureSpecificDataSet(structured_by=dsd)
count = 0
for _, rows in itertools.groupby(generated_rows(found), key=lambda r: tuple(r.key.values())):
    rows = list(rows)
    key = dsd.make_key(m.SeriesKey, dict(rows[0].key))
    key.attrib.update({n: value(n, rows[0].attrs[n]) for n in SERIES_ATTRIBUTES})
    ds.add_obs([m.Observation(dimension=m.Key(TIME_PERIOD=r.time), value=r.value,
                              value_for=measure,
                              attached_attribute={n: value(n, v) for n, v in r.attrs.items()
                                                  if n not in SERIES_ATTRIBUTES})
                for r in rows], key)
    count += len(rows)
built = time.perf_counter()
message = DataMessage(data=[ds], observation_dimension=dsd.dimensions.get("TIME_PERIOD"))
written = len(sdmx.to_xml(message))
done = time.perf_counter()
print(json.dumps({"observations": count, "build_s": built - start, "seconds": done - built,
                  "bytes": written}))
"""


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def store(base_url: str, size: int, folder: Path) -> tuple[str, dict[str, Any]]:
    """A fresh schema holding ``size`` generated observations: its URL and the load figures."""
    url = fresh_schema(base_url, SCHEMA)
    path = generate(size, "csv", folder)
    with console.status(f"loading {size:,} observations into PostgreSQL…"):
        out, _rss, _cpu = run_child(CHILD, url, str(path), "application/vnd.sdmx.data+csv", FLOW)
    path.unlink()
    found = json.loads(out.strip().splitlines()[-1])
    if found["status"] != "accepted" or found["rows"] != size:
        raise RuntimeError(f"the {size:,} observations were not loaded: {found}")
    return url, {"rows": found["rows"], "load_s": round(found["seconds"], 1)}


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def roof(url: str) -> dict[str, Any]:
    """PostgreSQL COPY of the rows a full export reads, to a client that discards them."""
    load = load_average()
    with psycopg.connect(_libpq(url)) as conn, conn.cursor() as cur:
        (dataset,) = conn.execute("SELECT pk FROM dataset").fetchall()
        start = time.perf_counter()
        rows = 0
        with cur.copy(ROOF_SQL.format(int(dataset[0]))) as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
        seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "obs_per_s": round(rows / seconds),
        "load_avg_1m": load,
    }


def small_query_keys(url: str) -> tuple[list[str], int]:
    """Real series keys from the store, and how many observations each has."""
    with psycopg.connect(_libpq(url)) as conn:
        found = conn.execute(KEYS_SQL).fetchall()
    return [row[0] for row in found], int(found[0][1])


# --- the server and its memory ---------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """The service under test: its base URL and the uvicorn supervisor's pid."""

    base: str
    supervisor: int

    def workers(self) -> list[int]:
        """The pids of its 2 workers; when uvicorn has killed one (its health check), the one
        that replaces it."""
        deadline = time.monotonic() + 60
        while len(pids := workers(self.supervisor)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        if len(pids) != 2:
            raise RuntimeError(f"expected 2 uvicorn workers, found {pids}")
        return pids


@contextmanager
def server(
    url: str, healthcheck: int | None, extra: dict[str, str] | None = None
) -> Iterator[Server]:
    """The service with 2 uvicorn workers on a free loopback port (``UVICORN_*`` variables are
    uvicorn's own settings for its options; ``healthcheck``: its worker health-check timeout,
    None for its default; ``extra``: more settings, e.g. ``ILMS_DATA_CACHE_BYTES``)."""
    settings = {"UVICORN_WORKERS": "2", **(extra or {})}
    if healthcheck is not None:
        settings["UVICORN_TIMEOUT_WORKER_HEALTHCHECK"] = str(healthcheck)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        proc, base = launch(url, log, settings)
        try:
            found = Server(base, proc.pid)
            found.workers()
            yield found
        except Exception:
            console.print(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(proc)


def workers(parent: int) -> list[int]:
    """The worker processes uvicorn spawned (multiprocessing's resource tracker aside)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
_TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_MB


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used: with the machine shared, this says
    what a figure cost the server, whatever else ran."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


class RssSampler:
    """Samples the workers' RSS every 10 ms in a thread; ``growth()`` is the largest rise of a
    worker over its RSS when sampling started."""

    def __init__(self, pids: list[int]) -> None:
        self.baseline = {pid: rss_mb(pid) for pid in pids}
        self.peak = dict(self.baseline)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(0.01):
            for pid, peak in self.peak.items():
                with suppress(OSError):  # a worker uvicorn has killed
                    self.peak[pid] = max(peak, rss_mb(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def growth(self) -> float:
        return max(self.peak[pid] - self.baseline[pid] for pid in self.peak)


# --- full exports ------------------------------------------------------------------------------


class ObservationCounter:
    """Counts a format's observation marker across chunk boundaries (the marker cannot overlap
    itself, so matches in the carried tail are counted once)."""

    def __init__(self, marker: bytes | re.Pattern[bytes]) -> None:
        self.marker = marker
        self.tail = b""
        self.count = 0

    def _matches(self, data: bytes) -> int:
        if isinstance(self.marker, bytes):
            return data.count(self.marker)
        return sum(1 for _ in self.marker.finditer(data))

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        self.count += self._matches(data) - self._matches(self.tail)
        self.tail = data[-32:]


def export(base: str, fmt: ExportFormat, pids: list[int]) -> dict[str, Any]:
    """One full export, streamed and discarded: observations counted, first byte, RSS."""
    load = load_average()
    counter = ObservationCounter(fmt.marker)
    size = 0
    first_byte = None
    headers = {"Accept": fmt.accept, "Accept-Encoding": "identity"}
    server_cpu, client_cpu = cpu_seconds(pids), time.process_time()
    with RssSampler(pids) as rss, httpx.Client(base_url=base, timeout=600) as client:
        start = time.perf_counter()
        with client.stream("GET", PATH, headers=headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"{fmt.label}: {response.status_code} {response.read()[:500]!r}")
            for chunk in response.iter_raw():
                if first_byte is None:
                    first_byte = time.perf_counter() - start
                counter.feed(chunk)
                size += len(chunk)
        seconds = time.perf_counter() - start
    server_cpu = cpu_seconds(pids) - server_cpu
    observations = counter.count + fmt.offset
    return {
        "observations": observations,
        "seconds": round(seconds, 2),
        "obs_per_s": round(observations / seconds),
        "first_byte_ms": round((first_byte or seconds) * 1000, 1),
        "bytes": size,
        "rss_growth_mb": round(rss.growth(), 1),
        "worker_rss_mb": round(max(rss.baseline.values()), 1),
        "worker_cpu_s": round(server_cpu, 2),
        "obs_per_worker_cpu_s": round(observations / server_cpu) if server_cpu else None,
        "client_cpu_s": round(time.process_time() - client_cpu, 2),
        "load_avg_1m": load,
    }


def warm_up(base: str, keys: list[str]) -> None:
    """Every export format on one series, 16 at a time, so that both workers have read the
    structures and loaded each writer before anything is measured."""
    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(16) as pool:
        for fmt in EXPORTS:

            def get(key: str, accept: str = fmt.accept) -> None:
                client.get(f"{PATH}/{key}", headers={"Accept": accept}).raise_for_status()

            list(pool.map(get, keys[:64]))


# --- small queries -----------------------------------------------------------------------------


async def _hammer(
    base: str, paths: list[str], seconds: float, rate: float | None
) -> tuple[list[float], int, float]:
    """CLIENTS clients for ``seconds``: latencies (s) of the answered requests, errors and the
    elapsed time. ``rate`` None: closed loop; else open loop at ``rate`` requests/s overall,
    latency measured from each request's scheduled time.

    The load comes from aiohttp, whose client costs about a quarter of a millisecond of CPU per
    request: httpx's costs some 3 ms, more than the server's answer, on the same 2 cores."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"Accept": SMALL_ACCEPT}
    async with aiohttp.ClientSession(
        base, connector=connector, headers=headers, timeout=timeout
    ) as client:
        start = time.perf_counter()
        end = start + seconds

        async def one(n: int) -> None:
            nonlocal errors
            period = CLIENTS / rate if rate else 0.0
            due = start + n * period / CLIENTS
            i = n
            while True:
                if rate:
                    if (delay := due - time.perf_counter()) > 0:
                        await asyncio.sleep(delay)
                    sent = due
                else:
                    sent = time.perf_counter()
                if sent >= end or time.perf_counter() >= end:
                    return
                async with client.get(paths[i % len(paths)]) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors += 1
                i += CLIENTS
                due += period

        await asyncio.gather(*(one(n) for n in range(CLIENTS)))
        return latencies, errors, time.perf_counter() - start


def small_queries(
    base: str, pids: list[int], keys: list[str], seconds: float, rate: float | None
) -> dict[str, Any]:
    """One run of small queries (after a short warm-up), with what it cost the workers."""
    paths = [f"{PATH}/{key}" for key in keys]
    asyncio.run(_hammer(base, paths, min(3.0, seconds), rate))  # warm-up, both workers
    load = load_average()
    server_cpu, client_cpu = cpu_seconds(pids), time.process_time()
    latencies, errors, elapsed = asyncio.run(_hammer(base, paths, seconds, rate))
    server_cpu = cpu_seconds(pids) - server_cpu
    client_cpu = time.process_time() - client_cpu
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(ms),
        "errors": errors,
        "rps": round(len(ms) / elapsed),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[int(0.99 * len(ms)) - 1], 2),
        "worker_cpu_ms_per_request": round(server_cpu * 1000 / len(ms), 2),
        "worker_cpu_share": round(server_cpu / elapsed, 2),
        "client_cpu_share": round(client_cpu / elapsed, 2),
        "load_avg_1m": load,
    }


# --- the peer ---------------------------------------------------------------------------------


def peer(size: int) -> dict[str, Any]:
    with console.status(f"sdmx1 serialising {size:,} observations…"):
        out, rss, _cpu = run_child(PEER, str(size), FLOW)
    found = json.loads(out.strip().splitlines()[-1])
    return {
        "observations": found["observations"],
        "build_s": round(found["build_s"], 1),
        "seconds": round(found["seconds"], 2),
        "obs_per_s": round(found["observations"] / found["seconds"]),
        "bytes": found["bytes"],
        "peak_rss_mb": rss,
    }


# --- the run ----------------------------------------------------------------------------------


def run_size(
    base_url: str, size: int, seconds: float, healthcheck: int | None, folder: Path
) -> dict[str, Any]:
    url, loaded = store(base_url, size, folder)
    result: dict[str, Any] = {"store": loaded}
    with console.status("roof: PostgreSQL COPY…"):
        result["roof"] = roof(url)
    keys, per_series = small_query_keys(url)
    result["small"] = {"observations_per_series": per_series}
    # each query read from the store: the per-worker answer cache off
    with server(url, healthcheck, {"ILMS_DATA_CACHE_BYTES": "0"}) as srv:
        result["small"]["answer cache off"] = run_small(srv, keys, seconds)
    with server(url, healthcheck) as srv:
        # as configured by default: repeated queries on unchanged data come from the cache
        result["small"]["answer cache on"] = run_small(srv, keys, seconds)
        result["exports"] = {}
        warm_up(srv.base, keys)
        for fmt in EXPORTS:
            pids = srv.workers()
            try:
                with console.status(f"exporting {size:,} observations as {fmt.label}…"):
                    found = export(srv.base, fmt, pids)
            except httpx.HTTPError as error:
                time.sleep(1)  # uvicorn notices a killed worker within a second
                gone = sorted(set(pids) - set(srv.workers()))
                console.print(f"[red]{fmt.label}: {error}; workers gone: {gone}")
                result["exports"][fmt.label] = {"error": str(error), "workers_gone": gone}
                warm_up(srv.base, keys)
                continue
            if found["observations"] != size:
                console.print(f"[red]{fmt.label}: {found['observations']:,} observations")
            found["roof_ratio"] = round(found["obs_per_s"] / result["roof"]["obs_per_s"], 3)
            result["exports"][fmt.label] = found
    drop_schema(base_url)  # millions of rows the shared PostgreSQL need not keep
    return result


def drop_schema(base_url: str) -> None:
    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def run_small(srv: Server, keys: list[str], seconds: float) -> dict[str, Any]:
    """The closed loop, then the open loop at the target rate when the closed loop reached it
    (beyond its capacity an open loop only measures how its queue grows)."""
    found: dict[str, Any] = {"format": SMALL_ACCEPT}
    pids = srv.workers()
    with console.status(f"small queries, closed loop, {seconds:.0f} s…"):
        found["closed loop"] = closed = small_queries(srv.base, pids, keys, seconds, None)
    rate = float(TARGETS["small_rps"])
    if closed["rps"] >= rate:
        with console.status(f"small queries, open loop at {rate:.0f}/s, {seconds:.0f} s…"):
            found["open loop"] = small_queries(srv.base, pids, keys, seconds, rate)
    else:
        found["open loop"] = {"skipped": f"the closed loop served {closed['rps']}/s"}
    return found


def mark(text: str, ok: bool) -> str:
    return f"[green]{text} ✓" if ok else f"[red]{text} ✗"


def report(results: dict[str, Any]) -> None:
    t = results["targets"]
    for size, found in results["sizes"].items():
        table = Table(title=f"Full export of {FLOW}, {int(size):,} observations, 2 workers")
        for col in ("format", "obs/s", "first byte ms", "RSS growth MB", "of roof", "load"):
            table.add_column(col)
        table.add_column("obs per worker CPU-s")
        for label, r in found["exports"].items():
            if "error" in r:
                table.add_row(
                    label, f"[red]failed: {r['error']} (workers gone: {r['workers_gone']})"
                )
                continue
            ok = r["obs_per_s"] >= t[label] and r["observations"] == int(size)
            table.add_row(
                f"{label} (>= {t[label]:,})",
                mark(f"{r['obs_per_s']:,}", ok),
                mark(str(r["first_byte_ms"]), r["first_byte_ms"] <= t["first_byte_ms"]),
                mark(str(r["rss_growth_mb"]), r["rss_growth_mb"] <= t["rss_growth_mb"]),
                f"{r['roof_ratio']:.2f}",
                str(r["load_avg_1m"]),
                f"{r['obs_per_worker_cpu_s'] or 0:,}",
            )
        console.print(table)
        r = found["roof"]
        console.print(f"roof: COPY (SELECT the same rows) TO STDOUT: {r['obs_per_s']:,} rows/s")
        small = Table(
            title=f"Small queries: one series ({found['small']['observations_per_series']} obs), "
            f"{CLIENTS} clients, SDMX-JSON 2.0"
        )
        for col in ("run", "p50 ms", "p99 ms", "requests/s", "errors", "load"):
            small.add_column(col)
        small.add_column("worker CPU ms/request")
        runs = [
            (f"{config}: {label}", found["small"][config][label])
            for config in ("answer cache on", "answer cache off")
            for label in ("closed loop", "open loop")
        ]
        for label, s in runs:
            if "skipped" in s:
                small.add_row(f"{label} at 800/s: not run ({s['skipped']})")
                continue
            rps = f"{s['rps']:,}"
            small.add_row(
                label,
                mark(str(s["p50_ms"]), s["p50_ms"] <= t["small_p50_ms"]),
                mark(str(s["p99_ms"]), s["p99_ms"] <= t["small_p99_ms"]),
                mark(rps, s["rps"] >= t["small_rps"]) if label.endswith("closed loop") else rps,
                str(s["errors"]),
                str(s["load_avg_1m"]),
                str(s["worker_cpu_ms_per_request"]),
            )
        console.print(small)
    if "peer_sdmx1" in results:
        p = results["peer_sdmx1"]
        console.print(
            f"peer: sdmx1 to_xml serialises {p['observations']:,} observations in "
            f"{p['seconds']} s ({p['obs_per_s']:,} obs/s, peak RSS {p['peak_rss_mb']} MB, "
            f"after {p['build_s']} s building the objects); our SDMX-ML 2.1 SS export: "
            + (f"{p['ours_over_peer']:.2f}x that" if p["ours_over_peer"] else "failed")
        )
    m = results["machine"]
    console.print(
        f"{m['cpus']} CPUs shared with other work; load average (1 min) {m['load_before']} "
        f"before the run, {m['load_after']} after"
    )


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", help="default 1000000,5000000 (--quick: 100000)")
    parser.add_argument("--quick", action="store_true", help="small size, 5 s query runs")
    parser.add_argument("--seconds", type=float, help="each small-query run (default 20)")
    parser.add_argument("--no-peer", action="store_true", help="skip the sdmx1 comparison")
    parser.add_argument(
        "--worker-healthcheck",
        type=int,
        help="diagnosis only: uvicorn's worker health-check timeout in s (default: uvicorn's)",
    )
    args = parser.parse_args()
    sizes = [
        int(s) for s in (args.sizes or ("100000" if args.quick else "1000000,5000000")).split(",")
    ]
    seconds = args.seconds or (5.0 if args.quick else 20.0)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": load_average()},
        "uvicorn_worker_healthcheck_s": args.worker_healthcheck or "uvicorn default (5)",
        "targets": {**TARGETS, **{f.label: f.target_obs_per_s for f in EXPORTS}},
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            results["sizes"][str(size)] = run_size(
                args.postgres, size, seconds, args.worker_healthcheck, Path(tmp)
            )
    if not args.no_peer:
        results["peer_sdmx1"] = peer(min(sizes))
        p, ours = results["peer_sdmx1"], results["sizes"][str(min(sizes))]["exports"]
        rate = ours["SDMX-ML 2.1 SS"].get("obs_per_s")  # none when the export failed
        p["ours_over_peer"] = round(rate / p["obs_per_s"], 2) if rate else None
    results["machine"]["load_after"] = load_average()
    report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "export.json").write_text(json.dumps(results, indent=2))
    console.print(f"written to {out / 'export.json'}")


if __name__ == "__main__":
    main()
