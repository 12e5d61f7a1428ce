"""The providers file: which outline and image generators to use, and how to reach them.

Shape (see providers.example.yaml)::

    text_generation:
      active_provider: deepseek
      providers:
        deepseek: {type: openai_compatible, api_key_env: DEEPSEEK_API_KEY, base_url: ..., model: ...}
    image_generation:
      active_provider: gemini
      providers:
        gemini: {type: gemini, api_key_env: GEMINI_API_KEY, model: gemini-2.5-flash-image}

A missing section means the offline generator for it. Every provider entry is validated (not only the active
one: a typo in a standby entry should surface before the day someone switches to it), and every error names the
key path. Keys are read from the environment at build time, never kept in the parsed config.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from inkstream.generators.base import ImageGenerator, OutlineGenerator
from inkstream.generators.prompts import load_prompt
from inkstream.generators.remote.http_retry import RetryPolicy

logger = logging.getLogger(__name__)

Section = Literal["text", "image"]
SECTIONS: dict[Section, str] = {"text": "text_generation", "image": "image_generation"}
TYPES = ("openai_compatible", "gemini", "offline")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


class ProvidersConfigError(Exception):
    """The providers file cannot work; the message starts with the offending key path."""


Check = Callable[[Any], str | None]  # returns what is wrong with a value, or None


def _nonempty_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _optional_str(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "must be a string or null"


def _url(v: Any) -> str | None:
    ok = isinstance(v, str) and v.startswith(("http://", "https://"))
    return None if ok else "must be an http:// or https:// URL"


def _positive_int(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else "must be an integer >= 1"


def _number(minimum: float, strict: bool) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < minimum or (strict and v == minimum):
            return f"must be a number {'>' if strict else '>='} {minimum:g}"
        return None

    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _mapping(v: Any) -> str | None:
    return None if isinstance(v, dict) and all(isinstance(k, str) for k in v) else "must be a mapping"


def _str_mapping(v: Any) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
    return None if ok else "must be a mapping of strings to strings"


_REMOTE: dict[str, Check] = {
    "type": _nonempty_str,
    "api_key_env": _nonempty_str,
    "api_key": _nonempty_str,
    "base_url": _url,
    "model": _nonempty_str,
    "concurrency": _positive_int,
    "timeout": _number(0, strict=True),
    "page_timeout": _number(0, strict=True),
    "max_attempts": _positive_int,
    "backoff_base": _number(0, strict=False),
    "backoff_max": _number(0, strict=False),
    "retry_after_max": _number(0, strict=False),
    "temperature": _number(0, strict=False),
}
_OPENAI_EXTRA: dict[str, Check] = {"extra_body": _mapping, "extra_headers": _str_mapping}
KEYS: dict[tuple[str, Section], dict[str, Check]] = {
    ("openai_compatible", "text"): {**_REMOTE, **_OPENAI_EXTRA, "max_tokens": _positive_int, "stream": _bool},
    ("openai_compatible", "image"): {
        **{k: v for k, v in _REMOTE.items() if k != "temperature"},  # images/generations has no temperature
        **_OPENAI_EXTRA,
        "size": _nonempty_str,
        "quality": _nonempty_str,
        "response_format": _optional_str,
        "use_edits": _bool,
    },
    ("gemini", "text"): {**_REMOTE, "stream": _bool},
    ("gemini", "image"): {**_REMOTE, "aspect_ratio": _optional_str},
}
REQUIRED: dict[str, tuple[str, ...]] = {"openai_compatible": ("model",), "gemini": ("model",), "offline": ()}
_RETRY_KEYS = ("timeout", "max_attempts", "backoff_base", "backoff_max", "retry_after_max")


@dataclass(frozen=True)
class ProviderSpec:
    """One validated provider entry; `path` is its key path for error messages."""

    name: str
    type: str
    options: dict[str, Any]
    path: str


@dataclass(frozen=True)
class ProvidersConfig:
    """The active text and image providers of a validated providers file."""

    text: ProviderSpec
    image: ProviderSpec
    prompts_dir: Path | None = None
    source: str = "<providers>"
    standby: dict[Section, list[str]] = field(default_factory=dict)


def _offline(section: Section) -> ProviderSpec:
    return ProviderSpec(name="offline", type="offline", options={}, path=f"{SECTIONS[section]}.providers.offline")


def _provider(section: Section, name: str, entry: Any, path: str) -> ProviderSpec:
    if not isinstance(entry, dict):
        raise ProvidersConfigError(f"{path}: must be a mapping")
    kind = entry.get("type")
    if kind not in TYPES:
        raise ProvidersConfigError(f"{path}.type: {'missing' if kind is None else repr(kind)}; use one of {TYPES}")
    if kind == "offline":
        # Extra keys go to the offline class's constructor; a wrong one is reported when building.
        return ProviderSpec(name=name, type=kind, options={k: v for k, v in entry.items() if k != "type"}, path=path)
    allowed = KEYS[(kind, section)]
    for key, value in entry.items():
        if key not in allowed:
            raise ProvidersConfigError(f"{path}.{key}: unknown key for a {kind} {section} provider")
        problem = allowed[key](value)
        if problem:
            raise ProvidersConfigError(f"{path}.{key}: {problem}")
    for key in REQUIRED[kind]:
        if key not in entry:
            raise ProvidersConfigError(f"{path}.{key}: missing")
    if kind == "openai_compatible" and "base_url" not in entry:
        logger.info("%s.base_url not set; using %s", path, OPENAI_DEFAULT_BASE_URL)
    if kind == "gemini" and "api_key_env" not in entry and "api_key" not in entry:
        raise ProvidersConfigError(f"{path}.api_key_env: missing (Gemini needs an API key)")
    if "api_key" in entry:
        logger.warning("%s.api_key: a literal key in the providers file; prefer api_key_env", path)
    return ProviderSpec(name=name, type=kind, options={k: v for k, v in entry.items() if k != "type"}, path=path)


def _section(data: Mapping[str, Any], section: Section) -> tuple[ProviderSpec, list[str]]:
    key = SECTIONS[section]
    if key not in data or data[key] is None:
        return _offline(section), []
    block = data[key]
    if not isinstance(block, dict):
        raise ProvidersConfigError(f"{key}: must be a mapping")
    providers = block.get("providers")
    if not isinstance(providers, dict) or not providers:
        raise ProvidersConfigError(
            f"{key}.providers: {'missing' if providers is None else 'must be a non-empty mapping'}"
        )
    specs = {str(n): _provider(section, str(n), e, f"{key}.providers.{n}") for n, e in providers.items()}
    active = block.get("active_provider")
    if active is None and len(specs) == 1:
        active = next(iter(specs))
    if active is None:
        raise ProvidersConfigError(f"{key}.active_provider: missing")
    if str(active) not in specs:
        raise ProvidersConfigError(f"{key}.active_provider: {active!r} is not one of {sorted(specs)}")
    return specs[str(active)], sorted(n for n in specs if n != str(active))


def parse_providers_config(data: Any, *, base_dir: Path | None = None, source: str = "<providers>") -> ProvidersConfig:
    """Validate an already-loaded providers mapping; raise ProvidersConfigError naming the first bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProvidersConfigError(f"{source}: the top level must be a mapping")
    unknown = set(data) - {*SECTIONS.values(), "prompts_dir"}
    if unknown:
        raise ProvidersConfigError(f"{sorted(unknown)[0]}: unknown top-level key")
    prompts_dir = None
    if data.get("prompts_dir") is not None:
        if _nonempty_str(data["prompts_dir"]):
            raise ProvidersConfigError("prompts_dir: must be a non-empty string")
        prompts_dir = Path(data["prompts_dir"]).expanduser()
        if not prompts_dir.is_absolute() and base_dir is not None:
            prompts_dir = base_dir / prompts_dir  # relative to the file, not to wherever the server was started
    text, text_standby = _section(data, "text")
    image, image_standby = _section(data, "image")
    return ProvidersConfig(
        text=text,
        image=image,
        prompts_dir=prompts_dir,
        source=source,
        standby={"text": text_standby, "image": image_standby},
    )


