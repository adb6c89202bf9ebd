"""``goalpath serve`` in a subprocess on a free port of 127.0.0.1, for tests over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import httpx

from goalpath.server.settings import SETTINGS_VARIABLE

__all__ = ["free_port", "serving"]

_START_SECONDS: Final = 60.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(*options: str) -> Iterator[str]:
    """Run ``goalpath serve`` with ``options`` in a subprocess; yield its base URL.

    It listens on a free port of 127.0.0.1 and is stopped (SIGTERM, then
    SIGKILL) when the block ends.
    """
    port = free_port()
    goalpath = str(Path(sys.executable).with_name("goalpath"))
    command = [goalpath, "serve", *options, "--host", "127.0.0.1", "--port", str(port)]
    environment = {key: value for key, value in os.environ.items() if key != SETTINGS_VARIABLE}
    process = subprocess.Popen(  # the installed goalpath and our own arguments
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, base)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_answering(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read() if process.stderr is not None else ""
            raise AssertionError(f"the server exited with {process.returncode}: {error[-2000:]}")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server at {base} did not answer within {_START_SECONDS} s")
