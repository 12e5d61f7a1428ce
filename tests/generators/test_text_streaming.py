"""Streamed outline text from OpenAI-compatible and Gemini APIs: pieces reach the sink as they arrive, whatever
the network's chunk boundaries (multi-byte characters cut in two included)."""

from __future__ import annotations

import pytest

from inkstream.generators.base import GeneratorError
from inkstream.generators.remote.gemini import GeminiOutline
from inkstream.generators.remote.http_retry import RetryPolicy
from inkstream.generators.remote.openai_compat import OpenAIChatOutline
from tests.generators.fake_apis import (  # noqa: F401
    OUTLINE_TEXT,
    FakeAPI,
    Reply,
    chat_reply,
    chat_stream_reply,
    fake_api_fixture,
    gemini_stream_reply,
    split_bytes,
    sse_bytes,
)

FAST = RetryPolicy(max_attempts=2, timeout=5.0, backoff_base=0.01, backoff_max=0.02)
CHAT = "/v1/chat/completions"
GEMINI_STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


class Collect:
    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.restarts = 0

    async def write(self, text: str) -> None:
        self.chunks.append(text)

    async def restart(self) -> None:
        self.restarts += 1
        self.chunks.clear()


def openai(api: FakeAPI, **kwargs: object) -> OpenAIChatOutline:
    return OpenAIChatOutline(base_url=api.url + "/v1", model="m", api_key="sk-stream-KEY", retry=FAST, **kwargs)


def splits_a_character(text: str, byte_chunk: int) -> bool:
    """True when some network write ends inside a multi-byte UTF-8 character of the streamed body."""
    from tests.generators.fake_apis import chat_stream_reply as build

    for chunk in build(text, byte_chunk=byte_chunk).chunks or []:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


@pytest.mark.parametrize("byte_chunk", [2, 7, 13, 64])
async def test_openai_outline_streams_in_odd_chunks(fake_api: FakeAPI, byte_chunk: int) -> None:
    assert byte_chunk == 64 or splits_a_character(OUTLINE_TEXT, byte_chunk)
    fake_api.script(CHAT, chat_stream_reply(OUTLINE_TEXT, piece_chars=3, byte_chunk=byte_chunk))
    sink = Collect()
    outline = await openai(fake_api).generate_outline("周末去哪儿", [], sink)
    assert "".join(sink.chunks) == OUTLINE_TEXT
    assert len(sink.chunks) == -(-len(OUTLINE_TEXT) // 3)  # one piece per streamed delta
    assert [p.type for p in outline.pages] == ["cover", "content", "summary"]
    assert fake_api.requests_to(CHAT)[0].json()["stream"] is True


async def test_openai_json_answer_to_a_stream_request_still_works(fake_api: FakeAPI) -> None:
    fake_api.script(CHAT, chat_reply(OUTLINE_TEXT))
    sink = Collect()
    outline = await openai(fake_api).generate_outline("周末", [], sink)
    assert "".join(sink.chunks) == OUTLINE_TEXT and len(outline.pages) == 3


async def test_stream_false_sends_no_stream_flag(fake_api: FakeAPI) -> None:
    fake_api.script(CHAT, chat_reply(OUTLINE_TEXT))
    await openai(fake_api, stream=False).generate_outline("周末", [])
    assert "stream" not in fake_api.requests_to(CHAT)[0].json()


async def test_an_error_inside_the_stream_is_a_retryable_failure(fake_api: FakeAPI) -> None:
    body = sse_bytes([{"choices": [{"delta": {"content": "[封面]"}}]}, {"error": {"message": "overloaded"}}])
    fake_api.script(CHAT, Reply(chunks=split_bytes(body, 9)))
    with pytest.raises(GeneratorError) as err:
        await openai(fake_api).generate_outline("周末", [], Collect())
    assert err.value.retryable and "overloaded" in err.value.message


async def test_an_empty_stream_is_a_retryable_failure(fake_api: FakeAPI) -> None:
    fake_api.script(CHAT, Reply(chunks=[sse_bytes([{"choices": [{"delta": {"role": "assistant"}}]}])]))
    with pytest.raises(GeneratorError, match="empty answer") as err:
        await openai(fake_api).generate_outline("周末", [])
    assert err.value.retryable


async def test_a_500_before_the_stream_is_retried(fake_api: FakeAPI) -> None:
    fake_api.script(CHAT, Reply(500, json={"error": "busy"}), chat_stream_reply(OUTLINE_TEXT))
    outline = await openai(fake_api).generate_outline("周末", [], Collect())
    assert len(outline.pages) == 3 and len(fake_api.requests_to(CHAT)) == 2


@pytest.mark.parametrize("byte_chunk", [5, 11])
async def test_gemini_outline_streams_over_alt_sse(fake_api: FakeAPI, byte_chunk: int) -> None:
    fake_api.script(GEMINI_STREAM, gemini_stream_reply(OUTLINE_TEXT, piece_chars=4, byte_chunk=byte_chunk))
    sink = Collect()
    generator = GeminiOutline(api_key="g-KEY-123", base_url=fake_api.url, retry=FAST)
    outline = await generator.generate_outline("周末去哪儿", [], sink)
    assert "".join(sink.chunks) == OUTLINE_TEXT and len(outline.pages) == 3
    (sent,) = fake_api.requests_to(GEMINI_STREAM)
    assert sent.headers["x-goog-api-key"] == "g-KEY-123"
    assert sent.json()["contents"][0]["parts"][0]["text"].count("周末去哪儿") == 1
