"""OpenAIImages against a loopback server speaking the images/generations and images/edits wire format."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from inkstream.generators.base import GeneratorError, OutlinePage, PageRequest
from inkstream.generators.remote.http_retry import RetryPolicy
from inkstream.generators.remote.openai_compat import OpenAIImages
from tests.generators.fake_apis import (  # noqa: F401
    FakeAPI,
    Reply,
    b64,
    fake_api_fixture,
    image_bytes,
    images_b64_reply,
    images_url_reply,
)

KEY = "sk-images-SECRET-77"
GEN = "/v1/images/generations"
EDITS = "/v1/images/edits"
FAST = RetryPolicy(max_attempts=3, timeout=2.0, backoff_base=0.01, backoff_max=0.02)
PAGE = PageRequest(
    page=OutlinePage(index=0, type="cover", content="[封面]\n标题：周末去哪儿\n副标题：三个近郊好去处"),
    total_pages=3,
    topic="周末去哪儿",
    full_outline="[封面]\n标题：周末去哪儿",
)


def make(api: FakeAPI, **kwargs: object) -> OpenAIImages:
    options: dict = {"base_url": api.url + "/v1", "model": "gpt-image-1", "api_key": KEY, "retry": FAST}
    return OpenAIImages(**{**options, **kwargs})


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


async def test_b64_json_response_returns_png(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, images_b64_reply(image_bytes("PNG", (6, 8))))
    png = await make(fake_api).generate_image(PAGE)
    assert png_size(png) == (6, 8)
    (sent,) = fake_api.requests_to(GEN)
    body = sent.json()
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert body["model"] == "gpt-image-1" and body["n"] == 1 and body["size"] == "1024x1536"
    assert "response_format" not in body  # gpt-image-1 rejects it; only sent when configured
    assert "标题：周末去哪儿" in body["prompt"] and "封面" in body["prompt"]
    assert "[封面]\n标题" not in body["prompt"].split("完整大纲")[0]  # the tag line is not drawn


async def test_jpeg_is_converted_to_png_and_response_format_sent_when_configured(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, images_b64_reply(image_bytes("JPEG", (10, 12))))
    png = await make(fake_api, response_format="b64_json", size="1024x1024").generate_image(PAGE)
    assert png_size(png) == (10, 12)
    body = fake_api.requests_to(GEN)[0].json()
    assert body["response_format"] == "b64_json" and body["size"] == "1024x1024"


async def test_url_response_is_downloaded_without_the_key(fake_api: FakeAPI) -> None:
    fake_api.script("/files/out.webp", Reply(body=image_bytes("WEBP", (5, 7)), content_type="image/webp"))
    fake_api.script(GEN, images_url_reply(fake_api.url + "/files/out.webp"))
    png = await make(fake_api).generate_image(PAGE)
    assert png_size(png) == (5, 7)
    (download,) = fake_api.requests_to("/files/out.webp")
    assert download.method == "GET" and "authorization" not in download.headers


async def test_reference_images_go_to_edits_when_enabled(fake_api: FakeAPI) -> None:
    refs = [image_bytes("JPEG", (3, 3), "blue"), image_bytes("PNG", (4, 4), "green")]
    fake_api.script(EDITS, images_b64_reply(image_bytes()))
    await make(fake_api, use_edits=True).generate_image(PageRequest(**{**PAGE.__dict__, "reference_images": refs}))
    (sent,) = fake_api.requests_to(EDITS)
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.body.count(b'name="image[]"') == 2
    assert refs[0] in sent.body and refs[1] in sent.body
    assert b'name="model"' in sent.body and b"gpt-image-1" in sent.body
    assert not fake_api.requests_to(GEN)


async def test_reference_images_are_ignored_without_edits(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, images_b64_reply(image_bytes()))
    await make(fake_api).generate_image(PageRequest(**{**PAGE.__dict__, "reference_images": [image_bytes()]}))
    assert len(fake_api.requests_to(GEN)) == 1 and not fake_api.requests_to(EDITS)


async def test_500_then_success(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, Reply(502, body=b"bad gateway"), images_b64_reply(image_bytes()))
    await make(fake_api).generate_image(PAGE)
    assert len(fake_api.requests_to(GEN)) == 2


async def test_429_retry_after_is_honoured(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, Reply(429, headers={"Retry-After": "0.2"}, json={}), images_b64_reply(image_bytes()))
    await make(fake_api).generate_image(PAGE)
    first, second = fake_api.requests_to(GEN)
    assert second.at - first.at >= 0.2


async def test_401_is_final_and_does_not_leak_the_key(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, Reply(401, json={"error": {"message": f"Incorrect API key provided: {KEY}."}}))
    with pytest.raises(GeneratorError) as err:
        await make(fake_api).generate_image(PAGE)
    assert not err.value.retryable and KEY not in str(err.value)
    assert len(fake_api.requests_to(GEN)) == 1


async def test_page_timeout_is_retryable(fake_api: FakeAPI) -> None:
    fake_api.script(GEN, Reply(json={}, delay=0.5))
    with pytest.raises(GeneratorError) as err:
        await make(fake_api, page_timeout=0.1).generate_image(PAGE)
    assert err.value.retryable and "longer than" in err.value.message


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"{not json", content_type="application/json"),
        Reply(json={"data": []}),
        Reply(json={"data": [{"revised_prompt": "x"}]}),
        Reply(json={"data": [{"b64_json": "***not base64***"}]}),
        Reply(json={"data": [{"b64_json": b64(b"definitely not an image")}]}),
    ],
    ids=["not-json", "empty-data", "no-image-field", "bad-base64", "not-an-image"],
)
async def test_malformed_responses_are_retryable_errors(fake_api: FakeAPI, reply: Reply) -> None:
    fake_api.script(GEN, reply)
    with pytest.raises(GeneratorError) as err:
        await make(fake_api).generate_image(PAGE)
    assert err.value.retryable
