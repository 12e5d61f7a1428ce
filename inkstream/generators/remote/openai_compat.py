"""Generators for any OpenAI-compatible endpoint: chat completions for outlines, images/generations for pages.

Only the standard wire fields are sent (model, messages, prompt, size, n, response_format), so the same code
talks to OpenAI, DeepSeek, Qwen's compatible mode, Ollama and vLLM; `extra_body` carries anything else a
deployment needs. The API key travels per request, never as a client default header, so downloading an image
from the `url` a provider returns does not hand the key to a CDN.

Reference images: the chat outline sends them as `image_url` data URLs (vision models use them, others ignore or
reject them). The image generator sends them only when `use_edits=True`, to `/images/edits` as multipart
`image`/`image[]` files (OpenAI gpt-image-1, some proxies); `/images/generations` has no field for them, so
without edits they are ignored.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError

from inkstream.generators.base import GeneratorError, Outline, PageRequest, PostCopy, TextSink
from inkstream.generators.outline_format import parse_outline
from inkstream.generators.prompts import image_prompt, load_prompt, outline_prompt
from inkstream.generators.remote.copy_writer import Turn, write_copy
from inkstream.generators.remote.http_retry import CallLimits, RetryPolicy, request_with_retry
from inkstream.generators.remote.text_stream import read_text_stream

_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE_RE = re.compile(r"^```[\w-]*\s*\n(.*?)\n```\s*$", re.DOTALL)


def sniff_image_mime(data: bytes) -> str:
    """The MIME type of PNG/JPEG/WebP/GIF bytes by magic number (uploads were validated; default to PNG)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "image/png"


def data_url(data: bytes) -> str:
    """`data:` URL for image bytes, as vision chat APIs accept in `image_url.url`."""
    return f"data:{sniff_image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"


def to_png(data: bytes, provider: str) -> bytes:
    """Whatever image format a provider returned, as PNG bytes; undecodable data is a retryable GeneratorError."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format == "PNG":
                image.verify()  # cheap integrity check; the original bytes are what we keep
                return data
            converted = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
            out = io.BytesIO()
            converted.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise GeneratorError(f"{provider}: returned data is not a readable image ({exc})", retryable=True) from None


def clean_model_text(text: str) -> str:
    """Strip what chat models wrap around the answer: reasoning `<think>` blocks and a Markdown code fence."""
    text = _THINK_RE.sub("", text).strip()
    fenced = _FENCE_RE.match(text)
    return fenced.group(1).strip() if fenced else text


def parse_outline_text(raw: str, provider: str) -> Outline:
    """Turn a model's outline text into an Outline; an answer with no pages is retryable (models vary per try)."""
    cleaned = clean_model_text(raw)
    try:
        pages = parse_outline(cleaned)
    except ValueError as exc:
        raise GeneratorError(f"{provider}: outline could not be parsed: {exc}", retryable=True) from None
    if not pages:
        raise GeneratorError(f"{provider}: the model returned no outline pages", retryable=True)
    return Outline(raw=cleaned, pages=list(pages))


def json_body(response: httpx.Response, provider: str) -> Any:
    """The JSON of a successful response; a non-JSON body (HTML error page, truncated stream) is retryable."""
    try:
        return response.json()
    except ValueError:
        snippet = " ".join(response.text.split())[:200]
        raise GeneratorError(f"{provider}: response is not valid JSON: {snippet!r}", retryable=True) from None


