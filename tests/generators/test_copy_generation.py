"""The post copy from the text providers: JSON validated, one repair turn, a typed error when still invalid —
against the local fake OpenAI-compatible and Gemini servers."""

from __future__ import annotations

import json

import pytest

from inkstream.generators.copy_format import CopyGenerationFailed, CopyInvalid, validate_copy
from inkstream.generators.remote.gemini import GeminiOutline
from inkstream.generators.remote.http_retry import RetryPolicy
from inkstream.generators.remote.openai_compat import OpenAIChatOutline
from tests.generators.fake_apis import (  # noqa: F401
    FakeAPI,
    chat_reply,
    chat_stream_reply,
    fake_api_fixture,
    gemini_stream_reply,
)
from tests.generators.test_text_streaming import Collect

FAST = RetryPolicy(max_attempts=2, timeout=5.0, backoff_base=0.01, backoff_max=0.02)
CHAT = "/v1/chat/completions"
GEMINI_STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
OUTLINE = "[封面]\n标题：周末露营✨\n<page>\n[内容]\n装备清单\n<page>\n[总结]\n出发吧"

BODY = (
    "周末第一次带朋友去露营，真的被治愈了🏕️\n\n"
    "出发前最担心的是装备，其实帐篷、睡袋、防潮垫这三样准备好，就解决了八成的问题✨ 营地选有水有电的，"
    "新手不用一上来就挑战野营。\n\n"
    "吃的方面我们带了卡式炉和一口小锅，煮面、烤肠、热牛奶都够用😋 记得多带几个垃圾袋，走的时候把营地收拾干净。\n\n"
    "晚上山里降温很快，一定要带一件厚外套🧥 手电和充电宝也别忘了。\n\n"
    "最后想说，露营最重要的不是装备多贵，而是和谁一起去💛 你们第一次露营是什么时候？评论区聊聊吧👇"
)
VALID = {"titles": ["第一次露营就爱上了🏕️", "新手露营装备清单", "周末去哪儿？去露营！"], "body": BODY,
         "tags": ["露营", "周末去哪儿", "新手露营", "户外", "露营装备"]}


LONG_TITLE = "这是一个明显超过二十个字的标题，小红书不允许这么长的"


def answer(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def openai(api: FakeAPI) -> OpenAIChatOutline:
    return OpenAIChatOutline(base_url=api.url + "/v1", model="m", api_key="sk-copy-KEY", retry=FAST)


def test_the_sample_is_valid() -> None:
    assert len(BODY) >= 200 and validate_copy(VALID, require_emoji=True).titles == VALID["titles"]


async def test_valid_copy_streams_and_parses(fake_api: FakeAPI) -> None:
    text = f"```json\n{answer(VALID)}\n```"
    fake_api.script(CHAT, chat_stream_reply(text, piece_chars=4, byte_chunk=7))
    sink = Collect()
    copy = await openai(fake_api).generate_copy("周末露营", OUTLINE, sink)
    assert copy.titles == VALID["titles"] and copy.body == BODY and copy.tags == VALID["tags"]
    assert "".join(sink.chunks) == text and sink.restarts == 0
    (sent,) = fake_api.requests_to(CHAT)
    prompt = sent.json()["messages"][0]["content"]
    assert "周末露营" in prompt and "装备清单" in prompt and "JSON" in prompt


@pytest.mark.parametrize(
    ("first", "code"),
    [
        (answer({**VALID, "titles": [LONG_TITLE, "b", "c"]}), "copy_title_too_long"),
        (answer({**VALID, "body": "太短了✨"}), "copy_body_length"),
        (answer({**VALID, "body": "## 标题\n" + BODY}), "copy_body_markdown"),
        (answer({**VALID, "tags": ["一个"]}), "copy_tags_invalid"),
        (answer(VALID)[:150], "copy_not_json"),  # truncated mid-answer (max_tokens ran out)
        ("好的，下面是文案：标题一……", "copy_not_json"),
    ],
)
async def test_an_invalid_copy_is_repaired_once(fake_api: FakeAPI, first: str, code: str) -> None:
    fake_api.script(CHAT, chat_stream_reply(first, byte_chunk=61), chat_stream_reply(answer(VALID), byte_chunk=61))
    sink = Collect()
    copy = await openai(fake_api).generate_copy("周末露营", OUTLINE, sink)
    assert copy.body == BODY
    assert sink.restarts == 1 and "".join(sink.chunks) == answer(VALID)  # the client drops the broken text
    first_request, repair = fake_api.requests_to(CHAT)
    messages = repair.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == first
    with pytest.raises(CopyInvalid) as problem:
        from inkstream.generators.remote.copy_writer import parse_copy

        parse_copy(first)
    assert problem.value.code == code and problem.value.message in messages[2]["content"]


async def test_still_invalid_after_repair_is_a_typed_error(fake_api: FakeAPI) -> None:
    fake_api.script(CHAT, chat_reply(answer({**VALID, "body": "短"})))
    with pytest.raises(CopyGenerationFailed) as err:
        await openai(fake_api).generate_copy("周末露营", OUTLINE)
    assert err.value.code == "copy_body_length" and err.value.retryable
    assert len(fake_api.requests_to(CHAT)) == 2  # one repair, not more
    assert "sk-copy-KEY" not in err.value.message


async def test_a_copy_without_emoji_is_sent_back(fake_api: FakeAPI) -> None:
    plain = BODY
    for ch in "🏕️✨😋🧥💛👇":
        plain = plain.replace(ch, "")
    fake_api.script(CHAT, chat_reply(answer({**VALID, "body": plain + "。" * 10})), chat_reply(answer(VALID)))
    copy = await openai(fake_api).generate_copy("周末露营", OUTLINE)
    assert copy.body == BODY and "emoji" in fake_api.requests_to(CHAT)[1].json()["messages"][2]["content"]


async def test_gemini_copy_repair_uses_the_model_role(fake_api: FakeAPI) -> None:
    fake_api.script(GEMINI_STREAM, gemini_stream_reply(answer(VALID)[:99]), gemini_stream_reply(answer(VALID)))
    generator = GeminiOutline(api_key="g-KEY-123", base_url=fake_api.url, retry=FAST)
    copy = await generator.generate_copy("周末露营", OUTLINE, Collect())
    assert copy.tags == VALID["tags"]
    contents = fake_api.requests_to(GEMINI_STREAM)[1].json()["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
