"""Property tests (hypothesis) of the option → input mapping and `extra` parsing: whatever a
member types, the result is a model input or one clear refusal, never an exception."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.catalog import (
    SLASH_OPTIONS,
    Catalog,
    FieldSpec,
    InputPolicy,
    InputValidationError,
    build_input,
    load_catalog,
    parse_extra,
)
from bot.i18n import Messages

# Bounded so the three property modules stay well under a minute of CI together.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CATALOG: Catalog = load_catalog()
MESSAGES = Messages.load()

# What Discord can hand over for an option, and what a member can type in `extra`.
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from(["1:1", "16:9", "match_input_image", "webp", "png", "https://x.test/a.png"]),
)


def fitting(field: FieldSpec) -> st.SearchStrategy[Any]:
    """Values the field declares it takes (so that some inputs get through)."""
    if field.choices:
        return st.sampled_from(field.choices)
    if field.type == "integer":
        low = int(field.minimum) if field.minimum is not None else -(2**31)
        high = int(field.maximum) if field.maximum is not None else 2**31
        return st.integers(min_value=low, max_value=max(low, high))
    if field.type == "image":
        return st.just("https://cdn.discordapp.com/attachments/1/2/in.png")
    return st.text(min_size=1, max_size=200).filter(str.strip)


@st.composite
def options_for(draw: st.DrawFn, model: str) -> dict[str, Any]:
    """Each slash option left out, given a value the model takes, or given anything at all;
    half the examples are a member's ordinary request, the other half anything goes."""
    spec = CATALOG.get(model)
    wild = draw(st.booleans())
    chosen: dict[str, Any] = {}
    for option in SLASH_OPTIONS:
        field = spec.option_field(option)
        kinds = ["absent"] + (["fitting", "fitting"] if field is not None else [])
        kinds += ["anything"] if wild else []
        kind = draw(st.sampled_from(kinds))
        if kind == "fitting" and field is not None:
            chosen[option] = draw(fitting(field))
        elif kind == "anything":
            chosen[option] = draw(values)
    if "prompt" not in chosen and draw(st.booleans()):
        chosen["prompt"] = draw(st.text(min_size=1, max_size=200))
    return chosen


extra_key = st.one_of(
    st.sampled_from(
        ["guidance", "num_inference_steps", "seed", "disable_safety_checker", "prompt", "raw"]
    ),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
)
extra_value = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters=";\n"), max_size=20),
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from(["true", "off", '"quoted; value"', "'x'", '"unclosed', "1e999", "-0"]),
)
extra_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.tuples(extra_key, extra_value), max_size=5).map(
        lambda pairs: "; ".join(f"{k}={v}" for k, v in pairs)
    ),
)
policies = st.builds(
    InputPolicy,
    age_restricted_channel=st.booleans(),
    allow_nsfw=st.booleans(),
    max_prompt_length=st.one_of(st.just(2000), st.integers(min_value=1, max_value=2000)),
)


def assert_clear_refusal(error: InputValidationError) -> None:
    """At least one problem, each with a sentence in the locale files (not a bare code)."""
    assert error.problems
    for problem in error.problems:
        assert MESSAGES.has("en-US", f"validation.{problem.code}"), problem.code
        assert problem.message()


@PROPERTY
@given(
    data=st.data(),
    model=st.sampled_from([m.id for m in CATALOG.models()]),
    extra=st.one_of(st.none(), st.none(), extra_text),
    policy=policies,
)
def test_any_options_give_an_input_or_one_clear_refusal(
    data: st.DataObject, model: str, extra: str | None, policy: InputPolicy
) -> None:
    """build_input returns a storable input of declared fields, or InputValidationError."""
    spec = CATALOG.get(model)
    given_options = data.draw(options_for(model))
    try:
        result = build_input(spec, given_options, extra=extra, policy=policy, rng=lambda: 7)
    except InputValidationError as error:
        event("refused")
        assert_clear_refusal(error)
        return
    event("accepted")
    assert set(result) <= set(spec.fields)
    assert isinstance(result.get("prompt"), str) and result["prompt"].strip()
    assert len(result["prompt"]) <= policy.max_prompt_length
    if not policy.relaxed_safety:
        assert result.get("disable_safety_checker") in (None, False)
    json.dumps(result, allow_nan=False)  # stored as input_json, sent as JSON
    for value in result.values():
        assert not (isinstance(value, float) and not math.isfinite(value))


@PROPERTY
@given(text=extra_text)
def test_any_extra_text_parses_or_is_refused_clearly(text: str) -> None:
    """parse_extra gives a dict of identifier keys, or an InputValidationError with reasons."""
    try:
        parsed = parse_extra(text)
    except InputValidationError as error:
        event("refused")
        assert_clear_refusal(error)
        return
    event("parsed")
    assert all(key.isidentifier() for key in parsed)
