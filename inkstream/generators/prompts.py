"""Prompt templates for the remote generators, kept as plain text files so they can be edited without code.

The defaults ship inside the package (`inkstream/generators/prompts/*.txt`, read with importlib.resources so they
work from a wheel or a zip). A deployment can point `prompts_dir` in the providers file at its own copies; a file
missing there falls back to the packaged one.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

from inkstream.generators.base import PageRequest, PageType
from inkstream.generators.outline_format import strip_type_tag

PromptName = Literal["outline", "image", "copy", "copy_repair"]

# The only placeholders a template may use. Anything else in braces (a JSON example, an emoji kaomoji) is left
# untouched, which is why this is not str.format: an edited template must never crash a task with KeyError.
PLACEHOLDERS = ("topic", "page_content", "page_type", "full_outline", "user_topic", "problem")
_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

PAGE_TYPE_LABELS: dict[PageType, str] = {"cover": "封面", "content": "内容", "summary": "总结"}


def load_prompt(name: PromptName, directory: Path | None = None) -> str:
    """Return the template text for `name`, from `directory` when it has one, else the packaged default."""
    if directory is not None:
        candidate = Path(directory) / f"{name}.txt"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return (
        resources.files("inkstream.generators").joinpath("prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    )


def render(template: str, **values: str) -> str:
    """Fill the known placeholders of `template`; unknown keys are an error, unknown braces are kept."""
    unknown = set(values) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown prompt placeholder(s): {', '.join(sorted(unknown))}")
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), template)


def outline_prompt(template: str, topic: str) -> str:
    """The text sent to an outline model for `topic`."""
    return render(template, topic=topic, user_topic=topic)


def image_prompt(template: str, request: PageRequest) -> str:
    """The text sent to an image model for one page."""
    return render(
        template,
        # The tag line is for parsing; left in, image models tend to draw "[封面]" onto the card.
        page_content=strip_type_tag(request.page.content),
        page_type=PAGE_TYPE_LABELS.get(request.page.type, request.page.type),
        full_outline=request.full_outline,
        user_topic=request.topic,
        topic=request.topic,
    )


def copy_prompt(template: str, topic: str, outline: str) -> str:
    """The text sent to a text model for the post's copy."""
    return render(template, topic=topic or "（见大纲）", user_topic=topic, full_outline=outline)


def copy_repair_prompt(template: str, problem: str) -> str:
    """The follow-up turn when the model's copy broke a rule."""
    return render(template, problem=problem)
