"""`python -m bot generate`'s core against the fake CometAPI: files, progress, and one-sentence errors."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.cli.generate import output_path, parse_options, run_generate
from tests.fakes.cometapi import FakeCometAPI

SCHNELL = "black-forest-labs/flux-schnell"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
async def fake() -> AsyncIterator[FakeCometAPI]:
    async with FakeCometAPI(duration=0.15, start_delay=0.02) as server:
        yield server


async def generate(
    fake: FakeCometAPI,
    *,
    out: Path | None = None,
    options: list[str] | None = None,
    model: str = SCHNELL,
    stdout: io.StringIO | None = None,
    **kwargs: Any,
) -> tuple[int, str, str]:
    stdout = stdout if stdout is not None else io.StringIO()
    stderr = io.StringIO()
    kwargs.setdefault("poll_interval", 0.02)
    kwargs.setdefault("max_poll_interval", 0.05)
    code = await run_generate(
        prompt="a cat",
        model=model,
        out=out,
        options=options or [],
        settings_base_url=kwargs.pop("base_url", fake.base_url),
        api_key=kwargs.pop("api_key", fake.api_key),
        prefer_wait=kwargs.pop("prefer_wait", None),
        stdout=stdout,
        stderr=stderr,
        **kwargs,
    )
    return code, stdout.getvalue(), stderr.getvalue()


async def test_writes_the_image_with_the_extension_of_its_real_type(
    fake: FakeCometAPI, tmp_path: Path
) -> None:
    """`--out cat.png` with WebP bytes writes cat.webp, a valid image, and says where."""
    code, out, err = await generate(fake, out=tmp_path / "cat.png")
    assert (code, err) == (0, "")
    written = tmp_path / "cat.webp"
    with Image.open(written) as image:
        assert image.format == "WEBP" and image.size == (64, 64)
    assert not (tmp_path / "cat.png").exists()
    assert f"Wrote {written}" in out
    assert fake.requests_for("create")[0].json == {"input": {"prompt": "a cat"}}


async def test_several_outputs_get_numbered_names(fake: FakeCometAPI, tmp_path: Path) -> None:
    """Two PNG outputs with `--out cat.png` are cat.png and cat-2.png; options are typed."""
    code, _, _ = await generate(
        fake,
        out=tmp_path / "cat.png",
        options=["num_outputs=2", "output_format=png", "go_fast=false", "aspect_ratio=16:9"],
    )
    assert code == 0
    for name in ("cat.png", "cat-2.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size == (114, 64)
    assert fake.requests_for("create")[0].json["input"] == {
        "prompt": "a cat",
        "num_outputs": 2,
        "output_format": "png",
        "go_fast": False,
        "aspect_ratio": "16:9",
    }


async def test_default_name_uses_the_prediction_id(
    fake: FakeCometAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --out the file is image-<prediction id>.<ext> in the current directory, never the prompt."""
    monkeypatch.chdir(tmp_path)
    code, _, _ = await generate(fake)
    assert code == 0
    (pred_id,) = fake.predictions
    assert names(tmp_path) == [f"image-{pred_id}.webp"]


async def test_progress_on_a_terminal_rewrites_one_line(fake: FakeCometAPI, tmp_path: Path) -> None:
    """On a TTY the status line is rewritten with \\r and shows a percentage."""
    stdout = TTY()
    code, out, _ = await generate(fake, out=tmp_path / "a.webp", stdout=stdout)
    assert code == 0
    assert "\rprocessing" in out and "%" in out
    assert "\rsucceeded 100%" in out


async def test_progress_in_a_pipe_is_a_line_per_change(fake: FakeCometAPI, tmp_path: Path) -> None:
    """Without a TTY, no carriage returns: one line per state/percentage change."""
    code, out, _ = await generate(fake, out=tmp_path / "a.webp")
    assert code == 0 and "\r" not in out
    lines = out.splitlines()
    assert "starting" in lines and "succeeded 100%" in lines
    assert any(line.startswith("processing ") and line.endswith("%") for line in lines)
    assert len(lines) == len(set(lines))  # nothing repeated


async def test_api_error_is_one_sentence_and_exit_1(fake: FakeCometAPI, tmp_path: Path) -> None:
    """A refused key gives exit 1 and a single stderr line without traceback or key."""
    code, _, err = await generate(fake, out=tmp_path / "a.png", api_key="wrong-key")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: the API key was refused (HTTP 401)")
    assert "Traceback" not in err and "wrong-key" not in err
    assert names(tmp_path) == []


async def test_unknown_model_is_exit_1(fake: FakeCometAPI, tmp_path: Path) -> None:
    """A model the key cannot use is reported in one sentence."""
    code, _, err = await generate(fake, out=tmp_path / "a.png", model="black-forest-labs/nope")
    assert code == 1 and "black-forest-labs/nope is not available" in err


async def test_failed_prediction_is_exit_1_with_the_reason(
    fake: FakeCometAPI, tmp_path: Path
) -> None:
    """A prediction that fails says why; the safety filter is named as such."""
    fake.set_model_behaviour(SCHNELL, duration=0.05, fail_with="NSFW content detected")
    code, _, err = await generate(fake, out=tmp_path / "a.png")
    assert code == 1
    assert "blocked by the provider's safety filter: NSFW content detected" in err


