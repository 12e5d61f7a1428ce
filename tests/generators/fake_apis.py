"""Fake remote AI APIs for the generator tests: a real HTTP server on a free loopback port, scripted per path.

Each path has a queue of replies; the last one repeats, so `script("/x", Reply(500), Reply(200, ...))` means
"fail once, then succeed forever". Every request is recorded with its arrival time, which is how the tests check
retries and Retry-After waits without sleeping themselves. Helpers build the wire formats of OpenAI and Gemini.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image


@dataclass
class Reply:
    """One scripted HTTP response. `delay` holds the answer back (to trigger client timeouts)."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str | None = None
    # A streamed body: each piece is written and flushed on its own (then the connection closes).
    chunks: list[bytes] | None = None
    chunk_delay: float = 0.001


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


class FakeAPI:
    """A threaded stdlib HTTP server that replays scripted replies and records requests."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path] = list(replies)

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, path: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(path)
            if not queue:
                return Reply(404, json={"error": {"message": f"no script for {path}"}})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                headers = {k.lower(): v for k, v in self.headers.items()}
                with api._lock:
                    api.received.append(Received(self.command, path, headers, body, time.monotonic()))
                reply = api._next(path)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.chunks is not None:
                    self._stream(reply)
                    return
                payload = reply.body if reply.body is not None else json.dumps(reply.json).encode()
                ctype = reply.content_type or ("application/json" if reply.body is None else "application/octet-stream")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def _stream(self, reply: Reply) -> None:
                self.close_connection = True  # no length, no chunked coding: the body ends when we close
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type or "text/event-stream; charset=utf-8")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for chunk in reply.chunks or []:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(reply.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_POST = _serve

        return Handler


# Named apart from the fixture so test modules can import it without shadowing warnings.
@pytest.fixture(name="fake_api")
def fake_api_fixture() -> Iterator[FakeAPI]:
    """A started FakeAPI, stopped after the test."""
    api = FakeAPI()
    api.start()
    yield api
    api.stop()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (6, 8), color: str = "red") -> bytes:
    """A tiny real image in `fmt` (PNG, JPEG, WEBP)."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def chat_reply(content: str) -> Reply:
    """An OpenAI chat/completions success."""
    return Reply(
        json={
            "id": "c1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
    )


def images_b64_reply(data: bytes) -> Reply:
    """An OpenAI images success with b64_json."""
    return Reply(json={"created": 1, "data": [{"b64_json": b64(data)}]})


def images_url_reply(url: str) -> Reply:
    """An OpenAI images success with a url to download."""
    return Reply(json={"created": 1, "data": [{"url": url}]})


def gemini_image_reply(data: bytes, mime: str = "image/png", text: str = "这是图片") -> Reply:
    """A Gemini generateContent success with a text part and an inline image part."""
    parts = [{"text": text}, {"inlineData": {"mimeType": mime, "data": b64(data)}}]
    return Reply(json={"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]})


def gemini_text_reply(text: str) -> Reply:
    """A Gemini generateContent success with text only."""
    return Reply(
        json={"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]}
    )


OUTLINE_TEXT = """[封面]
标题：周末去哪儿 🌿
副标题：三个近郊好去处
<page>
[内容]
第一站：山里的咖啡馆
<page>
[总结]
收藏起来，周末就出发！"""


def split_bytes(data: bytes, size: int) -> list[bytes]:
    """`data` cut every `size` bytes, regardless of characters (so multi-byte UTF-8 characters get split)."""
    return [data[i:i + size] for i in range(0, len(data), size)]


def sse_bytes(payloads: list[Any], done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(p, ensure_ascii=False)}\n\n" for p in payloads)
    return (body + ("data: [DONE]\n\n" if done else "")).encode("utf-8")


def chat_stream_reply(text: str, piece_chars: int = 5, byte_chunk: int = 7, done: bool = True) -> Reply:
    """An OpenAI chat/completions stream of `text`: deltas of `piece_chars` characters, sent in `byte_chunk`-byte
    network writes (odd sizes cut multi-byte characters in two)."""
    pieces = [text[i:i + piece_chars] for i in range(0, len(text), piece_chars)]
    payloads: list[Any] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    payloads += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    payloads.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return Reply(chunks=split_bytes(sse_bytes(payloads, done), byte_chunk))


def gemini_stream_reply(text: str, piece_chars: int = 5, byte_chunk: int = 7) -> Reply:
    """A Gemini streamGenerateContent?alt=sse stream of `text`."""
    pieces = [text[i:i + piece_chars] for i in range(0, len(text), piece_chars)]
    payloads = [{"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}}]} for p in pieces]
    payloads.append({"usageMetadata": {"totalTokenCount": 3}})
    return Reply(chunks=split_bytes(sse_bytes(payloads, done=False), byte_chunk))
