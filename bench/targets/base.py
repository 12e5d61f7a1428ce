"""What a scenario needs from a server under test: start it, find its processes, name stream and publish paths."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _raise_nofile() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None,
          cwd: str | None = None) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env or dict(os.environ),
                                preexec_fn=_raise_nofile, cwd=cwd)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not up in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Target:
    """A server under test. Scenarios call: start(), channel(), stream(), publisher(), fill(), stop()."""

    name = "target"
    scenarios: frozenset[str] = frozenset()
    host = HOST

    def __init__(self, workdir: Path, heartbeat: float) -> None:
        self.workdir = workdir
        self.heartbeat = heartbeat
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        stop(self.proc)

    def processes(self) -> list[psutil.Process]:
        """Every process of the server (master and workers), for RSS and CPU."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def channel(self) -> str:
        """A new stream to subscribe to (Inkstream: a running task)."""
        raise NotImplementedError

    def stream(self, channel: str, *, replay: bool = False, after: int | None = None) -> tuple[str, dict[str, str]]:
        """(path, headers) of a subscription; replay: start from the oldest retained event."""
        raise NotImplementedError

    def publisher(self, channel: str) -> dict[str, Any]:
        """Arguments of the load worker's `publish` command."""
        raise NotImplementedError

    def fill(self, channel: str, n: int) -> int:
        """Put n events in the channel's history; returns the cursor (Last-Event-ID) just before them."""
        raise NotImplementedError

    def extra(self) -> dict[str, Any]:
        return {}


def rss(processes: list[psutil.Process]) -> int:
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total
