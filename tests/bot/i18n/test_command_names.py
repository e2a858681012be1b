"""Our reading of Discord's command-name rules accepts what Discord accepts, refuses the rest."""

from __future__ import annotations

import pytest

from bot.i18n import (
    is_valid_choice_name,
    is_valid_context_menu_name,
    is_valid_description,
    is_valid_slash_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "imagine",
        "forget-me",
        "aspect_ratio",
        "a",
        "x" * 32,
        "生成圖片",
        "设置",
        "モデル一覧",  # katakana with the long-vowel mark (a modifier letter)
        "データ削除",
        "é",
        "हिन्दी",  # Devanagari vowel signs are marks, allowed by the script rule
        "ภาษาไทย",  # Thai, likewise
        "２０２４",  # full-width digits are numbers
    ],
)
def test_valid_slash_names(name: str) -> None:
    """Lowercase letters of any script, digits, - and _, 1-32 long, are accepted."""
    assert is_valid_slash_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 33,
        "Imagine",
        "two words",
        "É",
        "ǅ",  # title-case letter: it has a lowercase form, so it is not lowercase
        "ビルド・設定",  # the katakana middle dot is punctuation
        "emoji😀",
        "a.b",
        "a/b",
        "全形　空白",  # ideographic space
    ],
)
def test_invalid_slash_names(name: str) -> None:
    """Capitals, spaces, punctuation, symbols, empty or over 32 characters are refused."""
    assert not is_valid_slash_name(name)


def test_context_menu_names() -> None:
    """Menu names may have capitals and spaces, but stay 1-32 characters without edge spaces."""
    assert is_valid_context_menu_name("Edit image")
    assert is_valid_context_menu_name("画像を編集")
    assert not is_valid_context_menu_name("")
    assert not is_valid_context_menu_name(" Edit image")
    assert not is_valid_context_menu_name("x" * 33)


def test_description_and_choice_lengths() -> None:
    """Descriptions and choice names are 1-100 characters."""
    assert is_valid_description("x" * 100) and not is_valid_description("x" * 101)
    assert not is_valid_description("")
    assert is_valid_choice_name("16:9（寬螢幕）") and not is_valid_choice_name("x" * 101)
