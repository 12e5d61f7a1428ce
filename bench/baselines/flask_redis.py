"""Baseline in the shape of the reference system's stack: Flask, one Redis pub/sub subscription per open stream,
the worker PUBLISHes each event on the task's channel. Nothing is stored, so nothing can be resumed.

Served by gunicorn with one gevent worker (greenlets, not threads: a thread per stream would not reach 10k):

    BENCH_REDIS_URL=redis://127.0.0.1:6390/0 BENCH_HEARTBEAT=15 \
    gunicorn -k gevent -w 1 --worker-connections 20000 -b 127.0.0.1:8102 bench.baselines.flask_redis:app
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import redis
from flask import Flask, Response

app = Flask(__name__)
REDIS = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
HEARTBEAT = float(os.environ.get("BENCH_HEARTBEAT", "15"))


@app.get("/stream/<channel>")
def stream(channel: str) -> Response:
    def events() -> Iterator[str]:
        pubsub = REDIS.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        try:
            yield "id: 0\nevent: welcome\ndata: {}\n\n"
            while True:
                message = pubsub.get_message(timeout=HEARTBEAT)
                if message is None:
                    yield ": ping\n\n"
                else:
                    yield f"event: bench\ndata: {message['data'].decode()}\n\n"
        finally:
            pubsub.close()

    return Response(events(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@app.get("/health")
def health() -> str:
    return "ok"