async def test_download_failure_is_exit_1(fake: FakeCometAPI, tmp_path: Path) -> None:
    """An output that is not an image is reported, and nothing is written."""
    fake.set_model_behaviour(SCHNELL, duration=0.05, output_kind="not_image")
    code, _, err = await generate(fake, out=tmp_path / "a.png")
    assert code == 1 and "not a PNG, JPEG, WebP or GIF image" in err
    assert names(tmp_path) == []


async def test_timeout_cancels_and_exits_1(fake: FakeCometAPI, tmp_path: Path) -> None:
    """A prediction still running at the deadline is canceled and reported."""
    fake.set_model_behaviour(SCHNELL, duration=30)
    code, _, err = await generate(fake, out=tmp_path / "a.png", timeout=0.2)
    assert code == 1
    assert "did not finish within 0.2 s; it was canceled" in err
    (pred_id,) = fake.predictions
    assert fake.status(pred_id) == "canceled"


async def test_bad_option_is_exit_2_without_a_request(fake: FakeCometAPI) -> None:
    """`--option foo` (no =) is refused before any request."""
    code, _, err = await generate(fake, options=["foo"])
    assert code == 2 and "'foo' is not key=value" in err
    assert fake.requests == []


async def test_catalog_input_is_used_when_given(fake: FakeCometAPI, tmp_path: Path) -> None:
    """The injected catalog mapping builds the input; its refusals are one sentence, exit 2."""
    seen: list[tuple[str, str, list[str]]] = []

    def catalog_input(model: str, prompt: str, pairs: list[str]) -> dict[str, Any]:
        seen.append((model, prompt, pairs))
        return {"prompt": prompt.upper(), "output_format": "jpg"}

    code, _, _ = await generate(
        fake, out=tmp_path / "c.jpeg", options=["count=1"], catalog_input=catalog_input
    )
    assert code == 0 and seen == [(SCHNELL, "a cat", ["count=1"])]
    assert fake.requests_for("create")[0].json == {
        "input": {"prompt": "A CAT", "output_format": "jpg"}
    }
    assert (tmp_path / "c.jpeg").exists()  # .jpeg kept for JPEG bytes

    def refuse(model: str, prompt: str, pairs: list[str]) -> dict[str, Any]:
        raise ValueError("count must be between 1 and 4")

    code, _, err = await generate(fake, catalog_input=refuse)
    assert code == 2 and err == "error: invalid input: count must be between 1 and 4\n"


async def test_bad_base_url_is_one_sentence(fake: FakeCometAPI) -> None:
    """A base URL that is not http(s) is reported, not raised."""
    code, _, err = await generate(fake, base_url="api.cometapi.com")
    assert code == 2 and "COMETAPI_BASE_URL" in err


async def test_wrong_base_url_path_is_reported(fake: FakeCometAPI) -> None:
    """An HTML 404 from a wrong base URL tells the operator to check COMETAPI_BASE_URL."""
    code, _, err = await generate(fake, base_url=fake.base_url + "/v1")
    assert code == 1 and "check COMETAPI_BASE_URL" in err


async def test_unwritable_output_is_exit_1(fake: FakeCometAPI, tmp_path: Path) -> None:
    """A folder that does not exist is a one-sentence error."""
    code, _, err = await generate(fake, out=tmp_path / "missing" / "cat.png")
    assert code == 1 and err.startswith("error: could not write")


async def test_prefer_wait_is_passed_to_the_api(fake: FakeCometAPI, tmp_path: Path) -> None:
    """prefer_wait becomes the Prefer header; a finished answer needs no polling."""
    code, _, _ = await generate(fake, out=tmp_path / "a.webp", prefer_wait=5)
    assert code == 0
    assert fake.requests_for("create")[0].headers["Prefer"] == "wait=5"
    assert fake.requests_for("get") == []


def test_output_path_rules(tmp_path: Path) -> None:
    """Names follow --out, numbering from the second image, and the real type's extension."""
    assert output_path(Path("cat.png"), "id", 1, "png") == Path("cat.png")
    assert output_path(Path("cat.png"), "id", 2, "webp") == Path("cat-2.webp")
    assert output_path(Path("cat.JPEG"), "id", 1, "jpg") == Path("cat.JPEG")
    assert output_path(Path("out/cat"), "id", 3, "jpg") == Path("out/cat-3.jpg")
    assert output_path(tmp_path, "a/b..c", 1, "png") == tmp_path / "image-abc.png"


def test_parse_options_types() -> None:
    """true/false, integers and decimals are converted; everything else stays text."""
    assert parse_options(
        ["a=true", "b=False", "c=4", "d=-2", "e=0.5", "f=16:9", "g=", "h=x=y"]
    ) == {
        "a": True,
        "b": False,
        "c": 4,
        "d": -2,
        "e": 0.5,
        "f": "16:9",
        "g": "",
        "h": "x=y",
    }
    with pytest.raises(ValueError):
        parse_options(["=5"])


async def test_more_outputs_than_asked_are_not_downloaded(
    fake: FakeCometAPI, tmp_path: Path
) -> None:
    """The API answering 500 outputs for 2 asked: two files, and a warning for the rest."""
    fake.set_model_behaviour(SCHNELL, output_count=500)
    code, _, err = await generate(fake, out=tmp_path / "cat.webp", options=["num_outputs=2"])
    assert code == 0
    assert names(tmp_path) == ["cat-2.webp", "cat.webp"]
    assert len(fake.requests_for("files")) == 2
    assert "500 outputs" in err and "498 ignored" in err
