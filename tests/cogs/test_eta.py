"""The pending message's estimate end to end: none for a model without history, a Discord
relative timestamp once the model has finished a job, later for a job waiting in line."""

from __future__ import annotations

import re
from typing import Any

from tests.cogs.conftest import Stack, text
from tests.cogs.test_prefs import fields, imagine

ETA = re.compile(r"^<t:(\d+):R>$")


def eta_of(interaction: Any, stack: Stack) -> int | None:
    value = fields(interaction).get(text(stack, "pending.eta"))
    if value is None:
        return None
    match = ETA.match(value)
    assert match, value
    return int(match.group(1))


async def test_an_estimate_appears_only_once_the_model_has_history(stack_factory: Any) -> None:
    """The first job of a model shows no estimate; the next one of that model does, about one
    duration away; another model (no history) still shows none."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 1.0, "start_delay": 0.05})
    first = await imagine(stack)
    assert eta_of(first, stack) is None
    await stack.wait_job(1, "succeeded")
    second = await imagine(stack)
    shown = eta_of(second, stack)
    assert shown is not None
    done = await stack.wait_job(2, "succeeded")
    assert done.finished_at is not None and abs(shown - done.finished_at) <= 2
    other = await imagine(stack, model="black-forest-labs/flux-dev")
    assert eta_of(other, stack) is None


async def test_a_job_in_line_expects_to_finish_after_the_one_ahead(stack_factory: Any) -> None:
    """One slot, a 2 s model with history: the job queued behind a running one is expected
    about a duration after it, and the queue position is still shown."""
    stack: Stack = await stack_factory(
        api_kwargs={"duration": 2.0, "start_delay": 0.05}, MAX_CONCURRENT_JOBS="1"
    )
    fake = stack.discord
    await imagine(stack)
    await stack.wait_job(1, "succeeded")
    ahead = await imagine(stack)
    await stack.wait_job(2, "running")
    behind = await fake.slash("imagine", prompt="behind", user=fake.users.other_member)
    await behind.wait_callback()
    status = fields(behind)[text(stack, "pending.status")]
    assert status == text(stack, "status.queued", position=1)
    first, second = eta_of(ahead, stack), eta_of(behind, stack)
    assert first is not None and second is not None
    assert second - first >= 1  # a whole prediction later, rounded to seconds
    done = await stack.wait_job(3, "succeeded", timeout=15)
    assert done.finished_at is not None and abs(second - done.finished_at) <= 2