def load_providers_config(path: Path | str) -> ProvidersConfig:
    """Read and validate a providers YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProvidersConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ProvidersConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_providers_config(data, base_dir=path.parent, source=str(path))


def _api_key(spec: ProviderSpec, env: Mapping[str, str]) -> str:
    if "api_key_env" in spec.options:
        var = spec.options["api_key_env"]
        value = env.get(var, "")
        if not value.strip():
            raise ProvidersConfigError(f"{spec.path}.api_key_env: environment variable {var} is not set")
        return value.strip()
    return str(spec.options.get("api_key", ""))


def _build_remote(spec: ProviderSpec, section: Section, env: Mapping[str, str], prompts_dir: Path | None) -> Any:
    from inkstream.generators.remote.gemini import GeminiImages, GeminiOutline
    from inkstream.generators.remote.openai_compat import OpenAIChatOutline, OpenAIImages

    opts = dict(spec.options)
    retry = RetryPolicy(**{k: opts.pop(k) for k in _RETRY_KEYS if k in opts})
    opts.pop("api_key_env", None)
    opts.pop("api_key", None)
    kwargs: dict[str, Any] = {
        "name": spec.name,
        "api_key": _api_key(spec, env),
        "retry": retry,
        "prompt_template": load_prompt("outline" if section == "text" else "image", prompts_dir),
        **opts,
    }
    if section == "text":
        kwargs["copy_template"] = load_prompt("copy", prompts_dir)
        kwargs["copy_repair_template"] = load_prompt("copy_repair", prompts_dir)
    if spec.type == "openai_compatible":
        kwargs.setdefault("base_url", OPENAI_DEFAULT_BASE_URL)
        return OpenAIChatOutline(**kwargs) if section == "text" else OpenAIImages(**kwargs)
    return GeminiOutline(**kwargs) if section == "text" else GeminiImages(**kwargs)


def _build_offline(spec: ProviderSpec, section: Section) -> Any:
    # Imported lazily: the offline renderer pulls in fonts and Pillow drawing that remote-only setups never use.
    if section == "text":
        from inkstream.generators.offline import OfflineWriter as cls
    else:
        from inkstream.generators.cards.card_renderer import CardRenderer as cls  # type: ignore[assignment]
    try:
        return cls(**spec.options)
    except TypeError as exc:
        raise ProvidersConfigError(f"{spec.path}: {exc}") from None


def build_generators(config: ProvidersConfig, env: Mapping[str, str]) -> tuple[OutlineGenerator, ImageGenerator]:
    """Instantiate the active outline and image generators; `env` supplies the keys named by `api_key_env`."""
    outline: OutlineGenerator = _build(config.text, "text", env, config.prompts_dir)
    image: ImageGenerator = _build(config.image, "image", env, config.prompts_dir)
    return outline, image


def _build(spec: ProviderSpec, section: Section, env: Mapping[str, str], prompts_dir: Path | None) -> Any:
    if spec.type == "offline":
        return _build_offline(spec, section)
    return _build_remote(spec, section, env, prompts_dir)


def build_from_file(path: Path | str, env: Mapping[str, str] | None = None) -> tuple[OutlineGenerator, ImageGenerator]:
    """Load `path` and build its generators; `env` defaults to the process environment."""
    return build_generators(load_providers_config(path), os.environ if env is None else env)
