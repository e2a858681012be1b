"""`python -m tools.pictures`: regenerate the README's pictures of what members see.

    python -m tools.pictures                 # record the scenes on the test stack, then draw
    python -m tools.pictures --from-payloads # draw again from the recorded payloads only

1. Runs the scenes (tools/pictures/scenes.py) on the end-to-end test stack in each locale and
   writes the message payloads the fake Discord received to docs/pictures/payloads/<locale>/.
2. Renders each payload to an HTML page laid out like Discord (tools/pictures/render.py).
3. Screenshots each page with headless Chromium into docs/pictures/<locale>/<scene>.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tools.pictures.render import render_html
from tools.pictures.scenes import record, save
from tools.pictures.screenshot import chromium, screenshot

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ROOT / "docs" / "pictures"

# Without the Noto fonts Chromium draws the emoji of the buttons as empty boxes.
APT = "apt-get install chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji"
PAYLOADS = PICTURES / "payloads"
LOCALES = ("en-US", "zh-TW")


def payload_files(folder: Path = PAYLOADS) -> list[Path]:
    """Every recorded scene, locale by locale."""
    return sorted(folder.glob("*/*.json"))


def draw(payloads: Sequence[Path], out: Path = PICTURES) -> list[Path]:
    """Render and screenshot each payload; returns the PNGs written."""
    written = []
    with tempfile.TemporaryDirectory(prefix="pictures-html-") as tmp:
        for path in payloads:
            document = json.loads(path.read_text(encoding="utf-8"))
            page = Path(tmp) / f"{document['locale']}-{document['scene']}.html"
            page.write_text(render_html(document, base=path.parent), encoding="utf-8")
            png = out / document["locale"] / f"{document['scene']}.png"
            written.append(screenshot(page, png))
            print(f"wrote {png}", file=sys.stderr)
    return written


async def record_all(locales: Sequence[str]) -> list[Path]:
    paths = []
    for locale in locales:
        for scene in await record(locale):
            paths.append(save(scene, PAYLOADS / locale))
            print(f"recorded {locale} {scene.name}", file=sys.stderr)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pictures", description=__doc__)
    parser.add_argument(
        "--from-payloads", action="store_true", help="skip recording; draw the recorded payloads"
    )
    args = parser.parse_args(argv)
    if chromium() is None:
        print("Chromium is not installed: " + APT, file=sys.stderr)
        return 2
    paths = payload_files() if args.from_payloads else asyncio.run(record_all(LOCALES))
    draw(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
