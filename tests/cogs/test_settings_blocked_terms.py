"""Issue #15-1 end to end: one server's blocked patterns must not freeze every server.

Real discord.py on the fake Discord, the fake CometAPI, SQLite: a moderator adds the issue's
patterns with `/settings blocked-terms add`; members' `/imagine` with prompts built against
them, and another server's `/imagine` at the same moment, are answered well within Discord's
3 seconds. Before the fix the first prompt held the event loop (and the database's write lock)
for seconds: every interaction in every server missed its deadline.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cogs.conftest import Stack, text
from tests.cogs.test_settings import refused, reply, settings

ISSUE_PATTERNS = ["/(a|aa)+$/", "/(a|a)*b/", "/(a?){28}a{28}/", "/\\w*\\w*\\w*\\w*\\w*x/"]
# Well within Discord's 3 s, with room for a loaded test machine.
QUICK = 1.5


async def two_servers(stack_factory: Any) -> tuple[Stack, Any, Any]:
    """The default stack plus a second server with a member of its own, known to the bot."""
    stack: Stack = await stack_factory()
    fake = stack.discord
    other = fake.add_guild("Neighbours")
    neighbour = fake.add_user("neighbour", guild=other)
    await stack.restart()  # the bot learns of the second server at its next READY
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=other.id)
    return stack, other, neighbour


@pytest.mark.timeout(60)
async def test_adversarial_patterns_do_not_delay_this_server_or_any_other(
    stack_factory: Any,
) -> None:
    """The issue's patterns are accepted (RE2 runs them in linear time); a 35-character prompt
    that took `re` seconds, a 2,000-character one, and a neighbour server's request sent at the
    same moment are each answered in well under Discord's 3 s, with the right outcome."""
    stack, other, neighbour = await two_servers(stack_factory)
    fake = stack.discord
    for pattern in ISSUE_PATTERNS:
        added = await settings(stack, "blocked-terms", "add", term=pattern)
        assert reply(added) == text(stack, "settings.blocked_terms.added", term=f"`{pattern}`")

    other_channel = next(iter(other.channels.values()))

    async def both(prompt: str, blocked: bool) -> None:
        """The member's prompt here and the neighbour's there, sent at the same moment."""
        mine = await fake.slash("imagine", prompt=prompt, user=fake.users.member)
        theirs = await fake.slash(
            "imagine", prompt="a lighthouse at dusk", user=neighbour, channel=other_channel
        )
        await mine.wait_callback()
        await theirs.wait_callback()
        for interaction in (mine, theirs):
            assert not interaction.missed_deadline
            assert interaction.callback_latency is not None
            assert interaction.callback_latency < QUICK, (prompt[:10], interaction.guild_id)
        expected = text(stack, "refusal.blocked_term") if blocked else None
        assert refused(mine) == expected
        assert refused(theirs) is None

    # (a|aa)+$ backtracks over the a's before the b; (a|a)*b matches.
    await both("a" * 34 + "b", blocked=True)
    # (a|a)*b blocks every prompt here (any b, even in "webp"); without it, prompts pass.
    removed = await settings(stack, "blocked-terms", "remove", term="/(a|a)*b/")
    assert reply(removed) == text(stack, "settings.blocked_terms.removed", term="`/(a|a)*b/`")
    await both("a" * 27 + "!" * 8, blocked=False)  # 35 characters no pattern matches
    await both("ca!" * 666 + "!!", blocked=False)  # 2,000 characters no pattern matches
    await both("a!" * 1000, blocked=True)  # lone letters joined: (a?){28}a{28} matches
