"""Every failure ends the pending message with its own sentence; nothing is left spinning."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cogs.conftest import Stack, text
from tests.fakes.cometapi import envelope

SCHNELL = "black-forest-labs/flux-schnell"


async def _ended(stack: Stack, interaction: Any, job_id: int = 1) -> dict[str, Any]:
    """Wait until the user has been told, and return the message's embed."""
    await stack.wait_notified(job_id)
    message = interaction.original_message
    assert message.custom_ids == []  # no Cancel button left behind
    return message.embeds[0]


@pytest.mark.parametrize(
    ("fault", "key", "params"),
    [
        (
            (400, envelope("prompt is invalid: bad words", code="invalid_request")),
            "error.invalid_input",
            {"reason": "prompt is invalid: bad words"},
        ),
        ((402, None), "error.no_credit", {}),
        ((401, None), "error.not_configured", {}),
        (
            (404, envelope("model not found", code="model_not_found")),
            "error.model_unavailable",
            {"model": "FLUX schnell"},
        ),
    ],
)
async def test_create_errors_end_with_their_sentence(
    stack: Stack, fault: tuple[int, Any], key: str, params: dict[str, Any]
) -> None:
    """Each kind of create error gives the user its own sentence."""
    status, body = fault
    stack.api.fail_next(1, status, body, route="create")
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="a tree", user=fake.users.member)
    await interaction.wait_callback()
    embed = await _ended(stack, interaction)
    expected = text(stack, key, **params)
    if key == "error.invalid_input":
        assert embed["description"].startswith(expected.split("{")[0][:20])
        assert "bad words" in embed["description"]
    else:
        assert embed["description"] == expected
    job = await stack.services.jobs.get(1)
    assert job is not None and job.status.value == "failed"


async def test_auth_failure_is_not_shown_to_users_but_logged(stack: Stack, caplog: Any) -> None:
    """A rejected key shows users the neutral sentence and never the key."""
    stack.api.fail_next(1, 401, None, route="create")
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="a tree", user=fake.users.member)
    await interaction.wait_callback()
    embed = await _ended(stack, interaction)
    assert embed["description"] == text(stack, "error.not_configured")
    assert stack.api.api_key not in str(embed)


async def test_safety_filter_failure(stack: Stack) -> None:
    """A prediction failed by the safety checker says so."""
    stack.api.set_model_behaviour(
        SCHNELL, fail_with="NSFW content detected. Try a different prompt.", duration=0.1
    )
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="something", user=fake.users.member)
    await interaction.wait_callback()
    embed = await _ended(stack, interaction)
    assert embed["description"] == text(stack, "error.safety")


async def test_provider_failure_keeps_the_reason(stack: Stack) -> None:
    """A failed prediction shows the provider's error text."""
    stack.api.set_model_behaviour(SCHNELL, fail_with="CUDA out of memory", duration=0.1)
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="something", user=fake.users.member)
    await interaction.wait_callback()
    embed = await _ended(stack, interaction)
    assert "CUDA out of memory" in embed["description"]


async def test_timeout_ends_the_job_and_tries_a_remote_cancel(stack_factory: Any) -> None:
    """A prediction past the deadline is timed out, canceled remotely, and the user told."""
    stack: Stack = await stack_factory(
        api_kwargs={"duration": 30}, settings_overrides={"job_timeout_seconds": 0.5}
    )
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="slow", user=fake.users.member)
    await interaction.wait_callback()
    embed = await _ended(stack, interaction)
    assert embed["description"].startswith(text(stack, "error.timed_out", minutes=1).split("1")[0])
    job = await stack.services.jobs.get(1)
    assert job is not None and job.status.value == "timed_out"
    assert stack.api.requests_for("cancel")


async def test_rate_limits_are_retried_before_anyone_is_told(stack: Stack) -> None:
    """A 429 on create with Retry-After is retried; the job still succeeds."""
    stack.api.fail_next(1, 429, None, route="create", headers={"Retry-After": "0"})
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="patience", user=fake.users.member)
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    assert len(stack.api.requests_for("create")) == 2 and job.output_count == 1
