"""Generators for Google Gemini over its REST API: image pages (e.g. gemini-2.5-flash-image) and text outlines.

Why plain httpx and not the `google-genai` SDK: the SDK is not installed here (nor a dependency of this project),
it brings its own retry and HTTP layers that would fight `request_with_retry`'s classification, and its
transport is awkward to point at a loopback fake in tests. The REST surface used is one endpoint —
POST {base_url}/v1beta/models/{model}:generateContent with the key in `x-goog-api-key` (a header, so it never
lands in a URL, a proxy log or an exception message) — which is also what Gemini-compatible proxies serve.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from inkstream.generators.base import GeneratorError, Outline, PageRequest, PostCopy, TextSink
from inkstream.generators.prompts import image_prompt, load_prompt, outline_prompt
from inkstream.generators.remote.copy_writer import Turn, write_copy
from inkstream.generators.remote.http_retry import CallLimits, RetryPolicy, request_with_retry
from inkstream.generators.remote.openai_compat import json_body, parse_outline_text, sniff_image_mime, to_png
from inkstream.generators.remote.text_stream import read_text_stream

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
# Finish reasons that mean "the model refused this content": the same prompt will be refused again.
_BLOCKED = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "RECITATION"})


class _GeminiClient:
    """Shared plumbing for both Gemini generators: endpoint, key header, limits, response reading."""

    def __init__(
        self,
        *,
        name: str,
        model: str,
        api_key: str,
        base_url: str,
        prompt_template: str,
        temperature: float | None,
        retry: RetryPolicy,
        concurrency: int,
        page_timeout: float,
        client: httpx.AsyncClient | None,
    ) -> None:
        self.name = name
        self.model = model
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.template = prompt_template
        self.temperature = temperature
        self.retry = retry
        self.limits = CallLimits(concurrency=concurrency, page_timeout=page_timeout)
        self._client = client

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/v1beta/models/{self.model}:generateContent"

    async def _generate(self, parts: list[dict[str, Any]], generation_config: dict[str, Any]) -> list[dict[str, Any]]:
        """POST one generateContent call and return candidates[0].content.parts, or raise GeneratorError."""
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=True)
        body: dict[str, Any] = {"contents": [{"role": "user", "parts": parts}]}
        if generation_config:
            body["generationConfig"] = generation_config
        response = await request_with_retry(
            self._client,
            "POST",
            self.endpoint,
            provider=self.name,
            policy=self.retry,
            secrets=[self._api_key],
            headers={"x-goog-api-key": self._api_key},
            json=body,
        )
        return self._parts(json_body(response, self.name))

    def _parts(self, payload: Any) -> list[dict[str, Any]]:
        if not isinstance(payload, dict):
            raise GeneratorError(f"{self.name}: response is not a JSON object", retryable=True)
        block = (payload.get("promptFeedback") or {}).get("blockReason")
        if block:
            raise GeneratorError(f"{self.name}: prompt blocked by the provider ({block})", retryable=False)
        candidates = payload.get("candidates")
        if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
            raise GeneratorError(f"{self.name}: response has no candidates", retryable=True)
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts")
        reason = candidate.get("finishReason", "")
        if reason in _BLOCKED and not parts:
            raise GeneratorError(f"{self.name}: generation stopped by the provider ({reason})", retryable=False)
        if not isinstance(parts, list):
            raise GeneratorError(f"{self.name}: candidates[0].content.parts is missing", retryable=True)
        return [p for p in parts if isinstance(p, dict)]

    def _with_images(self, text: str, images: list[bytes]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"text": text}]
        for image in images:
            encoded = base64.b64encode(image).decode("ascii")
            parts.append({"inline_data": {"mime_type": sniff_image_mime(image), "data": encoded}})
        return parts

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()


class GeminiImages(_GeminiClient):
    """Image generator: text prompt plus reference images in, the first inline image part out (as PNG)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gemini-2.5-flash-image",
        base_url: str = DEFAULT_BASE_URL,
        name: str = "gemini_images",
        aspect_ratio: str | None = "3:4",
        temperature: float | None = None,
        prompt_template: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 15,
        page_timeout: float = 180.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            name=name,
            model=model,
            api_key=api_key,
            base_url=base_url,
            prompt_template=prompt_template if prompt_template is not None else load_prompt("image"),
            temperature=temperature,
            retry=retry,
            concurrency=concurrency,
            page_timeout=page_timeout,
            client=client,
        )
        self.aspect_ratio = aspect_ratio

    def generation_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        if self.aspect_ratio:
            config["imageConfig"] = {"aspectRatio": self.aspect_ratio}
        if self.temperature is not None:
            config["temperature"] = self.temperature
        return config

    async def generate_image(self, request: PageRequest) -> bytes:
        parts = self._with_images(image_prompt(self.template, request), request.reference_images)

        async def call() -> bytes:
            out = await self._generate(parts, self.generation_config())
            for part in out:
                # REST answers in camelCase; accept snake_case too, as some proxies re-serialise it.
                inline = part.get("inlineData") or part.get("inline_data")
                if isinstance(inline, dict) and inline.get("data"):
                    try:
                        data = base64.b64decode(inline["data"], validate=True)
                    except (ValueError, TypeError):
                        raise GeneratorError(f"{self.name}: inlineData is not valid base64", retryable=True) from None
                    return to_png(data, self.name)
            said = " ".join(str(p.get("text", "")) for p in out).strip()[:200]
            # Image models sometimes answer in words only ("I can't draw that…"); another try often draws.
            raise GeneratorError(
                f"{self.name}: no image in the response" + (f": {said}" if said else ""), retryable=True
            )

        return await self.limits.run(self.name, call)


