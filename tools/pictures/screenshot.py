"""HTML page → PNG with headless Chromium (Debian's `chromium`), cropped to the message.

The window is tall enough for any scene; the empty chat background below the message is cut
off afterwards with Pillow, so a page needs no JavaScript to report its height.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

WIDTH, HEIGHT, SCALE = 760, 1400, 2
BACKGROUND = (0x31, 0x33, 0x38)
MARGIN = 16  # CSS pixels kept below the last painted row


def chromium() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(page: Path, out: Path, *, browser: str | None = None) -> Path:
    """Render `page` (a file) to `out` (PNG), cropped to the content."""
    binary = browser or chromium()
    if binary is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install chromium)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pictures-chromium-") as profile:
        raw = Path(profile) / "shot.png"
        subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}/profile",
                f"--force-device-scale-factor={SCALE}",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--screenshot={raw}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with Image.open(raw) as shot:
            crop(shot.convert("RGB")).save(out, "PNG", optimize=True)
    return out


def crop(image: Image.Image) -> Image.Image:
    """Cut the empty background below the last painted row (keeping a margin)."""
    background = Image.new("RGB", image.size, BACKGROUND)
    box = ImageChops.difference(image, background).getbbox()
    if box is None:
        return image
    bottom = min(image.height, box[3] + MARGIN * SCALE)
    return image.crop((0, 0, image.width, bottom))


__all__ = ["chromium", "crop", "screenshot"]
