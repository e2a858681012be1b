"""`python -m bot check --online`: does the token work with Discord, and the key with CometAPI?

One line per finding: ✓ when it passed, ✗ with what was found and the one sentence that fixes
it, – when it could not be checked (and says why). The exit code is 0 only when no line is ✗.
The Discord side lives in `bot.edge.online_check` (it needs discord.py); it is handed in as a
function so this module stays Discord-free. No line ever shows the token or the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

import aiohttp

from bot.cometapi.account import KeyReport, check_key
from bot.redact import mask_url
from bot.settings import Settings

Mark = Literal["ok", "fail", "skip"]
MARKS: dict[Mark, str] = {"ok": "✓", "fail": "✗", "skip": "–"}
CHECK_TIMEOUT = 45.0
CONSOLE = "https://api.cometapi.com/console/token"


@dataclass(frozen=True)
class CheckLine:
    """One finding: what was checked, what was found, and (when it failed) what fixes it."""

    mark: Mark
    subject: str
    found: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.mark == "fail"

    def render(self) -> str:
        text = f"{MARKS[self.mark]} {self.subject}: {self.found}"
        return f"{text}\n    Fix: {self.fix}" if self.fix else text


DiscordCheck = Callable[[Settings], Awaitable[list[CheckLine]]]


def key_lines(report: KeyReport, base_url: str) -> list[CheckLine]:
    """The CometAPI key and credit lines for what `check_key` found."""
    why = f" ({report.detail})" if report.detail else ""
    ref = f" [request id {report.request_id}]" if report.request_id else ""
    new_key = f"create a key in the CometAPI console ({CONSOLE}) and put it in .env as COMETAPI_KEY=sk-..."
    key: dict[str, CheckLine] = {
        "refused": CheckLine(
            "fail", "COMETAPI_KEY", f"{base_url} refused the key{why}{ref}.", new_key
        ),
        "forbidden": CheckLine(
            "fail",
            "COMETAPI_KEY",
            f"{base_url} denied this key access{why}{ref}.",
            "check the key's IP allow-list and model limits in the CometAPI console, or " + new_key,
        ),
        "wrong_url": CheckLine(
            "fail",
            "COMETAPI_BASE_URL",
            f"{base_url} does not answer like CometAPI's API{why}.",
            "set COMETAPI_BASE_URL=https://api.cometapi.com (or remove it from .env).",
        ),
        "unreachable": CheckLine(
            "fail",
            "COMETAPI_KEY",
            f"could not reach {base_url}{why}.",
            "check this machine's internet access (proxy, firewall, DNS) and COMETAPI_BASE_URL.",
        ),
        "error": CheckLine(
            "fail",
            "COMETAPI_KEY",
            f"{base_url} answered with an error{why}{ref}.",
            "try again in a minute; if it persists, check CometAPI's status page or support.",
        ),
    }
    if report.key in key:
        return [key[report.key]]
    top_up = "add credit to your account in the CometAPI console (top up), then check again."
    if report.key == "no_credit":
        return [
            CheckLine("ok", "COMETAPI_KEY", f"{base_url} knows the key."),
            CheckLine(
                "fail",
                "CometAPI credit",
                f"the key has no credit left{why}{ref}.",
                "add credit to your account in the CometAPI console (top up); if the key has "
                f"a quota limit of its own, raise it or set it to unlimited ({CONSOLE}).",
            ),
        ]
    listed = f" ({report.models} models listed)" if report.models is not None else ""
    lines = [CheckLine("ok", "COMETAPI_KEY", f"accepted by {base_url}{listed}.")]
    if report.credit == "ok":
        lines.append(CheckLine("ok", "CometAPI credit", f"balance ${report.balance:,.2f}."))
    elif report.credit == "none":
        balance = f"${report.balance:,.2f}" if report.balance is not None else "empty"
        lines.append(
            CheckLine("fail", "CometAPI credit", f"the account's balance is {balance}.", top_up)
        )
    else:
        lines.append(
            CheckLine(
                "skip",
                "CometAPI credit",
                "the balance could not be read from CometAPI's query service; "
                '`python -m bot generate "a test"` makes one image (billed) and tells for sure.',
            )
        )
    return lines


async def cometapi_lines(settings: Settings) -> list[CheckLine]:
    async with aiohttp.ClientSession() as session:
        report = await check_key(
            session, base_url=settings.cometapi_base_url, api_key=str(settings.cometapi_key)
        )
    # Each line names the API root; a root with a password in it is shown without it.
    return key_lines(report, mask_url(settings.cometapi_base_url))


async def _bounded(
    name: str, check: Callable[[Settings], Awaitable[list[CheckLine]]], settings: Settings
) -> list[CheckLine]:
    try:
        return await asyncio.wait_for(check(settings), CHECK_TIMEOUT)
    except TimeoutError:
        return [
            CheckLine(
                "fail",
                name,
                f"no answer within {CHECK_TIMEOUT:.0f} s.",
                "check this machine's internet access (proxy, firewall, DNS) and try again.",
            )
        ]


async def run_online_checks(settings: Settings, out: TextIO, discord_check: DiscordCheck) -> int:
    """Run both sides at once, print them in a fixed order; exit code 0 only if none failed."""
    discord_found, comet_found = await asyncio.gather(
        _bounded("Discord", discord_check, settings),
        _bounded("CometAPI", cometapi_lines, settings),
    )
    return print_report([("Discord", discord_found), ("CometAPI", comet_found)], out)


def print_report(sections: Sequence[tuple[str, Sequence[CheckLine]]], out: TextIO) -> int:
    failures = 0
    for title, lines in sections:
        print(f"\n{title}", file=out)
        for line in lines:
            print("  " + line.render().replace("\n", "\n  "), file=out)
            failures += line.failed
    if failures:
        noun = "problem" if failures == 1 else "problems"
        print(f"\n{failures} {noun}: fix and run `python -m bot check --online` again.", file=out)
        return 1
    print("\nOnline checks passed.", file=out)
    return 0


__all__ = ["CheckLine", "DiscordCheck", "cometapi_lines", "key_lines", "run_online_checks"]
