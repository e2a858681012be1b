"""The pending message is edited only when its text changes, and not more than once per interval."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.edge.presenter import DiscordPresenter
from bot.jobs import JobEvent, JobStatus
from tests.stack import Stack


async def test_progress_edits_are_throttled_and_deduplicated(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """Ten progress events in a burst give one edit now and one trailing edit with the latest state."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 60})
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="slow", user=fake.users.member)
    await interaction.wait_callback()
    job = await stack.wait_job(1, "running")
    presenter = DiscordPresenter(stack.bot, stack.services, min_edit_interval=0.5)
    since = len(fake.requests)

    def edits() -> list[object]:
        return [
            r
            for r in fake.requests[since:]
            if r.method == "PATCH" and str(job.message_id) in r.path
        ]

    # Posted long enough ago that the interval since the pending message has passed.
    running = dataclasses.replace(job, status=JobStatus.RUNNING, created_at=job.created_at - 10)
    for percent in range(10, 60, 5):
        await presenter.progress(running, JobEvent("progress", running, progress=percent / 100))
    assert len(edits()) == 1  # the first goes out at once; the rest wait for the interval
    await presenter.progress(running, JobEvent("progress", running, progress=0.55))
    await fake.wait_for(lambda r: len(edits()) >= 2, timeout=5)
    await asyncio.sleep(0.7)  # a whole interval later nothing else was sent
    assert len(edits()) == 2
    assert "55%" in str(fake.messages[job.message_id].embeds[0])
    # The same state again sends nothing.
    await presenter.progress(running, JobEvent("progress", running, progress=0.55))
    assert len(edits()) == 2


async def test_a_pending_message_just_posted_waits_one_interval(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """Posting counts as the first write: progress right after it waits, then the latest shows."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 60})
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="slow", user=fake.users.member)
    await interaction.wait_callback()
    job = await stack.wait_job(1, "running")
    presenter = DiscordPresenter(stack.bot, stack.services, min_edit_interval=0.5)
    since = len(fake.requests)

    def edits() -> list[object]:
        return [
            r
            for r in fake.requests[since:]
            if r.method == "PATCH" and str(job.message_id) in r.path
        ]

    running = dataclasses.replace(job, status=JobStatus.RUNNING)  # posted a moment ago
    await presenter.progress(running, JobEvent("started", running))
    await presenter.progress(running, JobEvent("progress", running, progress=0.25))
    assert edits() == []  # nothing at once: the message was written a moment ago
    await presenter.progress(running, JobEvent("progress", running, progress=0.4))
    await fake.wait_for(lambda r: len(edits()) >= 1, timeout=5)
    assert len(edits()) == 1
    assert "40%" in str(fake.messages[job.message_id].embeds[0])


async def test_an_estimate_is_refreshed_only_when_it_moves_more_than_a_fifth(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """The same status with an estimate 10 % off sends nothing; 50 % off sends one edit with
    the new <t:ETA:R>; both within the edit interval."""
    import time

    stack: Stack = await stack_factory(api_kwargs={"duration": 60})
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="slow", user=fake.users.member)
    await interaction.wait_callback()
    job = await stack.wait_job(1, "running")
    presenter = DiscordPresenter(stack.bot, stack.services, min_edit_interval=0.2)
    since = len(fake.requests)

    def edits() -> list[object]:
        return [
            r
            for r in fake.requests[since:]
            if r.method == "PATCH" and str(job.message_id) in r.path
        ]

    running = dataclasses.replace(job, status=JobStatus.RUNNING, created_at=job.created_at - 10)
    first = time.time() + 100
    await presenter.progress(running, JobEvent("progress", running, eta=first))
    assert len(edits()) == 1
    assert f"<t:{round(first)}:R>" in str(fake.messages[job.message_id].embeds[0])
    await asyncio.sleep(0.3)
    await presenter.progress(running, JobEvent("progress", running, eta=first + 10))
    await asyncio.sleep(0.3)
    assert len(edits()) == 1  # 10 s of 100 left: not worth an edit
    moved = first + 50
    await presenter.progress(running, JobEvent("progress", running, eta=moved))
    await fake.wait_for(lambda r: len(edits()) >= 2, timeout=5)
    assert f"<t:{round(moved)}:R>" in str(fake.messages[job.message_id].embeds[0])
    await presenter.progress(running, JobEvent("progress", running, eta=None))
    await fake.wait_for(lambda r: len(edits()) >= 3, timeout=5)  # gone: said at once
    assert "<t:" + str(round(moved)) not in str(fake.messages[job.message_id].embeds[0])
