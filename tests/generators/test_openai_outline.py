"""OpenAIChatOutline against a loopback server speaking the chat/completions wire format."""

from __future__ import annotations

import pytest

from inkstream.generators.base import GeneratorError
from inkstream.generators.remote.http_retry import RetryPolicy
from inkstream.generators.remote.openai_compat import OpenAIChatOutline
from tests.generators.fake_apis import OUTLINE_TEXT, FakeAPI, Reply, chat_reply, fake_api_fixture, image_bytes  # noqa: F401

KEY = "sk-outline-SECRET-42"
PATH = "/v1/chat/completions"
FAST = RetryPolicy(max_attempts=3, timeout=2.0, backoff_base=0.01, backoff_max=0.02)


def make(api: FakeAPI, **kwargs: object) -> OpenAIChatOutline:
    options: dict = {"base_url": api.url + "/v1", "model": "deepseek-chat", "api_key": KEY, "retry": FAST}
    return OpenAIChatOutline(**{**options, **kwargs})


async def test_outline_is_parsed_from_the_first_choice(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, chat_reply(OUTLINE_TEXT))
    outline = await make(fake_api).generate_outline("周末去哪儿", [])
    assert [p.type for p in outline.pages] == ["cover", "content", "summary"]
    assert "周末去哪儿" in outline.raw
    (sent,) = fake_api.requests_to(PATH)
    body = sent.json()
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert body["model"] == "deepseek-chat"
    assert body["messages"][0]["role"] == "user"
    assert isinstance(body["messages"][0]["content"], str) and "周末去哪儿" in body["messages"][0]["content"]
    assert set(body) == {"model", "messages", "stream"}  # only standard fields: every compatible server takes them


async def test_reference_images_are_sent_as_data_urls(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, chat_reply(OUTLINE_TEXT))
    await make(fake_api).generate_outline("穿搭", [image_bytes("JPEG"), image_bytes("PNG")])
    content = fake_api.requests_to(PATH)[0].json()["messages"][0]["content"]
    assert content[0]["type"] == "text" and "穿搭" in content[0]["text"]
    urls = [part["image_url"]["url"] for part in content[1:]]
    assert urls[0].startswith("data:image/jpeg;base64,") and urls[1].startswith("data:image/png;base64,")


async def test_reasoning_and_code_fences_are_stripped(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, chat_reply(f"<think>先想一想……</think>\n```\n{OUTLINE_TEXT}\n```"))
    outline = await make(fake_api).generate_outline("周末", [])
    assert "<think>" not in outline.raw and "```" not in outline.raw
    assert len(outline.pages) == 3


async def test_no_key_sends_no_authorization_header(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, chat_reply(OUTLINE_TEXT))
    await make(fake_api, api_key="", temperature=0.7, max_tokens=800).generate_outline("周末", [])
    sent = fake_api.requests_to(PATH)[0]
    assert "authorization" not in sent.headers
    assert sent.json()["temperature"] == 0.7 and sent.json()["max_tokens"] == 800


async def test_500_then_success(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, Reply(500, json={"error": "x"}), chat_reply(OUTLINE_TEXT))
    outline = await make(fake_api).generate_outline("周末", [])
    assert len(outline.pages) == 3 and len(fake_api.requests_to(PATH)) == 2


async def test_429_retry_after_is_honoured(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, Reply(429, headers={"Retry-After": "0.2"}), chat_reply(OUTLINE_TEXT))
    await make(fake_api).generate_outline("周末", [])
    first, second = fake_api.requests_to(PATH)
    assert second.at - first.at >= 0.2


async def test_401_is_final_and_does_not_leak_the_key(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, Reply(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    with pytest.raises(GeneratorError) as err:
        await make(fake_api).generate_outline("周末", [])
    assert not err.value.retryable and KEY not in str(err.value)
    assert len(fake_api.requests_to(PATH)) == 1


async def test_timeout_is_retryable(fake_api: FakeAPI) -> None:
    fake_api.script(PATH, Reply(json={}, delay=0.5))
    with pytest.raises(GeneratorError) as err:
        await make(fake_api, retry=RetryPolicy(max_attempts=1, timeout=0.1)).generate_outline("周末", [])
    assert err.value.retryable


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"<html>bad gateway</html>", content_type="text/html"),
        Reply(json={"choices": []}),
        Reply(json={"choices": [{"message": {"content": "   "}}]}),
    ],
    ids=["not-json", "no-choices", "empty-answer"],
)
async def test_malformed_answers_are_retryable_errors(fake_api: FakeAPI, reply: Reply) -> None:
    fake_api.script(PATH, reply)
    with pytest.raises(GeneratorError) as err:
        await make(fake_api).generate_outline("周末", [])
    assert err.value.retryable
