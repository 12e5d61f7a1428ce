"""`inkstream serve`, unchanged, plus two bench-only routes mounted in front of it:

    POST /bench/publish/{task_id}   append the JSON body as event `bench` through the service's own EventLog —
                                    the same call the in-process worker makes, so readers are woken the same way
    POST /bench/fill/{task_id}?n=   bulk-insert n events in one transaction (history for the resume scenario)

With BENCH_INKSTREAM_SRC=<dir> it imports the `inkstream` package from <dir> instead (A/B of a patch).

Run like the CLI runs it (same uvicorn options and log config, access log included):
    INKSTREAM_DATA_DIR=… INKSTREAM_PORT=… python -m bench.targets.inkstream_server
"""

from __future__ import annotations

import os
import sys
from typing import Any

# A/B runs of a proposed service change: BENCH_INKSTREAM_SRC names a directory holding a patched `inkstream`
# package (a scratch copy outside the repo), imported instead of the repo's.
if os.environ.get("BENCH_INKSTREAM_SRC"):
    sys.path.insert(0, os.environ["BENCH_INKSTREAM_SRC"])

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import insert, update

from inkstream.app import create_app
from inkstream.config import Settings
from inkstream.logs import log_config
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Task, TaskEvent


def _db(request: Request) -> Any:
    events = request.app.state.services.events
    return getattr(events, "_sql", events)._db  # SqlEventLog, or the one inside RedisEventLog


def build(settings: Settings) -> FastAPI:
    app = create_app(settings)
    bench = APIRouter()

    @bench.post("/bench/publish/{task_id}")
    async def publish(task_id: str, request: Request) -> dict[str, int]:
        stored = await request.app.state.services.events.append(task_id, "bench", await request.json())
        return {"id": stored.id}

    @bench.post("/bench/fill/{task_id}")
    async def fill(task_id: str, n: int, request: Request) -> dict[str, int]:
        async with _db(request).write() as s:
            last = (await s.execute(update(Task).where(Task.id == task_id)
                                    .values(last_event_id=Task.last_event_id + n)
                                    .returning(Task.last_event_id))).scalar_one()
            first = last - n + 1
            now = utcnow()
            await s.execute(insert(TaskEvent), [
                {"task_id": task_id, "id": i, "event": "bench", "data": {"ts": 0, "seq": i, "text": "秋天的第一杯奶茶"},
                 "dedupe_key": None, "created_at": now} for i in range(first, last + 1)])
        # The insert bypassed EventLog.append: a log that caches a task's newest events (the proposed single-writer
        # tail, see bench/README.md) must forget this task or it would serve its stale view.
        forget = getattr(request.app.state.services.events, "forget", None)
        if forget is not None:
            forget(task_id)
        return {"first": first, "last": last}

    # In front of the static files mounted at "/", which would otherwise answer these paths.
    for route in reversed(bench.routes):
        app.router.routes.insert(0, route)
    return app


def main() -> None:
    settings = Settings()
    options: dict[str, Any] = {}
    try:  # as the CLI runs it; a "before" copy (BENCH_INKSTREAM_SRC) may predate dead-client detection
        from inkstream.api.dead_clients import protocol_with_user_timeout

        options["http"] = protocol_with_user_timeout(settings.tcp_user_timeout)
    except ImportError:
        pass
    if hasattr(settings, "listen_backlog"):  # a "before" copy may predate the setting
        options["backlog"] = settings.listen_backlog
    uvicorn.run(build(settings), host=settings.host, port=settings.port, log_config=log_config("INFO"),
                timeout_graceful_shutdown=3, proxy_headers=False, **options)


if __name__ == "__main__":
    main()
