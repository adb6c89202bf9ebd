"""An HTTP server in a subprocess on 127.0.0.1: started, waited for until it answers, stopped.

The serve benchmark (:mod:`benchmarks.serve`) runs goalpath's server and its
baseline endpoint under uvicorn with :func:`server_process`, and the server
tests run ``goalpath serve`` with it (``tests/server/served.py``), so the
benchmark's way of starting a server is the one the tests exercise. It
lives here rather than in ``tests/`` because benchmarks do not import tests;
tests already import benchmarks (``tests/benchmarks/``).

The server's stdout and stderr go to files, never to a pipe that nobody
reads (a full pipe would stop a server that logs every request).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import attrs
import httpx

__all__ = ["START_SECONDS", "ServerProcess", "free_port", "server_process"]

START_SECONDS: Final = 120.0
"""How long a server may take to answer its first request (a busy two-core machine)."""

_STOP_SECONDS: Final = 30.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@attrs.frozen
class ServerProcess:
    """A running server: its base URL, its process and the files its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def log(self) -> str:
        """What the server wrote on stderr so far."""
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def stopped_cleanly(self) -> bool:
        """Whether it stopped on SIGTERM as uvicorn does: each worker's shutdown run, no traceback.

        One process re-raises SIGTERM once it has shut down (exit -15); a
        supervisor of workers exits 0.
        """
        log = self.log()
        return (
            self.process.returncode in (0, -signal.SIGTERM)
            and "Application shutdown complete" in log
            and "Traceback" not in log
        )


@contextmanager
def server_process(
    command: Sequence[str],
    port: int,
    *,
    folder: Path,
    name: str = "server",
    environment: Mapping[str, str] | None = None,
    probe: str = "/openapi.json",
) -> Iterator[ServerProcess]:
    """Run ``command`` (a server listening on ``port`` of 127.0.0.1); yield it once it answers.

    Its output goes to ``folder/NAME.out`` and ``NAME.err``; ``environment``
    is added to this process's. It has answered when ``probe`` answers with
    a status below 500; a server that exits first, or does not answer within
    :data:`START_SECONDS`, is refused with a ``RuntimeError`` ending with its
    log. When the block ends it is stopped: SIGTERM, then SIGKILL.
    """
    stdout, stderr = folder / f"{name}.out", folder / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603  # the caller's own command
            list(command), stdout=out, stderr=err, env={**os.environ, **(environment or {})}
        )
    served = ServerProcess(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        _wait_until_it_answers(served, probe)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_SECONDS)


def _wait_until_it_answers(served: ServerProcess, probe: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(
                f"the server stopped ({served.process.returncode}):\n{served.log()[-4000:]}"
            )
        try:
            if httpx.get(served.url + probe, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {START_SECONDS} s:\n{served.log()[-4000:]}")
