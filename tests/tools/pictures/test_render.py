"""The README's pictures: every recorded payload renders to HTML that shows what it holds, the
recordings match what the bot sent, and each has its picture in docs/."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools.pictures.__main__ import LOCALES, PAYLOADS, PICTURES, payload_files
from tools.pictures.render import TEXT, markdown, render_html
from tools.pictures.scenes import SCENES
from tools.pictures.screenshot import chromium, screenshot

DOCUMENTS = payload_files()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _pieces(text: str) -> list[str]:
    """The runs of plain text the page must show: split at markup and Discord's tags."""
    parts = re.split(r"<(?:t:-?\d+(?::\w)?|@!?\d+|#\d+|@&\d+)>|`|\*\*|\n", text)
    return [html.escape(part.strip(), quote=False) for part in parts if part.strip()]


def test_every_scene_was_recorded_in_every_locale() -> None:
    """Pending, result, Info, refusal and /usage server, in English and 繁體中文."""
    found = {(p.parent.name, p.stem) for p in DOCUMENTS}
    assert found == {(locale, scene) for locale in LOCALES for scene in SCENES}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_the_page_shows_what_the_payload_holds(path: Path) -> None:
    """Embeds, fields, buttons, images, the command line and the ephemeral note all appear."""
    document = _load(path)
    message = document["message"]
    page = render_html(document, base=path.parent)
    words = TEXT[document["locale"]]
    texts = [message["content"]]
    for embed in message["embeds"]:
        texts += [embed.get("title"), embed.get("description"), embed.get("footer", {}).get("text")]
        texts += [
            part for field in embed.get("fields", []) for part in (field["name"], field["value"])
        ]
    for text in filter(None, texts):
        for piece in _pieces(text):
            assert piece in page, piece
    labels = [b["label"] for row in message["components"] for b in row["components"]]
    assert page.count('class="button ') == len(labels)
    for label in labels:
        assert f"{html.escape(label)}</span>" in page
    assert page.count('class="attachment"') == len(message["attachments"])
    for attachment in message["attachments"]:
        assert (path.parent / attachment["url"]).is_file()
    assert (words["only_you"] in page) == bool(message["flags"] & 64)
    name = (message.get("interaction_metadata") or {}).get("name")
    if name:
        assert f"/{name}</span>" in page


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_the_recording_is_what_the_bot_sent(path: Path) -> None:
    """The message's embeds, buttons and content are those of the bot's last request."""
    document = _load(path)
    message = document["message"]
    bodies = []
    for request in document["requests"]:
        body = request["json"]
        if request["route"].endswith("/callback"):
            body = body.get("data") or {}
        bodies.append(body)
    assert bodies, "no request recorded"
    sent = next(b for b in reversed(bodies) if "embeds" in b or "content" in b)
    assert [{k: v for k, v in e.items() if k != "type"} for e in message["embeds"]] == [
        {k: v for k, v in e.items() if k != "type"} for e in sent.get("embeds", [])
    ]
    assert message["content"] == (sent.get("content") or "")
    ids = [b.get("custom_id") for row in message["components"] for b in row["components"]]
    sent_ids = [b.get("custom_id") for row in sent.get("components", []) for b in row["components"]]
    assert ids == sent_ids


def test_every_recording_has_its_picture_in_docs() -> None:
    """docs/pictures/<locale>/<scene>.png exists for each payload, for the READMEs to show."""
    for path in DOCUMENTS:
        assert (PICTURES / path.parent.name / f"{path.stem}.png").is_file()
    assert PAYLOADS.is_relative_to(PICTURES)


def test_markdown_escapes_before_it_formats() -> None:
    """A prompt with HTML shows as text; mentions, code and timestamps are drawn."""
    out = markdown(
        "<script>x</script> **b** `c` <@1> <t:0:R>", users={"1": "Mei"}, locale="en-US", now=90
    )
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<strong>b</strong>" in out and "<code>c</code>" in out
    assert '<span class="mention">@Mei</span>' in out and "2 minutes ago" in out
    zh = markdown("<t:7200:R>", users={}, locale="zh-TW", now=0)
    assert "2 小時後" in zh


@pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)
def test_a_page_becomes_a_cropped_screenshot(tmp_path: Path) -> None:
    """Headless Chromium draws the page; the empty chat below the message is cut off."""
    from PIL import Image

    path = PAYLOADS / "en-US" / "refusal.json"
    page = tmp_path / "refusal.html"
    page.write_text(render_html(_load(path), base=path.parent), encoding="utf-8")
    png = screenshot(page, tmp_path / "refusal.png")
    with Image.open(png) as image:
        assert image.width == 1520 and 200 < image.height < 1000