def _delta_pieces(payload: Any) -> list[str]:
    """The text of one streamed chat.completion.chunk (`choices[0].delta.content`); role-only chunks have none."""
    try:
        content = payload["choices"][0]["delta"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return []  # usage-only chunks and keep-alives
    return [content] if isinstance(content, str) and content else []


class _OpenAIClient:
    """Shared plumbing: base URL, key, lazily created httpx client (bound to the loop that first uses it)."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str,
        retry: RetryPolicy,
        concurrency: int,
        page_timeout: float,
        client: httpx.AsyncClient | None,
        extra_headers: dict[str, str] | None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.retry = retry
        self.limits = CallLimits(concurrency=concurrency, page_timeout=page_timeout)
        self._client = client
        self._extra_headers = dict(extra_headers or {})

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=True)
        return self._client

    def _headers(self) -> dict[str, str]:
        headers = dict(self._extra_headers)
        if self._api_key:  # Ollama and a local vLLM need none; sending an empty Bearer confuses some proxies
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    async def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await request_with_retry(
            self._http(),
            "POST",
            f"{self.base_url}{path}",
            provider=self.name,
            policy=self.retry,
            secrets=[self._api_key],
            headers=self._headers(),
            **kwargs,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()


class OpenAIChatOutline(_OpenAIClient):
    """Outline and copy generator over POST {base_url}/chat/completions.

    With `stream` (the default) it asks for `stream: true` and passes the text on as it arrives; a server that
    answers with plain JSON anyway is read the ordinary way.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        name: str = "openai_compatible",
        temperature: float | None = None,
        max_tokens: int | None = None,
        prompt_template: str | None = None,
        extra_body: dict[str, Any] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 15,
        page_timeout: float = 180.0,
        client: httpx.AsyncClient | None = None,
        extra_headers: dict[str, str] | None = None,
        stream: bool = True,
        copy_template: str | None = None,
        copy_repair_template: str | None = None,
    ) -> None:
        super().__init__(
            name=name,
            base_url=base_url,
            api_key=api_key,
            retry=retry,
            concurrency=concurrency,
            page_timeout=page_timeout,
            client=client,
            extra_headers=extra_headers,
        )
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.template = prompt_template if prompt_template is not None else load_prompt("outline")
        self.copy_template = copy_template if copy_template is not None else load_prompt("copy")
        self.copy_repair_template = (
            copy_repair_template if copy_repair_template is not None else load_prompt("copy_repair")
        )
        self.extra_body = dict(extra_body or {})
        self.stream = stream

    def _body(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.stream:
            body["stream"] = True
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return {**body, **self.extra_body}

    def build_body(self, topic: str, reference_images: list[bytes]) -> dict[str, Any]:
        """The chat/completions request body; plain string content when there are no images (widest support)."""
        text = outline_prompt(self.template, topic)
        content: str | list[dict[str, Any]] = text
        if reference_images:
            content = [{"type": "text", "text": text}]
            content += [{"type": "image_url", "image_url": {"url": data_url(img)}} for img in reference_images]
        return self._body([{"role": "user", "content": content}])

    async def _complete(self, body: dict[str, Any], sink: TextSink | None) -> str:
        if not body.get("stream"):
            response = await self._post("/chat/completions", json=body)
            text = self._message_text(json_body(response, self.name))
            if sink is not None:
                await sink.write(text)
            return text
        response = await self._post("/chat/completions", json=body, stream=True)
        text = await read_text_stream(
            response, self.name, _delta_pieces, lambda p: self._message_text(p), sink
        )
        if not text.strip():
            raise GeneratorError(f"{self.name}: the model returned an empty answer", retryable=True)
        return text

    async def generate_outline(
        self, topic: str, reference_images: list[bytes], sink: TextSink | None = None
    ) -> Outline:
        body = self.build_body(topic, reference_images)

        async def call() -> Outline:
            return parse_outline_text(await self._complete(body, sink), self.name)

        return await self.limits.run(self.name, call)

    async def generate_copy(self, topic: str, outline: str, sink: TextSink | None = None) -> PostCopy:
        async def ask(turns: list[Turn], turn_sink: TextSink | None) -> str:
            return await self._complete(self._body([{"role": r, "content": t} for r, t in turns]), turn_sink)

        async def call() -> PostCopy:
            return await write_copy(self.name, ask, self.copy_template, self.copy_repair_template, topic, outline,
                                    sink)

        return await self.limits.run(self.name, call)

    def _message_text(self, payload: Any) -> str:
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise GeneratorError(f"{self.name}: response has no choices[0].message.content", retryable=True) from None
        if isinstance(content, list):  # some servers return content parts even for text-only answers
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str) or not content.strip():
            raise GeneratorError(f"{self.name}: the model returned an empty answer", retryable=True)
        return content


class OpenAIImages(_OpenAIClient):
    """Image generator over POST {base_url}/images/generations (or /images/edits with reference images)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        name: str = "openai_images",
        size: str = "1024x1536",
        quality: str | None = None,
        response_format: str | None = None,
        use_edits: bool = False,
        prompt_template: str | None = None,
        extra_body: dict[str, Any] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 15,
        page_timeout: float = 180.0,
        client: httpx.AsyncClient | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            name=name,
            base_url=base_url,
            api_key=api_key,
            retry=retry,
            concurrency=concurrency,
            page_timeout=page_timeout,
            client=client,
            extra_headers=extra_headers,
        )
        self.model = model
        self.size = size
        self.quality = quality
        # None omits the field: gpt-image-1 rejects it (always base64), dall-e-3 defaults to url.
        self.response_format = response_format
        self.use_edits = use_edits
        self.template = prompt_template if prompt_template is not None else load_prompt("image")
        self.extra_body = dict(extra_body or {})

    def build_fields(self, request: PageRequest) -> dict[str, Any]:
        """The request fields shared by generations (JSON) and edits (multipart)."""
        fields: dict[str, Any] = {"model": self.model, "prompt": image_prompt(self.template, request), "n": 1}
        if self.size:
            fields["size"] = self.size
        if self.quality:
            fields["quality"] = self.quality
        if self.response_format:
            fields["response_format"] = self.response_format
        return {**fields, **self.extra_body}

    async def generate_image(self, request: PageRequest) -> bytes:
        fields = self.build_fields(request)

        async def call() -> bytes:
            if self.use_edits and request.reference_images:
                images = request.reference_images
                key = "image" if len(images) == 1 else "image[]"
                files = [
                    (key, (f"reference-{i}.{sniff_image_mime(img).split('/')[1]}", img, sniff_image_mime(img)))
                    for i, img in enumerate(images)
                ]
                data = {k: str(v) for k, v in fields.items()}
                response = await self._post("/images/edits", data=data, files=files)
            else:
                response = await self._post("/images/generations", json=fields)
            return to_png(await self._image_bytes(json_body(response, self.name)), self.name)

        return await self.limits.run(self.name, call)

    async def _image_bytes(self, payload: Any) -> bytes:
        try:
            item = payload["data"][0]
        except (KeyError, IndexError, TypeError):
            raise GeneratorError(f"{self.name}: response has no data[0]", retryable=True) from None
        if not isinstance(item, dict):
            raise GeneratorError(f"{self.name}: data[0] is not an object", retryable=True)
        if item.get("b64_json"):
            try:
                return base64.b64decode(item["b64_json"], validate=True)
            except (ValueError, TypeError):
                raise GeneratorError(f"{self.name}: b64_json is not valid base64", retryable=True) from None
        if item.get("url"):
            # No auth headers here: the URL usually points at a storage bucket, not at the API.
            response = await request_with_retry(
                self._http(), "GET", str(item["url"]), provider=self.name, policy=self.retry, secrets=[self._api_key]
            )
            return response.content
        raise GeneratorError(f"{self.name}: data[0] has neither b64_json nor url", retryable=True)
