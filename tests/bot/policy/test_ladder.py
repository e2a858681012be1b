"""The precedence ladder (option > style > preference > server > bot default) on the built-in
catalog: each step, and every way a preference is dropped with a note instead of refused."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import InputPolicy, InputValidationError, UnknownModelError, load_catalog
from bot.errors import UserFacingError
from bot.policy.ladder import Layers, join_suffix, resolve
from bot.storage.preferences import Preferences
from bot.storage.styles import Style

CATALOG = load_catalog(None)
SCHNELL = "black-forest-labs/flux-schnell"
DEV = "black-forest-labs/flux-dev"
PRO = "black-forest-labs/flux-1.1-pro"
ULTRA = "black-forest-labs/flux-1.1-pro-ultra"
KONTEXT = "black-forest-labs/flux-kontext-pro"
POLICY = InputPolicy()


def layers(
    prompt: str = "a fox",
    *,
    style: Style | None = None,
    server: str | None = None,
    model: str | None = None,
    allowance: int | None = None,
    suffix_blocked: bool = False,
    prefs: dict[str, Any] | None = None,
    **options: Any,
) -> Layers:
    return Layers(
        options={"prompt": prompt, **options},
        model=model,
        style=style,
        preferences=Preferences(1, **(prefs or {})),
        server_model=server,
        bot_model=SCHNELL,
        allowance=allowance,
        suffix_blocked=suffix_blocked,
    )


def style(template: str = "{prompt}, watercolor", **kw: Any) -> Style:
    return Style(guild_id=5, name="Water", template=template, **kw)


def run(given: Layers) -> Any:
    return resolve(CATALOG, given, policy=POLICY, rng=lambda: 42)


def test_each_step_of_the_ladder_for_the_model() -> None:
    """option > style > preference > server > bot default, one layer removed at a time."""
    full = {"model": PRO, "style": style(model=ULTRA), "prefs": {"model": DEV}, "server": SCHNELL}
    assert run(layers(**full)).spec.id == PRO
    assert run(layers(**{**full, "model": None})).spec.id == ULTRA
    assert run(layers(**{**full, "model": None, "style": None})).spec.id == DEV
    resolved = run(layers(server=PRO))
    assert (resolved.spec.id, resolved.sources["model"]) == (PRO, "server")
    assert run(layers()).sources["model"] == "default"


def test_each_step_of_the_ladder_for_the_aspect_ratio() -> None:
    """The typed ratio beats the style's, the style's the preference's, that the model's default."""
    prefs = {"aspect_ratio": "2:3"}
    s = style(aspect_ratio="16:9")
    assert run(layers(style=s, prefs=prefs, aspect_ratio="4:3")).input["aspect_ratio"] == "4:3"
    assert run(layers(style=s, prefs=prefs)).input["aspect_ratio"] == "16:9"
    assert run(layers(prefs=prefs)).input["aspect_ratio"] == "2:3"
    assert run(layers()).input["aspect_ratio"] == "1:1"


def test_preferences_fill_what_the_command_leaves_out() -> None:
    """format, quality and count come from the preference unless typed; sources say which."""
    prefs = {"format": "png", "quality": 95, "count": 3}
    resolved = run(layers(prefs=prefs, count=2))
    assert resolved.input["output_format"] == "png"
    assert resolved.input["output_quality"] == 95
    assert resolved.input["num_outputs"] == 2
    assert resolved.sources["count"] == "option" and resolved.sources["format"] == "preference"
    assert resolved.notes == ()


def test_a_value_the_model_does_not_take_is_dropped_with_a_note() -> None:
    """Preferred webp and quality with Ultra (jpg/png, no quality): the model's defaults, two notes."""
    resolved = run(layers(model=ULTRA, prefs={"format": "webp", "quality": 90}))
    assert resolved.spec.id == ULTRA
    assert resolved.input["output_format"] == "jpg"
    assert "output_quality" not in resolved.input
    assert {(n.setting, n.reason) for n in resolved.notes} == {
        ("format", "not_accepted"),
        ("quality", "not_accepted"),
    }
    assert all(n.params["model"] == CATALOG.get(ULTRA).label for n in resolved.notes)


