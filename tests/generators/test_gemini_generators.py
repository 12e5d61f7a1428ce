"""GeminiImages and GeminiOutline against a loopback server speaking the generateContent REST format."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from inkstream.generators.base import GeneratorError, OutlinePage, PageRequest
from inkstream.generators.remote.gemini import GeminiImages, GeminiOutline
from inkstream.generators.remote.http_retry import RetryPolicy
from tests.generators.fake_apis import (  # noqa: F401
    OUTLINE_TEXT,
    FakeAPI,
    Reply,
    b64,
    fake_api_fixture,
    gemini_image_reply,
    gemini_text_reply,
    image_bytes,
)

KEY = "AIza-gemini-SECRET-9876"
IMAGE_PATH = "/v1beta/models/gemini-2.5-flash-image:generateContent"
TEXT_PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
FAST = RetryPolicy(max_attempts=3, timeout=2.0, backoff_base=0.01, backoff_max=0.02)
PAGE = PageRequest(
    page=OutlinePage(index=1, type="content", content="[内容]\n第一站：山里的咖啡馆"),
    total_pages=3,
    topic="周末去哪儿",
    full_outline=OUTLINE_TEXT,
)


def images(api: FakeAPI, **kwargs: object) -> GeminiImages:
    return GeminiImages(**{"api_key": KEY, "base_url": api.url, "retry": FAST, **kwargs})  # type: ignore[arg-type]


def decoded_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


async def test_image_comes_from_inline_data_and_request_is_well_formed(fake_api: FakeAPI) -> None:
    fake_api.script(IMAGE_PATH, gemini_image_reply(image_bytes("PNG", (6, 8))))
    refs = [image_bytes("JPEG", (2, 2)), image_bytes("WEBP", (3, 3))]
    png = await images(fake_api).generate_image(PageRequest(**{**PAGE.__dict__, "reference_images": refs}))
    assert decoded_png(png).size == (6, 8)
    (sent,) = fake_api.requests_to(IMAGE_PATH)
    assert sent.headers["x-goog-api-key"] == KEY
    assert KEY.encode() not in sent.body
    body = sent.json()
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "3:4"}
    text, *inline = body["contents"][0]["parts"]
    assert "第一站：山里的咖啡馆" in text["text"] and "内容" in text["text"]
    assert [p["inline_data"]["mime_type"] for p in inline] == ["image/jpeg", "image/webp"]
    assert base64.b64decode(inline[0]["inline_data"]["data"]) == refs[0]


async def test_jpeg_inline_data_and_snake_case_are_accepted(fake_api: FakeAPI) -> None:
    jpeg = image_bytes("JPEG", (9, 4))
    parts = [{"inline_data": {"mime_type": "image/jpeg", "data": b64(jpeg)}}]
    fake_api.script(IMAGE_PATH, Reply(json={"candidates": [{"content": {"parts": parts}}]}))
    assert decoded_png(await images(fake_api, aspect_ratio=None).generate_image(PAGE)).size == (9, 4)
    assert "imageConfig" not in fake_api.requests_to(IMAGE_PATH)[0].json()["generationConfig"]


async def test_text_only_answer_is_retryable(fake_api: FakeAPI) -> None:
    fake_api.script(IMAGE_PATH, gemini_text_reply("抱歉，我无法生成这张图片"))
    with pytest.raises(GeneratorError) as err:
        await images(fake_api).generate_image(PAGE)
    assert err.value.retryable and "无法生成" in err.value.message


@pytest.mark.parametrize(
    "payload",
    [
        {"promptFeedback": {"blockReason": "SAFETY"}},
        {"candidates": [{"finishReason": "IMAGE_SAFETY"}]},
    ],
    ids=["prompt-blocked", "image-blocked"],
)
async def test_blocked_content_is_not_retryable(fake_api: FakeAPI, payload: dict) -> None:
    fake_api.script(IMAGE_PATH, Reply(json=payload))
    with pytest.raises(GeneratorError) as err:
        await images(fake_api).generate_image(PAGE)
    assert not err.value.retryable


async def test_500_then_success(fake_api: FakeAPI) -> None:
    fake_api.script(IMAGE_PATH, Reply(500, json={"error": {"status": "INTERNAL"}}), gemini_image_reply(image_bytes()))
    await images(fake_api).generate_image(PAGE)
    assert len(fake_api.requests_to(IMAGE_PATH)) == 2


async def test_429_retry_after_is_honoured(fake_api: FakeAPI) -> None:
    busy = Reply(429, headers={"Retry-After": "0.2"}, json={"error": {"status": "RESOURCE_EXHAUSTED"}})
    fake_api.script(IMAGE_PATH, busy, gemini_image_reply(image_bytes()))
    await images(fake_api).generate_image(PAGE)
    first, second = fake_api.requests_to(IMAGE_PATH)
    assert second.at - first.at >= 0.2


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_are_final_and_do_not_leak_the_key(fake_api: FakeAPI, status: int) -> None:
    fake_api.script(IMAGE_PATH, Reply(status, json={"error": {"message": f"API key {KEY} not valid"}}))
    with pytest.raises(GeneratorError) as err:
        await images(fake_api).generate_image(PAGE)
    assert not err.value.retryable and KEY not in str(err.value)
    assert len(fake_api.requests_to(IMAGE_PATH)) == 1


async def test_request_timeout_is_retried_then_retryable(fake_api: FakeAPI) -> None:
    fake_api.script(IMAGE_PATH, Reply(json={}, delay=0.5))
    with pytest.raises(GeneratorError) as err:
        await images(fake_api, retry=RetryPolicy(max_attempts=2, timeout=0.1, backoff_base=0.01)).generate_image(PAGE)
    assert err.value.retryable and "timed out" in err.value.message
    assert len(fake_api.requests_to(IMAGE_PATH)) == 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"<html>oops</html>", content_type="text/html"),
        Reply(json={"candidates": []}),
        Reply(json={"candidates": [{"content": {"parts": [{"inlineData": {"data": "%%%"}}]}}]}),
    ],
    ids=["not-json", "no-candidates", "bad-base64"],
)
async def test_malformed_responses_are_retryable(fake_api: FakeAPI, reply: Reply) -> None:
    fake_api.script(IMAGE_PATH, reply)
    with pytest.raises(GeneratorError) as err:
        await images(fake_api).generate_image(PAGE)
    assert err.value.retryable


async def test_outline_joins_text_parts_and_skips_thoughts(fake_api: FakeAPI) -> None:
    head, tail = OUTLINE_TEXT.split("<page>", 1)
    parts = [{"text": "让我想想……", "thought": True}, {"text": head}, {"text": "<page>" + tail}]
    fake_api.script(TEXT_PATH, Reply(json={"candidates": [{"content": {"parts": parts}}]}))
    generator = GeminiOutline(api_key=KEY, base_url=fake_api.url, retry=FAST, temperature=0.9, stream=False)
    outline = await generator.generate_outline("周末去哪儿", [image_bytes("PNG")])
    assert [p.type for p in outline.pages] == ["cover", "content", "summary"]
    assert "让我想想" not in outline.raw
    body = fake_api.requests_to(TEXT_PATH)[0].json()
    assert body["generationConfig"] == {"temperature": 0.9}
    assert body["contents"][0]["parts"][1]["inline_data"]["mime_type"] == "image/png"
