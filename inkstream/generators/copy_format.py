"""The post copy's rules and its JSON form: what a model must return, and the one validator everyone uses.

A copy is 3 title options of at most 20 characters (Xiaohongshu's title limit), a body of 200–800 characters in
plain text (no Markdown: the app does not render it) and 5–10 tags. The same validator checks a model's answer
(which must also carry emoji, as the prompt asks) and a user's edit (which need not).
"""

from __future__ import annotations

import json
import re
from typing import Any

from inkstream.generators.base import GeneratorError, PostCopy

TITLE_COUNT = 3
TITLE_MAX = 20
BODY_MIN, BODY_MAX = 200, 800
TAGS_MIN, TAGS_MAX = 5, 10
TAG_MAX = 20

_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
# Markdown a chat model tends to slip in: headings, bullets, quotes, bold/italic markers, links, code fences.
_MARKDOWN_RE = re.compile(r"(^\s{0,3}(#{1,6}\s|[*+-]\s|>\s|```))|(\*\*|__)|(\[[^\]\n]+\]\([^)\n]+\))", re.MULTILINE)
# Emoji and pictographs (the ranges Xiaohongshu posts use: symbols, pictographs, dingbats, flags).
_EMOJI_RE = re.compile("[\u2600-\u27bf\u2b50\u2b55\u2705\u231a-\u23ff\U0001f000-\U0001faff]")


class CopyInvalid(ValueError):
    """A copy breaks a rule; `code` names which (also the API's error code for an edit)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CopyGenerationFailed(GeneratorError):
    """The text provider's copy was still invalid after the repair retry."""

    def __init__(self, provider: str, problem: CopyInvalid) -> None:
        super().__init__(f"{provider}: the copy was invalid twice ({problem.code}: {problem.message})",
                         retryable=True)
        self.code = problem.code


def has_emoji(text: str) -> bool:
    return _EMOJI_RE.search(text) is not None


def extract_json(text: str) -> Any:
    """The JSON object in a model's answer: reasoning blocks and code fences around it are ignored."""
    cleaned = _THINK_RE.sub("", text)
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end <= start:
        raise CopyInvalid("copy_not_json", "The answer holds no JSON object.")
    try:
        return json.loads(cleaned[start:end + 1])
    except ValueError as exc:
        raise CopyInvalid("copy_not_json", f"The answer is not valid JSON ({exc}).") from None


def validate_copy(data: Any, *, require_emoji: bool = False) -> PostCopy:
    """Check `data` ({titles, body, tags}) against the rules and return it normalised (tags without '#')."""
    if not isinstance(data, dict):
        raise CopyInvalid("copy_not_object", "The copy must be an object with titles, body and tags.")
    titles = data.get("titles")
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
        raise CopyInvalid("copy_titles_invalid", "titles must be a list of strings.")
    titles = [t.strip() for t in titles]
    if len(titles) != TITLE_COUNT or not all(titles):
        raise CopyInvalid("copy_titles_invalid", f"Give exactly {TITLE_COUNT} non-empty titles.")
    for title in titles:
        if len(title) > TITLE_MAX:
            raise CopyInvalid("copy_title_too_long", f"Title {title!r} is over {TITLE_MAX} characters.")
    body = data.get("body")
    if not isinstance(body, str):
        raise CopyInvalid("copy_body_invalid", "body must be a string.")
    body = body.strip().replace("\r\n", "\n")
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise CopyInvalid("copy_body_length", f"The body has {len(body)} characters; it needs {BODY_MIN}–{BODY_MAX}.")
    if _MARKDOWN_RE.search(body):
        raise CopyInvalid("copy_body_markdown", "The body must be plain text, without Markdown.")
    if require_emoji and not has_emoji(body):
        raise CopyInvalid("copy_body_no_emoji", "The body should carry a few emoji, Xiaohongshu style.")
    tags = data.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise CopyInvalid("copy_tags_invalid", "tags must be a list of strings.")
    tags = list(dict.fromkeys(t.strip().lstrip("#").strip() for t in tags))
    if not TAGS_MIN <= len(tags) <= TAGS_MAX or not all(tags):
        raise CopyInvalid("copy_tags_invalid", f"Give {TAGS_MIN}–{TAGS_MAX} different, non-empty tags.")
    for tag in tags:
        if len(tag) > TAG_MAX or re.search(r"\s|#", tag):
            raise CopyInvalid("copy_tags_invalid", f"Tag {tag!r} must be one word of at most {TAG_MAX} characters.")
    return PostCopy(titles=titles, body=body, tags=tags)


def copy_to_dict(copy: PostCopy) -> dict[str, Any]:
    return {"titles": list(copy.titles), "body": copy.body, "tags": list(copy.tags)}


def copy_as_text(copy: PostCopy) -> str:
    """The copy as one plain text, ready to paste into the Xiaohongshu app (post.txt, post.md)."""
    return "\n".join([*copy.titles, "", copy.body, "", " ".join(f"#{t}" for t in copy.tags)]) + "\n"