def test_a_model_gone_from_the_catalog_or_needing_an_image_is_dropped() -> None:
    """Unknown or image-edit preferred models fall to the server's, with the reason."""
    gone = run(layers(prefs={"model": "someone/retired"}, server=DEV))
    assert gone.spec.id == DEV
    assert [(n.setting, n.reason, n.value) for n in gone.notes] == [
        ("model", "unknown_model", "someone/retired")
    ]
    kind = run(layers(prefs={"model": KONTEXT}))
    assert kind.spec.id == SCHNELL and kind.notes[0].reason == "model_kind"


def test_a_preferred_model_yields_to_what_the_member_typed() -> None:
    """count:4 with a preferred one-image model: the model goes, not the member's count."""
    resolved = run(layers(prefs={"model": ULTRA}, count=4))
    assert resolved.spec.id == SCHNELL and resolved.input["num_outputs"] == 4
    note = resolved.notes[0]
    assert (note.setting, note.reason, note.params["option"]) == ("model", "conflict", "count")


def test_a_preferred_model_yields_to_the_styles_ratio_and_a_style_ratio_to_the_server() -> None:
    """The style's 21:9 beats a preferred model without it; with the server's model, the ratio goes."""
    s = style(aspect_ratio="21:9")
    over_pref = run(layers(style=s, prefs={"model": PRO}))
    assert over_pref.spec.id == SCHNELL and over_pref.input["aspect_ratio"] == "21:9"
    assert over_pref.notes[0].reason == "conflict"
    under_server = run(layers(style=s, server=PRO))
    assert under_server.spec.id == PRO and under_server.input["aspect_ratio"] == "1:1"
    assert [(n.setting, n.source) for n in under_server.notes] == [("aspect_ratio", "style")]


def test_a_count_above_todays_allowance_is_dropped() -> None:
    """Preferred 4 with 2 images left: the default count, and a note naming what is left."""
    resolved = run(layers(prefs={"count": 4}, allowance=2))
    assert resolved.input["num_outputs"] == 1
    assert resolved.notes[0].reason == "over_allowance" and resolved.notes[0].params["left"] == 2
    assert run(layers(prefs={"count": 2}, allowance=2)).input["num_outputs"] == 2


def test_the_style_wraps_the_prompt_and_the_suffix_ends_it() -> None:
    """Template around the prompt, then the suffix; that final prompt is the input's."""
    resolved = run(layers(style=style("photo of {prompt}, noir"), prefs={"suffix": "35mm"}))
    assert resolved.prompt == "photo of a fox, noir, 35mm"
    assert resolved.input["prompt"] == resolved.prompt
    assert join_suffix("a fox", ", grainy") == "a fox, grainy"


def test_a_blocked_or_overlong_suffix_is_dropped() -> None:
    """A suffix a blocked term matches, or one that passes the length limit, is left off."""
    blocked = run(layers(prefs={"suffix": "gore"}, suffix_blocked=True))
    assert blocked.prompt == "a fox" and blocked.notes[0].reason == "blocked_term"
    long = run(layers("x" * 1990, prefs={"suffix": "much too long"}))
    assert long.prompt == "x" * 1990 and long.notes[0].reason == "too_long"


def test_what_the_member_typed_is_still_judged() -> None:
    """A typed model that cannot serve, or a typed value it refuses, is a refusal as before."""
    with pytest.raises(InputValidationError):
        run(layers(model=ULTRA, count=4, prefs={"model": DEV}))
    with pytest.raises(UnknownModelError):
        run(layers(model="nobody/none"))
    with pytest.raises(UserFacingError):
        run(layers(model=KONTEXT))
    with pytest.raises(UnknownModelError):
        run(layers(server="nobody/none"))
