"""Downloading outputs: real images pass; oversized, non-image, truncated and bad URLs fail with a reason."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.cometapi import ClientTuning, DownloadError, NetworkError, PredictionClient
from bot.cometapi.download import inspect_image
from tests.bot.cometapi.conftest import MakeClient, RecordingSleep
from tests.fakes.cometapi import FakeCometAPI, ManualClock

SCHNELL = "black-forest-labs/flux-schnell"


async def _output(
    fake: FakeCometAPI, clock: ManualClock, client: PredictionClient, **input: object
) -> str:
    created = await client.create(SCHNELL, {"prompt": "a cat", **input})
    clock.advance(10)
    done = await client.get(created.id)
    assert done.succeeded
    return done.output[0]


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [("webp", "image/webp", "webp"), ("png", "image/png", "png"), ("jpg", "image/jpeg", "jpg")],
)
async def test_real_images_download_with_type_and_size(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, fmt: str, mime: str, ext: str
) -> None:
    """Each format comes back with its mime type, extension and Pillow-read size."""
    client = make_client()
    url = await _output(fake, clock, client, output_format=fmt, aspect_ratio="16:9")
    image = await client.download(url)
    assert (image.mime, image.extension) == (mime, ext)
    assert (image.width, image.height) == (114, 64)
    with Image.open(io.BytesIO(image.data)) as opened:
        assert opened.size == (114, 64)


async def test_the_type_comes_from_the_bytes_not_the_url(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """PNG bytes behind a .webp URL are a PNG."""
    client = make_client()
    url = await _output(fake, clock, client)
    assert url.endswith(".webp")
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buffer, "PNG")
    fake.fail_next(1, 200, buffer.getvalue(), route="files")
    image = await client.download(url)
    assert image.extension == "png" and (image.width, image.height) == (3, 2)


async def test_gif_is_accepted(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """GIF is one of the four accepted types."""
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, "GIF")
    fake.fail_next(1, 200, buffer.getvalue(), route="files")
    image = await make_client().download(f"{fake.base_url}/files/x/0.gif")
    assert image.mime == "image/gif" and image.width == 4


async def test_downloads_never_carry_the_api_key(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """The file host is not CometAPI: no Authorization header goes there."""
    client = make_client()
    await client.download(await _output(fake, clock, client))
    (request,) = fake.requests_for("files")
    assert "Authorization" not in request.headers


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_file_is_too_large(
    clock: ManualClock, session: aiohttp.ClientSession, sleeps: RecordingSleep, chunked: bool
) -> None:
    """Past max_bytes the download stops: by Content-Length, or while streaming without one."""
    async with FakeCometAPI(clock=clock, huge_size=256, chunked_files=chunked) as fake:
        fake.set_model_behaviour(SCHNELL, output_kind="huge")
        client = PredictionClient(
            session, base_url=fake.base_url, api_key=fake.api_key, sleep=sleeps
        )
        url = await _output(fake, clock, client, output_format="png")
        with pytest.raises(DownloadError) as caught:
            await client.download(url, max_bytes=50_000)
        assert caught.value.reason == "too_large" and caught.value.kind == "download"
        assert sleeps.calls == []  # not retried
        big = await client.download(url, max_bytes=10_000_000)  # the same file fits a bigger cap
        assert big.width == 256 and len(big.data) > 50_000


async def test_not_an_image(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """An HTML page where an image should be is not_image."""
    fake.set_model_behaviour(SCHNELL, output_kind="not_image")
    client = make_client()
    with pytest.raises(DownloadError) as caught:
        await client.download(await _output(fake, clock, client))
    assert caught.value.reason == "not_image"


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
async def test_truncated_image_is_broken(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, fmt: str
) -> None:
    """A file cut in half has the right magic bytes but is broken."""
    fake.set_model_behaviour(SCHNELL, output_kind="broken", image_size=128)
    client = make_client()
    with pytest.raises(DownloadError) as caught:
        await client.download(await _output(fake, clock, client, output_format=fmt))
    assert caught.value.reason == "broken"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "http://",
        "/files/x",
    ],
)
async def test_bad_urls_are_refused_without_a_request(
    fake: FakeCometAPI, make_client: MakeClient, url: str
) -> None:
    """Only http(s) URLs with a host are fetched."""
    with pytest.raises(DownloadError) as caught:
        await make_client().download(url)
    assert caught.value.reason == "bad_url"
    assert fake.requests == []


async def test_redirect_to_another_scheme_is_bad_url(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """A file host redirecting to a non-http URL is refused."""
    fake.fail_next(1, 302, "", route="files", headers={"Location": "file:///etc/passwd"})
    with pytest.raises(DownloadError) as caught:
        await make_client().download(f"{fake.base_url}/files/x/0.png")
    assert caught.value.reason == "bad_url"


async def test_expired_file_is_an_http_error(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A removed output (404) fails at once with reason http and the status."""
    fake.set_model_behaviour(SCHNELL, data_removed=True)
    client = make_client()
    with pytest.raises(DownloadError) as caught:
        await client.download(await _output(fake, clock, client))
    assert caught.value.reason == "http" and caught.value.status == 404
    assert "expired" in caught.value.message and sleeps.calls == []


