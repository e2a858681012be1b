"""`python -m bot block|unblock|blocked`: the operator's block list from the terminal."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli.blocks import run_blocks
from bot.storage import Database
from bot.storage.operator_blocks import OperatorBlockStore
from tests.backends import url_of
from tests.bot.test_main import run_cli

USER = "123456789012345678"


async def run(
    url: str, command: str, user: str | None = None, reason: str | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_blocks(url, command, user_id=user, reason=reason, out=out, err=err)
    return code, out.getvalue().strip(), err.getvalue().strip()


async def test_block_list_and_unblock_round_trip(database: Database) -> None:
    """Each command says what it did in one sentence, exit 0, and the store agrees."""
    url = url_of(database)
    assert await run(url, "blocked") == (0, "No user is blocked.", "")
    code, out, _ = await run(url, "block", USER, "spam in three servers")
    assert code == 0 and out.startswith(f"Blocked user {USER} in every server and DM")
    code, out, _ = await run(url, "block", USER)
    assert code == 0 and "already blocked since" in out and out.endswith("nothing changed.")
    [entry] = await OperatorBlockStore(database).list()
    assert (entry.user_id, entry.reason) == (int(USER), "spam in three servers")
    code, out, _ = await run(url, "blocked")
    assert code == 0 and out.startswith(USER) and out.endswith("spam in three servers")
    assert (await run(url, "unblock", USER))[:2] == (
        0,
        f"Unblocked user {USER}: they may use the bot again.",
    )
    code, out, _ = await run(url, "unblock", USER)
    assert code == 0 and out == f"User {USER} was not blocked; nothing changed."
    assert await OperatorBlockStore(database).list() == []


async def test_bad_arguments_are_one_sentence_and_exit_2(tmp_path: Path) -> None:
    """A user id that is not one, or an empty reason, is refused before the database opens."""
    url = f"sqlite:///{tmp_path / 'never' / 'bot.db'}"
    for user, reason in (("@someone", None), ("12", None), (USER, "   ")):
        code, out, err = await run(url, "block", user, reason)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert not (tmp_path / "never").exists()


def test_the_commands_run_without_a_discord_token(tmp_path: Path) -> None:
    """The whole command line, as an operator types it: no DISCORD_TOKEN, no Discord."""
    env = {"COMETAPI_KEY": "sk-test-key", "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    blocked = run_cli(["block", USER, "--reason", "abuse"], env, tmp_path)
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.startswith(f"Blocked user {USER}")
    listed = run_cli(["blocked"], env, tmp_path)
    assert listed.returncode == 0 and USER in listed.stdout and "abuse" in listed.stdout
    bad = run_cli(["unblock", "nobody"], env, tmp_path)
    assert bad.returncode == 2 and "USER_ID" in bad.stderr and "Traceback" not in bad.stderr
