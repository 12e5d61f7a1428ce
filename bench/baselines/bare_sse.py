"""Baseline: a bare sse-starlette broadcast app. No auth, no persistence, no resume: every subscriber has an
asyncio.Queue and a publish puts the body into each. Same server stack as Inkstream (uvicorn, uvloop, httptools),
so the difference between the two is what Inkstream does per stream and per event.

    python -m bench.baselines.bare_sse --port 8101 --heartbeat 15
    GET  /stream/{channel}   SSE: `welcome` at once, then every published body as event `bench`
    POST /publish/{channel}  body = event data; answers the number of subscribers reached
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

CHANNELS: dict[str, set[asyncio.Queue[str]]] = {}
HEARTBEAT = 15.0


async def stream(request: Request) -> Response:
    channel = request.path_params["channel"]
    queue: asyncio.Queue[str] = asyncio.Queue()
    CHANNELS.setdefault(channel, set()).add(queue)

    async def events():  # type: ignore[no-untyped-def]
        try:
            yield ServerSentEvent(id="0", event="welcome", data="{}")
            while True:
                yield ServerSentEvent(event="bench", data=await queue.get())
        finally:
            CHANNELS[channel].discard(queue)

    return EventSourceResponse(events(), ping=HEARTBEAT)


async def publish(request: Request) -> Response:
    body = (await request.body()).decode()
    subscribers = CHANNELS.get(request.path_params["channel"], set())
    for queue in subscribers:
        queue.put_nowait(body)
    return PlainTextResponse(str(len(subscribers)))


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/stream/{channel}", stream), Route("/publish/{channel}", publish, methods=["POST"]),
                        Route("/health", health)])


def main() -> None:
    global HEARTBEAT
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--heartbeat", type=float, default=15.0)
    args = parser.parse_args()
    HEARTBEAT = args.heartbeat
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