async def test_5xx_downloads_are_retried(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A download is idempotent: a 503 from the file host is retried with backoff."""
    client = make_client()
    url = await _output(fake, clock, client)
    fake.fail_next(2, 503, "busy", route="files")
    image = await client.download(url)
    assert image.extension == "webp" and sleeps.calls == [1.0, 2.0]
    assert client.download_count == 3


async def test_download_network_failure_after_retries(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """Dropped connections on every try end in NetworkError, after max_retries."""
    fake.drop("files", 10)
    with pytest.raises(NetworkError):
        await make_client(max_retries=2).download(f"{fake.base_url}/files/x/0.png")
    assert len(sleeps.calls) == 2


@pytest.fixture
async def slow_files(clock: ManualClock) -> AsyncIterator[FakeCometAPI]:
    async with FakeCometAPI(clock=clock) as fake:
        fake.hang("files", 10)
        yield fake


async def test_download_timeout(
    slow_files: FakeCometAPI, session: aiohttp.ClientSession, sleeps: RecordingSleep
) -> None:
    """A file host that never answers is given up on at the timeout."""
    client = PredictionClient(
        session,
        base_url=slow_files.base_url,
        api_key="k",
        sleep=sleeps,
        tuning=ClientTuning(max_retries=1),
    )
    with pytest.raises(NetworkError) as caught:
        await client.download(f"{slow_files.base_url}/files/x/0.png", timeout=0.1)
    assert "timed out" in caught.value.message


async def test_a_pixel_bomb_is_refused_from_its_header_before_any_decode(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0.14 MB PNG of 12,000 x 12,000 is a too_large DownloadError; no pixel is decoded."""
    from PIL import ImageFile

    decoded: list[object] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    fake.set_model_behaviour(SCHNELL, output_kind="bomb")
    client = make_client()
    url = await _output(fake, clock, client)
    with pytest.raises(DownloadError) as caught:
        await client.download(url)
    assert caught.value.reason == "too_large"
    assert "megapixels" in caught.value.message
    assert decoded == []


@pytest.mark.parametrize(("width", "accepted"), [(8000, True), (8001, False)])
async def test_the_pixel_limit_is_40_megapixels(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient, width: int, accepted: bool
) -> None:
    """8000 x 5000 (exactly 40 MP) is decoded and accepted; one column more is refused."""
    from tests.fakes.cometapi import blank_png

    client = make_client()
    url = await _output(fake, clock, client)
    fake.fail_next(1, 200, blank_png(width, 5000), route="files")
    if accepted:
        image = await client.download(url)
        assert (image.width, image.height) == (8000, 5000)
    else:
        with pytest.raises(DownloadError) as caught:
            await client.download(url)
        assert caught.value.reason == "too_large"


def _encoded(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 50).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_whole_file_passes_without_decoding_and_a_cut_one_fails(fmt: str) -> None:
    """A whole image passes with its size; the same file missing its last bytes is broken."""
    data = _encoded(fmt)
    image = inspect_image(data)
    assert (image.width, image.height) == (40, 30)
    with pytest.raises(DownloadError) as caught:
        inspect_image(data[: len(data) - 7])
    assert caught.value.reason == "broken"


def test_a_jpeg_with_bytes_after_its_end_marker_is_decoded_and_passes() -> None:
    """Padding after a JPEG's end marker is not mistaken for a cut file."""
    image = inspect_image(_encoded("JPEG") + b"\x00" * 16)
    assert (image.mime, image.width, image.height) == ("image/jpeg", 40, 30)


def test_a_webp_shorter_than_its_header_says_is_broken() -> None:
    """A WebP whose RIFF length promises more bytes than arrived is refused as broken."""
    data = bytearray(_encoded("WEBP"))
    data[4:8] = (len(data) + 100).to_bytes(4, "little")
    with pytest.raises(DownloadError) as caught:
        inspect_image(bytes(data))
    assert caught.value.reason == "broken"