class GeminiOutline(_GeminiClient):
    """Outline and copy generator: the prompts (plus reference images) to a Gemini text model.

    With `stream` (the default) it calls `streamGenerateContent?alt=sse` and passes the text on as it arrives.
    """

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gemini-2.5-flash",
        base_url: str = DEFAULT_BASE_URL,
        name: str = "gemini_text",
        temperature: float | None = None,
        prompt_template: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 15,
        page_timeout: float = 180.0,
        client: httpx.AsyncClient | None = None,
        stream: bool = True,
        copy_template: str | None = None,
        copy_repair_template: str | None = None,
    ) -> None:
        super().__init__(
            name=name,
            model=model,
            api_key=api_key,
            base_url=base_url,
            prompt_template=prompt_template if prompt_template is not None else load_prompt("outline"),
            temperature=temperature,
            retry=retry,
            concurrency=concurrency,
            page_timeout=page_timeout,
            client=client,
        )
        self.stream = stream
        self.copy_template = copy_template if copy_template is not None else load_prompt("copy")
        self.copy_repair_template = (
            copy_repair_template if copy_repair_template is not None else load_prompt("copy_repair")
        )

    @property
    def stream_endpoint(self) -> str:
        return f"{self.base_url}/v1beta/models/{self.model}:streamGenerateContent?alt=sse"

    def _text_of(self, payload: Any) -> list[str]:
        # Thinking models may add parts flagged `thought: true`; they are not the answer.
        return [str(p["text"]) for p in self._parts(payload) if p.get("text") and not p.get("thought")]

    def _streamed_pieces(self, payload: Any) -> list[str]:
        if isinstance(payload, dict) and not payload.get("candidates") and not payload.get("promptFeedback"):
            return []  # a usage-only chunk at the end
        return self._text_of(payload)

    def _whole(self, payload: Any) -> str:
        # Without alt=sse some proxies send the whole stream as one JSON array of responses.
        chunks = payload if isinstance(payload, list) else [payload]
        return "".join(piece for chunk in chunks for piece in self._streamed_pieces(chunk))

    async def _ask(self, contents: list[dict[str, Any]], sink: TextSink | None) -> str:
        body: dict[str, Any] = {"contents": contents}
        if self.temperature is not None:
            body["generationConfig"] = {"temperature": self.temperature}
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=True)
        common: dict[str, Any] = {
            "provider": self.name, "policy": self.retry, "secrets": [self._api_key],
            "headers": {"x-goog-api-key": self._api_key}, "json": body,
        }
        if self.stream:
            response = await request_with_retry(self._client, "POST", self.stream_endpoint, stream=True, **common)
            text = await read_text_stream(response, self.name, self._streamed_pieces, self._whole, sink)
        else:
            response = await request_with_retry(self._client, "POST", self.endpoint, **common)
            text = "".join(self._text_of(json_body(response, self.name)))
            if sink is not None:
                await sink.write(text)
        if not text.strip():
            raise GeneratorError(f"{self.name}: the model returned an empty answer", retryable=True)
        return text

    async def generate_outline(
        self, topic: str, reference_images: list[bytes], sink: TextSink | None = None
    ) -> Outline:
        parts = self._with_images(outline_prompt(self.template, topic), reference_images)

        async def call() -> Outline:
            return parse_outline_text(await self._ask([{"role": "user", "parts": parts}], sink), self.name)

        return await self.limits.run(self.name, call)

    async def generate_copy(self, topic: str, outline: str, sink: TextSink | None = None) -> PostCopy:
        async def ask(turns: list[Turn], turn_sink: TextSink | None) -> str:
            contents = [{"role": "model" if r == "assistant" else "user", "parts": [{"text": t}]} for r, t in turns]
            return await self._ask(contents, turn_sink)

        async def call() -> PostCopy:
            return await write_copy(self.name, ask, self.copy_template, self.copy_repair_template, topic, outline,
                                    sink)

        return await self.limits.run(self.name, call)
