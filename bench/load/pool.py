"""The controller's side: N load processes (spawned, each with its own file limit), commands fanned out."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from bench.load import worker


class WorkerError(RuntimeError):
    pass


class Pool:
    def __init__(self, size: int) -> None:
        ctx = mp.get_context("spawn")
        self.conns = []
        self.procs = []
        for i in range(size):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker.main, args=(child, i), daemon=True, name=f"bench-load-{i}")
            p.start()
            self.conns.append(parent)
            self.procs.append(p)

    @property
    def size(self) -> int:
        return len(self.procs)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def send(self, i: int, op: str, **kw: Any) -> None:
        self.conns[i].send({"op": op, **kw})

    def recv(self, i: int, timeout: float = 600) -> dict[str, Any]:
        if not self.conns[i].poll(timeout):
            raise WorkerError(f"load worker {i} did not answer in {timeout}s")
        result: dict[str, Any] = self.conns[i].recv()
        if "exception" in result:
            raise WorkerError(f"load worker {i}: {result['exception']}\n{result.get('traceback', '')}")
        return result

    def call(self, i: int, op: str, **kw: Any) -> dict[str, Any]:
        self.send(i, op, **kw)
        return self.recv(i)

    def call_all(self, op: str, per_worker: list[dict[str, Any]] | None = None, **kw: Any) -> list[dict[str, Any]]:
        for i in range(self.size):
            self.send(i, op, **kw, **(per_worker[i] if per_worker else {}))
        return [self.recv(i) for i in range(self.size)]

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split(n: int, parts: int) -> list[int]:
    """n as `parts` near-equal integers."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]
