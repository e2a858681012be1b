"""The fake's reading of Discord markdown finds what Discord renders, and escapes hide it."""

from __future__ import annotations

from tests.fakes.discord.markdown import rendered_markdown


def test_raw_markdown_is_found_and_escaped_markdown_is_not() -> None:
    """Each construct is seen raw; with a backslash before its punctuation it is text."""
    assert rendered_markdown("[claim](https://example.invalid)") == ["masked link", "link"]
    assert rendered_markdown("||hidden||") == ["spoiler"]
    assert rendered_markdown("# big\n-# small") == ["heading", "subtext"]
    assert rendered_markdown("\\[claim\\](https\\://example.invalid)") == []
    assert rendered_markdown("\\|\\|hidden\\|\\|") == []
    assert rendered_markdown("a plain prompt, with commas: and colons") == []
