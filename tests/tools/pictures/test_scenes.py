"""`python -m tools.pictures` keeps working as the bot changes: the scenes play on the real
stack and give the messages the README shows."""

from __future__ import annotations

import json
from pathlib import Path

from tools.pictures.render import render_html
from tools.pictures.scenes import SCENES, record, save


async def test_the_scenes_record_and_render(tmp_path: Path) -> None:
    """Every scene is captured in English and renders; the result has four images and buttons."""
    scenes = await record("en-US")
    assert [scene.name for scene in scenes] == list(SCENES)
    by_name = {scene.name: scene for scene in scenes}
    assert len(by_name["result"].message["attachments"]) == 4
    assert "imagebot:cancel:2" in str(by_name["pending"].message["components"])
    assert by_name["refusal"].message["flags"] & 64
    for scene in scenes:
        path = save(scene, tmp_path)
        page = render_html(json.loads(path.read_text(encoding="utf-8")), base=tmp_path)
        assert "<body>" in page
    assert sorted(p.name for p in (tmp_path / "files").iterdir())[0] == "result-1.webp"
