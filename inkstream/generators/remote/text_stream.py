"""Reading a text model's answer as it is written: Server-Sent Events from OpenAI-compatible and Gemini APIs.

httpx-sse parses the event stream (its text decoder is incremental, so a multi-byte character split across two
network reads arrives whole). A server that ignores the stream flag and answers with plain JSON still works:
`read_text_stream` hands that body to the caller's non-streaming parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import EventSource

from inkstream.generators.base import GeneratorError, TextSink

# Pulls the text pieces out of one streamed JSON payload (an OpenAI chunk, a Gemini response).
PieceReader = Callable[[Any], list[str]]
# Turns a whole non-streamed JSON answer into its text.
WholeReader = Callable[[Any], str]


async def read_text_stream(
    response: httpx.Response, provider: str, pieces: PieceReader, whole: WholeReader, sink: TextSink | None
) -> str:
    """The full text of a streamed answer, every piece sent to `sink` as it arrives; closes the response."""
    try:
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            await response.aread()
            try:
                payload = response.json()
            except ValueError:
                snippet = " ".join(response.text.split())[:200]
                raise GeneratorError(f"{provider}: response is not valid JSON: {snippet!r}", retryable=True) from None
            text = whole(payload)
            if sink is not None:
                await sink.write(text)
            return text
        parts: list[str] = []
        async for event in EventSource(response).aiter_sse():
            data = event.data.strip()
            if not data:
                continue
            if data == "[DONE]":
                break
            try:
                payload = json.loads(data)
            except ValueError:
                raise GeneratorError(f"{provider}: a streamed chunk is not JSON: {data[:100]!r}",
                                     retryable=True) from None
            if isinstance(payload, dict) and payload.get("error"):
                error = payload["error"]
                message = error.get("message") if isinstance(error, dict) else error
                raise GeneratorError(f"{provider}: the stream reported an error: {str(message)[:200]}",
                                     retryable=True)
            for piece in pieces(payload):
                parts.append(piece)
                if sink is not None:
                    await sink.write(piece)
        return "".join(parts)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise GeneratorError(f"{provider}: the stream broke off ({type(exc).__name__})", retryable=True) from None
    finally:
        await response.aclose()
