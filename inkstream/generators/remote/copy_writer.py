"""Getting a valid post copy out of a chat model: ask, validate, and on a broken rule ask once more to repair.

Both remote text providers use this; they only supply `ask`, which sends a conversation and returns the answer's
text (streaming it to the sink). The repair turn shows the model its own answer and names the broken rule —
cheaper and more reliable than asking from scratch. Still invalid: CopyGenerationFailed, with the rule's code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from inkstream.generators.base import PostCopy, TextSink
from inkstream.generators.copy_format import CopyGenerationFailed, CopyInvalid, extract_json, validate_copy
from inkstream.generators.prompts import copy_prompt, copy_repair_prompt

log = logging.getLogger(__name__)

Turn = tuple[str, str]  # (role "user" | "assistant", text)
Ask = Callable[[list[Turn], TextSink | None], Awaitable[str]]


def parse_copy(text: str) -> PostCopy:
    """A model's answer as a valid PostCopy, or CopyInvalid naming the first broken rule."""
    return validate_copy(extract_json(text), require_emoji=True)


async def write_copy(
    provider: str, ask: Ask, template: str, repair_template: str, topic: str, outline: str, sink: TextSink | None
) -> PostCopy:
    turns: list[Turn] = [("user", copy_prompt(template, topic, outline))]
    answer = await ask(turns, sink)
    try:
        return parse_copy(answer)
    except CopyInvalid as problem:
        log.info("%s: copy invalid (%s); asking for a repair", provider, problem.code)
        if sink is not None:
            await sink.restart()
        turns += [("assistant", answer), ("user", copy_repair_prompt(repair_template, problem.message))]
    answer = await ask(turns, sink)
    try:
        return parse_copy(answer)
    except CopyInvalid as problem:
        raise CopyGenerationFailed(provider, problem) from None
