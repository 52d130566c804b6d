"""A real ilms-sdmx server for tests: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from service.settings import PROJECT_ROOT

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _wait_healthy(proc: subprocess.Popen[bytes], base: str) -> str | None:
    """None once /health answers 200; otherwise why not (the process exited, or timed out)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"exited with status {proc.returncode}"
            try:
                if client.get(f"{base}/health").status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return f"/health did not answer within {STARTUP_TIMEOUT:.0f}s"


def launch(
    database_url: str, log: Path, extra_env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn on a free loopback port; retry a few ports if one is taken meanwhile.

    ``extra_env`` adds settings (``ILMS_*``) for the server process.
    """
    env = {
        **os.environ,
        "ILMS_DATABASE_URL": database_url,
        "ILMS_LOG_JSON": "false",
        "ILMS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
        **(extra_env or {}),
    }
    failures = []
    for _attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with log.open("wb") as sink:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        problem = _wait_healthy(proc, base)
        if problem is None:
            return proc, base
        stop(proc)
        output = log.read_text(errors="replace")
        failures.append(f"port {port}: {problem}\n{output[-4000:]}")
        if "address already in use" not in output.lower():
            break
    raise RuntimeError("the ILMS server did not come up:\n" + "\n---\n".join(failures))
