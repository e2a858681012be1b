"""Issue #16-1: Unicode evasions of blocked terms are refused, innocent prompts in every
language the bot speaks pass (the Scunthorpe problem), through the policy's entry points."""

from __future__ import annotations

import pytest

from bot.policy import match_blocked_term
from bot.storage.guild_config import validate_term

# One server's list: Latin words and a phrase, and Chinese / Japanese terms.
TERMS = [
    validate_term(t)
    for t in (
        "nude",
        "naked",
        "sex",
        "porn",
        "nsfw",
        "gore",
        "cocaine",
        "ass",
        "kill yourself",
        "裸体",
        "裸體",
        "色情",
        "血腥",
        "エロ",
    )
]

EVASIONS = [
    # Look-alike letters (UTS #39 confusables)
    ("nud\u0435", "nude"),  # Cyrillic е
    ("\u039dUDE", "nude"),  # Greek capital Nu
    ("nսde", "nude"),  # Armenian u
    ("nakеd photo", "naked"),  # Cyrillic е
    ("\u0440orn", "porn"),  # Cyrillic р
    ("p\u03bfrn", "porn"),  # Greek ο
    ("\u0440\u043ern", "porn"),  # Cyrillic р and о
    ("\u0455\u0435\u0445", "sex"),  # Cyrillic ѕ е х
    ("g\u043ere", "gore"),  # Cyrillic о
    ("coc\u0430ine", "cocaine"),  # Cyrillic а
    ("\u0430ss", "ass"),  # Cyrillic а
    ("kill y\u043eurself", "kill yourself"),  # Cyrillic о inside a phrase
    # Invisible characters, in category Cf and out of it
    ("nu\u200bde", "nude"),  # zero-width space
    ("nu\u00adde", "nude"),  # soft hyphen
    ("nu\u034fde", "nude"),  # combining grapheme joiner (Mn)
    ("nude\ufe0f", "nude"),  # variation selector 16 (Mn)
    ("nu\u180bde", "nude"),  # Mongolian free variation selector (Mn)
    ("n\u3164ude", "nude"),  # Hangul filler (Lo)
    ("nu\U000e0041de", "nude"),  # tag letter A
    ("s\u200de\u200dx", "sex"),  # zero-width joiners
    ("kill\u2060 yourself", "kill yourself"),  # word joiner
    ("ass\u200b", "ass"),
    # Width, case, accents, compatibility forms
    ("ＮＵＤＥ", "nude"),
    ("NuDé", "nude"),
    ("𝐬𝐞𝐱", "sex"),  # mathematical bold
    ("ⓢⓔⓧ", "sex"),  # circled letters
    ("ｎｓｆｗ art", "nsfw"),
    # Letters spaced out with spaces or punctuation
    ("n.u.d.e", "nude"),
    ("n u d e", "nude"),
    ("n-u-d-e", "nude"),
    ("n_u_d_e", "nude"),
    ("N . U . D . E", "nude"),
    ("S E X", "sex"),
    ("n a k e d", "naked"),
    ("g.o.r.e", "gore"),
    ("k i l l yourself", "kill yourself"),
    ("c o c a i n e", "cocaine"),
    ("n/s/f/w", "nsfw"),
    ("a s s", "ass"),  # three lone letters spell a word: decided, see bot/terms/normalize.py
    ("n\u200b.u.d\u034f.e", "nude"),  # invisibles and punctuation together
    # Chinese and Japanese
    ("一张色情图片", "色情"),
    ("裸\u200b体", "裸体"),
    ("裸 体", "裸体"),
    ("色\ufe0f情", "色情"),
    ("血\u00ad腥的场面", "血腥"),
    ("裸\u034f體の女性", "裸體"),
    ("ｴﾛ画像", "エロ"),  # half-width katakana
    ("ＮＵＤＥ写真", "nude"),  # full-width Latin in Japanese text
]

INNOCENT = [
    # English: the terms inside longer words (Scunthorpe)
    "a classic car at dusk",
    "an assassin in the rain",
    "the Essex countryside",
    "a cocktail party on a terrace",
    "Scunthorpe United fans",
    "a passage through tall grass",
    "Sussex downs at sunrise",
    "a helpful assistant robot",
    "a bass guitar on a stage",
    "Massachusetts harbour",
    "a brass sextant on a ship",
    "Middlesex county map",
    "gorgeous mountains",
    "a snaked river",
    "hot cocoa in winter",
    "a nuanced portrait",
    "a skilled blacksmith",
    "the pass of Glencoe",
    # Lone letters that are not words spelled out
    "a cat and a dog",
    "I am a robot",
    "Plan B a success",
    "A. A. Milne reading",
    "e e cummings poem",
    "U.S. Army jeep",
    # Cyrillic and Greek text is not folded into Latin words it does not spell
    "привет мир",
    "кошка на крыше",
    "καλημέρα κόσμε",
    # Traditional Chinese
    "一隻黑貓在屋頂上",
    "夕陽下的燈塔",
    "色彩繽紛的花園",
    "情人節的玫瑰",
    "裸麥麵包",
    # Simplified Chinese
    "一只可爱的猫",
    "血红色的夕阳",
    "腥味很重的鱼",
    "颜色鲜艳的风筝",
    # Japanese
    "かわいい猫の絵",
    "夕焼けの灯台",
    "裸足で砂浜を歩く",
    "色鉛筆で描いた花",
    "血液型の本",
    "エンジェルの羽",
    # Korean
    "고양이 그림",
]


@pytest.mark.parametrize(("prompt", "term"), EVASIONS)
def test_evasions_are_refused(prompt: str, term: str) -> None:
    """Look-alikes, invisibles, widths and spaced letters still hit the term they spell."""
    found = match_blocked_term(prompt, TERMS)
    assert found is not None and found.term == term


@pytest.mark.parametrize("prompt", INNOCENT)
def test_innocent_prompts_pass(prompt: str) -> None:
    """Whole-word matching and unfolded CJK keep everyday prompts in four scripts clear."""
    assert match_blocked_term(prompt, TERMS) is None


def test_the_tables_are_large_enough() -> None:
    """Issue #16 asks for at least 40 of each."""
    assert len(EVASIONS) >= 40 and len(INNOCENT) >= 40
