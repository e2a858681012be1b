"""Admission and blocked terms (issue #15): the check runs before any lock, in bounded time
however the server's terms are written, and stored terms RE2 refuses are skipped, not fatal."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import bot.policy.admission as admission_module
from bench.bench_terms import adversarial_prompts, adversarial_terms
from bot.jobs.model import Job
from bot.policy import Refusal
from bot.policy.moderation import TermsSkipped
from bot.storage import Database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from tests.bot.policy.helpers import GUILD, OTHER_GUILD, FakeClock, make_admission, new_job
from tests.bot.policy.test_admission import admit, assert_accepted, assert_refused, ctx

# The issue's patterns: each passed the old shape check, each is exponential for `re`.
ISSUE_PATTERNS = ["/(a|aa)+$/", "/(a|a)*b/", "/(a?){28}a{28}/", "/\\w*\\w*\\w*\\w*\\w*x/"]


async def store_raw(db: Database, guild: int, term: str, is_pattern: bool) -> None:
    """A term written as an older version stored it, without today's checks."""
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO guild_blocked_terms (guild_id, term, is_pattern, added_at)"
            " VALUES (?, ?, ?, 0)",
            guild,
            term,
            int(is_pattern),
        )
        await tx.execute(
            "INSERT INTO guild_settings (guild_id, updated_at, terms_version) VALUES (?, 0, 1)"
            " ON CONFLICT (guild_id) DO UPDATE SET terms_version = terms_version + 1",
            guild,
        )


async def test_terms_are_matched_before_the_transaction_takes_its_lock(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock, monkeypatch: Any
) -> None:
    """While the prompt is matched no transaction is open, so no write lock is held; the
    refusal is still recorded as before (reason, term in the detail, neutral params)."""
    adm = make_admission(jobs, config, clock)
    await config.add_blocked_term(GUILD, "dragon")
    lock = jobs.db._lock  # type: ignore[attr-defined]  # SQLite's one-writer lock
    held_while_matching: list[bool] = []
    real = admission_module.compile_terms

    class Watched:
        def __init__(self, terms: Any) -> None:
            self.compiled = real(terms)

        def match(self, text: str) -> Any:
            held_while_matching.append(lock.locked())
            return self.compiled.match(text)

        @property
        def skipped(self) -> Any:
            return self.compiled.skipped

    monkeypatch.setattr(admission_module, "compile_terms", Watched)
    refusal = await assert_refused(await admit(adm, prompt="a red DRAGON"), "blocked_term", jobs)
    assert (refusal.params, refusal.job.refusal_detail) == ({}, "dragon")
    await assert_accepted(await admit(adm, prompt="a red fox"), jobs)
    assert held_while_matching == [False, False]


async def test_the_issues_patterns_are_accepted_and_checked_at_once(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """`/(a|aa)+$/` and friends pass /settings (RE2 runs them in linear time); a 35-character
    prompt that took `re` seconds is decided in well under a second, the way production
    decides it (Admission.admit, real SQLite)."""
    adm = make_admission(jobs, config, clock)
    for pattern in ISSUE_PATTERNS:
        await config.add_blocked_term(GUILD, pattern)
    cases = (("a" * 27 + "!" * 8, Job), ("a" * 34 + "!", Refusal), ("a" * 34 + "b", Refusal))
    for prompt, outcome in cases:
        start = time.perf_counter()
        async with asyncio.timeout(1.0):
            result = await admit(adm, prompt=prompt)
        assert time.perf_counter() - start < 1.0
        assert isinstance(result, outcome)


@pytest.mark.timeout(60)
async def test_a_worst_case_list_and_prompt_stay_within_a_hard_limit(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """200 terms built to be slow, stored through /settings' own checks, against 2,000
    characters built against them: each decision through Admission.admit within 0.5 s
    (bench/bench_terms.py measures the check alone at a few milliseconds)."""
    adm = make_admission(jobs, config, clock)
    lists = adversarial_terms(200)
    prompts = adversarial_prompts(2000)
    for guild, name in ((GUILD, "dfa-states"), (OTHER_GUILD, "counted")):
        for term in lists[name]:
            await config.add_blocked_term(guild, term.term)
    for guild in (GUILD, OTHER_GUILD):
        for label in ("AB", "A猫", "folds 4", "a * "):
            start = time.perf_counter()
            async with asyncio.timeout(0.5):
                result = await admit(adm, prompt=prompts[label], guild=guild)
            assert time.perf_counter() - start < 0.5, label
            assert isinstance(result, Job), (label, result)


async def test_stored_terms_re2_refuses_are_skipped_and_announced_once(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A backreference stored by an older version is skipped (the other terms still refuse)
    and announced once for this version of the server's terms."""
    adm = make_admission(jobs, config, clock)
    heard: list[TermsSkipped] = []
    adm.terms.subscribe(heard.append)
    await store_raw(db, GUILD, "/(ab)\\1/", True)
    await store_raw(db, GUILD, "storm", False)
    await assert_accepted(await admit(adm, prompt="abab"), jobs)
    await assert_refused(await admit(adm, prompt="a storm"), "blocked_term", jobs)
    await assert_accepted(await admit(adm, prompt="abab again"), jobs)
    assert [(n.guild_id, [s.term.term for s in n.skipped]) for n in heard] == [
        (GUILD, ["/(ab)\\1/"])
    ]
    assert heard[0].skipped[0].code == "pattern_unsupported"


async def test_a_caller_that_read_the_settings_saves_admission_a_read(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock, monkeypatch: Any
) -> None:
    """With the server's terms_version passed in (as the Discord edge does from the settings it
    just read), admission does not read it again, and the terms still apply."""
    adm = make_admission(jobs, config, clock)
    await config.add_blocked_term(GUILD, "storm")
    version = (await config.get(GUILD)).terms_version
    reads: list[int] = []
    real = config.terms_version

    async def counted(guild_id: int) -> int:
        reads.append(guild_id)
        return await real(guild_id)

    monkeypatch.setattr(config, "terms_version", counted)
    refused = await adm.admit(new_job(prompt="a storm"), ctx(), terms_version=version)
    assert isinstance(refused, Refusal) and refused.job.refusal_detail == "storm"
    assert isinstance(await adm.admit(new_job(prompt="calm"), ctx(), terms_version=version), Job)
    assert reads == []
    await admit(adm, prompt="calm again")  # without it, admission reads the version itself
    assert reads == [GUILD]
