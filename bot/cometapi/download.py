"""Downloading an output file: http(s) only, a byte cap, a timeout, and proof it is an image.

Output URLs point at the provider's file host, not at CometAPI: the API key is never sent with
them. Files live about an hour, so a download is retried on 5xx and network trouble (it is
idempotent) and a failure says why (`DownloadError.reason`).

The file host is not trusted either: an image's size is read from its header before anything
is decoded, and one over `bot.imagework.MAX_PIXELS` is refused ("too_large"), however small
the file; the check and the decode run in one of the process's two decode slots.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from PIL import Image

from bot.cometapi.errors import CometAPIError, DownloadError, NetworkError
from bot.imagework import MAX_PIXELS, TooManyPixels, check_pixels, run_image_work

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 524})

# (magic test, mime, extension); WebP is RIFF....WEBP.
_SIGNATURES: tuple[tuple[Callable[[bytes], bool], str, str], ...] = (
    (lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"), "image/png", "png"),
    (lambda b: b.startswith(b"\xff\xd8\xff"), "image/jpeg", "jpg"),
    (lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP", "image/webp", "webp"),
    (lambda b: b[:6] in (b"GIF87a", b"GIF89a"), "image/gif", "gif"),
)
_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}


@dataclass(frozen=True)
class DownloadedImage:
    data: bytes
    mime: str
    extension: str  # "png" | "jpg" | "webp" | "gif", from the bytes, never from the URL
    width: int | None
    height: int | None

    def __repr__(self) -> str:  # never dump megabytes into a log line
        return (
            f"DownloadedImage(mime={self.mime!r}, bytes={len(self.data)}, "
            f"size={self.width}x{self.height})"
        )


def sniff(data: bytes) -> tuple[str, str] | None:
    """(mime, extension) from the magic bytes, or None when it is none of the four types."""
    for test, mime, extension in _SIGNATURES:
        if test(data):
            return mime, extension
    return None


def inspect_image(data: bytes) -> DownloadedImage:
    """Check that the bytes are one whole image of a known type; CPU-bound, run in a thread."""
    kind = sniff(data)
    if kind is None:
        raise DownloadError("the file is not a PNG, JPEG, WebP or GIF image", reason="not_image")
    mime, extension = kind
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            check_pixels(image.size)  # before anything is decoded
            image.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.format != _PIL_FORMATS[extension]:
                raise DownloadError(
                    f"the file says {extension} but decodes as {image.format}", reason="broken"
                )
            if not _whole(extension, data):
                if image.format == "JPEG":
                    # Decoded at 1/8 scale: every byte of the stream is still read (a truncated
                    # file still fails), in 1/64 of the memory (2 MB instead of 120 for 40 MP).
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()  # decodes the pixels: catches the truncated files verify() lets by
    except TooManyPixels as exc:
        raise DownloadError(str(exc), reason="too_large") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check (its limit is ours once install_image_limits ran) came first.
        raise DownloadError(
            f"the image has more than {MAX_PIXELS / 1e6:g} megapixels", reason="too_large"
        ) from None
    except DownloadError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error...
        raise DownloadError(
            f"the {extension} image is broken or truncated ({exc})", reason="broken"
        ) from exc
    return DownloadedImage(data=data, mime=mime, extension=extension, width=width, height=height)


def _whole(extension: str, data: bytes) -> bool:
    """The file's own structure shows it arrived whole, so its pixels need not be decoded.

    A download cut short is what the decode was for; each format says where it ends: a PNG's
    verify() already walked its chunks (CRCs) to IEND; a WebP's RIFF header gives its length;
    a JPEG ends with the EOI marker and a GIF with its trailer. A 1-megapixel output costs
    10-30 ms of CPU to decode and microseconds to check this way. A file whose structure is
    not conclusive (padding after EOI, a RIFF length that does not match) is decoded as before;
    a WebP shorter than its RIFF length is broken outright.
    """
    if extension == "png":
        return True
    if extension == "webp":
        declared = int.from_bytes(data[4:8], "little") + 8
        if len(data) < declared:
            raise DownloadError(
                f"the webp image is broken or truncated ({len(data)} of {declared} bytes)",
                reason="broken",
            )
        return len(data) == declared
    if extension == "jpg":
        return data.endswith(b"\xff\xd9")
    return data.endswith(b";")  # gif


async def fetch_image(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    connect_timeout: float,
    max_retries: int,
    backoff: Callable[[int], float],
    sleep: Callable[[float], Awaitable[None]],
    on_attempt: Callable[[], None] = lambda: None,
) -> DownloadedImage:
    """Download and check one image. Raises DownloadError, or NetworkError after retries."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(
            f"refusing to download a non-http(s) URL ({parts.scheme or 'no scheme'})",
            reason="bad_url",
        )
    attempt = 0
    while True:
        on_attempt()
        error: CometAPIError
        try:
            data = await _fetch_bytes(session, url, max_bytes, timeout, connect_timeout)
        except _RetryableStatus as exc:
            error = DownloadError(
                f"the file host answered HTTP {exc.status}", reason="http", status=exc.status
            )
        except DownloadError:
            raise
        except (
            aiohttp.NonHttpUrlRedirectClientError,
            aiohttp.InvalidUrlRedirectClientError,
        ) as exc:
            raise DownloadError("the file host redirected to a bad URL", reason="bad_url") from exc
        except aiohttp.TooManyRedirects as exc:
            raise DownloadError("the file host redirected too many times", reason="http") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            error = NetworkError(f"could not download the file ({kind})")
        else:
            return await run_image_work(inspect_image, data)
        if attempt >= max_retries:
            raise error
        delay = backoff(attempt)
        log.info(
            "download failed (%s); retry %d/%d in %.1fs", error, attempt + 1, max_retries, delay
        )
        await sleep(delay)
        attempt += 1


class _RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _fetch_bytes(
    session: aiohttp.ClientSession,
    url: str,
    max_bytes: int,
    timeout: float,
    connect_timeout: float,
) -> bytes:
    async with session.get(
        url,
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=min(connect_timeout, timeout)),
        allow_redirects=True,
        max_redirects=5,
    ) as response:
        if response.status in RETRY_STATUSES:
            raise _RetryableStatus(response.status)
        if not 200 <= response.status < 300:
            raise DownloadError(
                f"the file host answered HTTP {response.status}"
                + (" (the file may have expired)" if response.status in (404, 410) else ""),
                reason="http",
                status=response.status,
            )
        if response.content_length is not None and response.content_length > max_bytes:
            raise _too_large(max_bytes)
        body = bytearray()
        async for chunk in response.content.iter_chunked(256 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(max_bytes)  # leaving the block closes the connection
        return bytes(body)


def _too_large(max_bytes: int) -> DownloadError:
    return DownloadError(f"the file is larger than {max_bytes} bytes", reason="too_large")
