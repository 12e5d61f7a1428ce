"""Loading, validating and building from the providers YAML file."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import pytest
import yaml

from inkstream.generators.base import OutlinePage, PageRequest
from inkstream.generators.remote.gemini import GeminiImages, GeminiOutline
from inkstream.generators.remote.openai_compat import OpenAIChatOutline, OpenAIImages
from inkstream.generators.remote.providers_config import (
    KEYS,
    ProvidersConfigError,
    build_from_file,
    build_generators,
    load_providers_config,
    parse_providers_config,
)
from tests.generators.fake_apis import FakeAPI, fake_api_fixture, image_bytes, images_b64_reply  # noqa: F401

EXAMPLE = resources.files("inkstream.generators.remote").joinpath("providers.example.yaml")
ENV = {"DEEPSEEK_API_KEY": "sk-ds", "GEMINI_API_KEY": "AIza-g", "OPENAI_API_KEY": "sk-oa", "DASHSCOPE_API_KEY": "q"}


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def error_of(data: object, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ProvidersConfigError) as err:
        build_generators(parse_providers_config(data), env or ENV)
    return str(err.value)


def test_example_file_builds_its_active_providers() -> None:
    config = parse_providers_config(example())
    assert (config.text.name, config.image.name) == ("deepseek", "gemini")
    outline, image = build_generators(config, ENV)
    assert isinstance(outline, OpenAIChatOutline) and outline.model == "deepseek-chat"
    assert outline.base_url == "https://api.deepseek.com/v1" and outline.temperature == 0.8
    assert isinstance(image, GeminiImages) and image.model == "gemini-2.5-flash-image"
    assert image.limits.concurrency == 15 and image.limits.page_timeout == 180


@pytest.mark.parametrize(
    ("text", "image", "types"),
    [
        ("gemini", "openai", (GeminiOutline, OpenAIImages)),
        ("qwen", "gemini", (OpenAIChatOutline, GeminiImages)),
    ],
)
def test_every_remote_entry_of_the_example_builds(text: str, image: str, types: tuple[type, type]) -> None:
    data = example()
    data["text_generation"]["active_provider"] = text
    data["image_generation"]["active_provider"] = image
    outline, generator = build_generators(parse_providers_config(data), ENV)
    assert isinstance(outline, types[0]) and isinstance(generator, types[1])


def test_ollama_entry_needs_no_key_and_keeps_its_limits() -> None:
    data = example()
    data["text_generation"]["active_provider"] = "ollama"
    outline, _ = build_generators(parse_providers_config(data), ENV)
    assert isinstance(outline, OpenAIChatOutline)
    assert outline.limits.concurrency == 2 and outline.limits.page_timeout == 600
    assert "Authorization" not in outline._headers()


@pytest.mark.parametrize(("kind", "section"), sorted(KEYS))
def test_every_allowed_key_is_accepted_by_the_generator(kind: str, section: str) -> None:
    samples = {"api_key_env": "K", "base_url": "http://127.0.0.1:1", "response_format": "b64_json", "use_edits": True,
               "stream": False}
    samples |= {
        "extra_body": {"seed": 1},
        "extra_headers": {"X-Org": "o"},
        "aspect_ratio": "3:4",
        "size": "1x1",
        "quality": "high",
    }
    entry = {key: samples.get(key, 1) for key in KEYS[(kind, section)] if key != "api_key"}  # type: ignore[index]
    entry |= {"type": kind, "model": "m"}
    block = {"active_provider": "p", "providers": {"p": entry}}
    config = parse_providers_config({f"{section}_generation": block})
    outline, image = build_generators(config, {"K": "key"})
    assert (outline if section == "text" else image).name == "p"


def test_missing_model_names_the_key_path() -> None:
    data = example()
    del data["image_generation"]["providers"]["gemini"]["model"]
    assert error_of(data) == "image_generation.providers.gemini.model: missing"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["image_generation"]["providers"]["openai"].update(modle="x"),
            "providers.openai.modle: unknown key",
        ),
        (lambda d: d["text_generation"]["providers"]["deepseek"].update(type="claude"), "deepseek.type: 'claude'"),
        (lambda d: d["image_generation"]["providers"]["gemini"].update(concurrency=0), "gemini.concurrency: must be"),
        (lambda d: d["image_generation"]["providers"]["gemini"].update(page_timeout="a"), "gemini.page_timeout"),
        (lambda d: d["text_generation"]["providers"]["qwen"].update(base_url="ftp://x"), "qwen.base_url: must be"),
        (lambda d: d["text_generation"].update(active_provider="nope"), "text_generation.active_provider: 'nope'"),
        (lambda d: d["image_generation"]["providers"]["gemini"].pop("api_key_env"), "gemini.api_key_env: missing"),
        (lambda d: d.update(extra=1), "extra: unknown top-level key"),
        (lambda d: d["image_generation"].update(providers={}), "image_generation.providers: must be a non-empty"),
    ],
)
def test_validation_errors_name_the_offending_key(mutate: object, expected: str) -> None:
    data = example()
    mutate(data)  # type: ignore[operator]
    assert expected in error_of(data)


def test_missing_environment_variable_is_reported_without_any_value() -> None:
    message = error_of(example(), env={"DEEPSEEK_API_KEY": "sk-ds"})
    assert message == "image_generation.providers.gemini.api_key_env: environment variable GEMINI_API_KEY is not set"


def test_literal_api_key_is_accepted_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    data = example()
    entry = data["image_generation"]["providers"]["gemini"]
    del entry["api_key_env"]
    entry["api_key"] = "AIza-literal"
    with caplog.at_level(logging.WARNING):
        _, image = build_generators(parse_providers_config(data), {"DEEPSEEK_API_KEY": "sk-ds"})
    assert "image_generation.providers.gemini.api_key" in caplog.text and "AIza-literal" not in caplog.text
    assert isinstance(image, GeminiImages)


def test_missing_sections_mean_offline() -> None:
    config = parse_providers_config({"image_generation": example()["image_generation"]})
    assert config.text.type == "offline" and config.image.name == "gemini"


def test_offline_type_builds_the_offline_generators() -> None:
    outline, image = build_generators(parse_providers_config({}), {})
    assert type(outline).__name__ == "OfflineWriter" and type(image).__name__ == "CardRenderer"
    bad = {"image_generation": {"providers": {"offline": {"type": "offline", "colour": "red"}}}}
    assert "image_generation.providers.offline" in error_of(bad)


def test_unreadable_or_invalid_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ProvidersConfigError, match="cannot read"):
        load_providers_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("text_generation: [unclosed", encoding="utf-8")
    with pytest.raises(ProvidersConfigError, match="not valid YAML"):
        load_providers_config(tmp_path / "bad.yaml")


async def test_file_with_prompts_dir_drives_a_real_request(tmp_path: Path, fake_api: FakeAPI) -> None:
    (tmp_path / "my-prompts").mkdir()
    (tmp_path / "my-prompts" / "image.txt").write_text("自定义：{page_content} {json: kept}", encoding="utf-8")
    config = {
        "prompts_dir": "my-prompts",
        "image_generation": {
            "active_provider": "local",
            "providers": {
                "local": {
                    "type": "openai_compatible",
                    "api_key_env": "LOCAL_KEY",
                    "base_url": fake_api.url + "/v1",
                    "model": "flux",
                    "max_attempts": 1,
                    "timeout": 5,
                }
            },
        },
    }
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    fake_api.script("/v1/images/generations", images_b64_reply(image_bytes()))
    _, image = build_from_file(path, env={"LOCAL_KEY": "sk-local"})
    page = PageRequest(page=OutlinePage(index=0, type="content", content="[内容]\n第一站"), total_pages=1)
    assert (await image.generate_image(page)).startswith(b"\x89PNG")
    (sent,) = fake_api.requests_to("/v1/images/generations")
    assert sent.json()["prompt"] == "自定义：第一站 {json: kept}"
    assert sent.headers["authorization"] == "Bearer sk-local"
