""""Test connection" for one provider: a cheap authenticated request (list or get a model), its latency and what
went wrong in words an operator can act on. It spends no tokens: no generation is asked for."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import httpx

from inkstream.errors import InvalidInput, NotFound
from inkstream.generators.remote.providers_config import OPENAI_DEFAULT_BASE_URL, SECTIONS

GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
TIMEOUT = 10.0


def _entry(data: Mapping[str, Any], section: str, provider: str) -> dict[str, Any]:
    if section not in SECTIONS:
        raise InvalidInput("invalid_section", "section must be text or image.")
    block = data.get(SECTIONS[section]) or {}  # type: ignore[index]
    entry = (block.get("providers") or {}).get(provider) if isinstance(block, dict) else None
    if not isinstance(entry, dict):
        if provider == "offline":
            return {"type": "offline"}
        raise NotFound("provider_not_found", f"No {section} provider named {provider!r} in the configuration.")
    return entry


def _key(entry: Mapping[str, Any]) -> str | None:
    if "api_key_env" in entry:
        return os.environ.get(str(entry["api_key_env"]), "").strip() or None
    key = entry.get("api_key")
    return str(key) if key else None


async def check_provider(data: Mapping[str, Any], section: str, provider: str) -> dict[str, Any]:
    """`data` has its keys unsealed. Never raises for the remote side's failures: they are the answer."""
    entry = _entry(data, section, provider)
    kind = entry.get("type")
    if kind == "offline":
        return {"ok": True, "latency_ms": 0, "message": "Offline generator: nothing to connect to."}
    key = _key(entry)
    if "api_key_env" in entry and key is None:
        return {"ok": False, "latency_ms": 0,
                "message": f"Environment variable {entry['api_key_env']} is not set on this node."}
    if kind == "gemini":
        base = str(entry.get("base_url") or GEMINI_DEFAULT_BASE_URL).rstrip("/")
        url, headers = f"{base}/v1beta/models/{entry.get('model', '')}", {"x-goog-api-key": key or ""}
    else:
        base = str(entry.get("base_url") or OPENAI_DEFAULT_BASE_URL).rstrip("/")
        url, headers = f"{base}/models", ({"Authorization": f"Bearer {key}"} if key else {})
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return {"ok": False, "latency_ms": round((time.monotonic() - started) * 1000),
                "message": f"Cannot reach {base}: {type(exc).__name__}"}
    latency = round((time.monotonic() - started) * 1000)
    if response.status_code in (401, 403):
        return {"ok": False, "latency_ms": latency, "status": response.status_code,
                "message": "The provider rejected the API key."}
    if response.status_code >= 400:
        return {"ok": False, "latency_ms": latency, "status": response.status_code,
                "message": f"The provider answered HTTP {response.status_code}."}
    return {"ok": True, "latency_ms": latency, "status": response.status_code, "message": "Connected."}
