"""A stored input made into a new request is validated like a fresh command, where it is made now."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import Catalog, InputPolicy, InputValidationError, build_input, reuse_input
from tests.bot.catalog._data import DEV, IMAGE_URL, KONTEXT_PRO, PRO, SCHNELL, counter

STRICT = InputPolicy()
RELAXED = InputPolicy(age_restricted_channel=True, allow_nsfw=True)


def problems(caught: pytest.ExceptionInfo[InputValidationError]) -> list[tuple[str, Any]]:
    return [(p.code, p.field) for p in caught.value.problems]


def test_a_relaxed_safety_setting_is_refused_where_the_channel_does_not_allow_it(
    catalog: Catalog,
) -> None:
    """safety_tolerance=6, valid in an age-restricted channel that allows it, is refused (not
    dropped) under a stricter policy, with the reason that names the NSFW policy."""
    spec = catalog.get(PRO)
    stored = build_input(spec, {"prompt": "p"}, extra="safety_tolerance=6", policy=RELAXED)
    assert reuse_input(spec, stored, policy=RELAXED, new_seed=True)["safety_tolerance"] == 6
    with pytest.raises(InputValidationError) as caught:
        reuse_input(spec, stored, policy=STRICT, new_seed=True)
    assert problems(caught) == [("not_user_controllable", "safety_tolerance")]
    assert caught.value.problems[0].params["reason"] == "nsfw_policy"


def test_fields_at_their_default_pass_whatever_the_policy(catalog: Catalog) -> None:
    """The default tolerance and the never-user-set defaults are not choices: they pass."""
    for model in (PRO, SCHNELL, KONTEXT_PRO):
        spec = catalog.get(model)
        options = {"prompt": "p", "image": IMAGE_URL if spec.image_field else None}
        stored = build_input(spec, options, rng=counter())
        again = reuse_input(spec, stored, policy=STRICT, images_from_discord=True)
        assert again == stored


def test_a_stored_value_no_user_may_set_is_refused(catalog: Catalog) -> None:
    """A row saying disable_safety_checker=true (never set by the bot) is refused, not carried."""
    spec = catalog.get(SCHNELL)
    stored = dict(build_input(spec, {"prompt": "p"}, rng=counter()), disable_safety_checker=True)
    with pytest.raises(InputValidationError) as caught:
        reuse_input(spec, stored, policy=RELAXED)
    assert problems(caught) == [("not_user_controllable", "disable_safety_checker")]


def test_images_pass_only_when_the_bot_took_them_from_discord(catalog: Catalog) -> None:
    """The image an /edit got from an attachment is kept; one typed into an input is refused."""
    spec = catalog.get(DEV)
    stored = build_input(spec, {"prompt": "p", "image": IMAGE_URL}, rng=counter())
    assert reuse_input(spec, stored, policy=STRICT, images_from_discord=True)["image"] == IMAGE_URL
    with pytest.raises(InputValidationError) as caught:
        reuse_input(spec, stored, policy=STRICT)
    assert problems(caught) == [("extra_image_field", "image")]
    # An image field no option feeds could only have been typed: refused even so.
    pro = catalog.get(PRO)
    typed = dict(build_input(pro, {"prompt": "p"}, rng=counter()), image_prompt=IMAGE_URL)
    with pytest.raises(InputValidationError) as caught:
        reuse_input(pro, typed, policy=RELAXED, images_from_discord=True)
    assert problems(caught) == [("extra_image_field", "image_prompt")]


def test_options_replace_stored_values_and_are_validated(catalog: Catalog) -> None:
    """A new prompt replaces the stored one; a stored count past the model's range is refused
    under the option's name, and a field the model no longer declares is named too."""
    spec = catalog.get(SCHNELL)
    stored = build_input(spec, {"prompt": "old", "count": 2}, rng=counter())
    renewed = reuse_input(spec, stored, policy=STRICT, options={"prompt": "new"})
    assert renewed["prompt"] == "new" and renewed["num_outputs"] == 2
    with pytest.raises(InputValidationError) as caught:
        reuse_input(spec, dict(stored, num_outputs=9, retired_field=1), policy=STRICT)
    assert problems(caught) == [("unknown_extra_field", "retired_field"), ("out_of_range", "count")]
