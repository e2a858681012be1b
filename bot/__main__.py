"""`python -m bot [run|sync|check [--online]|health|generate|block|unblock|blocked|usage]`:
parse, load the settings, dispatch.

The composition root of the running bot is `bot.edge.runner`; the commands that need no
Discord live in `bot.cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dotenv import load_dotenv

from bot import eventloop, heartbeat
from bot.catalog import cli_input
from bot.cli.blocks import run_blocks
from bot.cli.check import check, load_catalog_or_stop
from bot.cli.generate import run_generate
from bot.cli.online import run_online_checks
from bot.cli.usage import run_usage
from bot.errors import StartupError
from bot.imagework import install_image_limits
from bot.logging_setup import configure_logging
from bot.money import usd_to_micros
from bot.settings import Settings, SettingsError, load_settings

# Commands that work without a Discord token: the database and the API key are enough.
NO_DISCORD = ("generate", "block", "unblock", "blocked", "usage")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Discord bot that makes images with CometAPI. Without a sub-command, runs the bot.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument(
        "--guild", type=int, help="sync to this server only (default: DEV_GUILD_ID, else global)"
    )
    sync.add_argument("--global", dest="global_", action="store_true", help="sync globally")
    check_cmd = sub.add_parser("check", help="validate the configuration without starting")
    check_cmd.add_argument(
        "--online",
        action="store_true",
        help="also try the token with Discord and the key with CometAPI (no image is made)",
    )
    sub.add_parser(
        "health", help="exit 0 if the running bot wrote its heartbeat (HEALTH_FILE) lately"
    )
    block = sub.add_parser(
        "block", help="block a user in every server and DM, from their next request"
    )
    block.add_argument("user_id", metavar="USER_ID", help="the user's Discord id")
    block.add_argument("--reason", help="why (kept for the operator, never shown to the user)")
    unblock = sub.add_parser("unblock", help="lift the operator's block of a user")
    unblock.add_argument("user_id", metavar="USER_ID", help="the user's Discord id")
    sub.add_parser("blocked", help="list the users the operator blocked")
    usage = sub.add_parser(
        "usage", help="spend and image totals per server for one month (UTC), from the database"
    )
    usage.add_argument("--month", metavar="YYYY-MM", help="which month (default: this one)")
    gen = sub.add_parser("generate", help="run one prediction from the terminal (no Discord)")
    gen.add_argument("prompt")
    gen.add_argument("--model", help="model id (default: DEFAULT_MODEL)")
    gen.add_argument("--out", help="output file; several images get -2, -3 ... suffixes")
    gen.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input field of the model, e.g. --option aspect_ratio=16:9 (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    load_dotenv(os.environ.get("BOT_ENV_FILE", ".env"))
    try:
        settings = load_settings(os.environ, require_discord=command not in NO_DISCORD)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secrets())
    install_image_limits()
    try:
        if command == "health":
            code, line = heartbeat.health(settings.health_file)
            print(line, file=out)
            return code
        if command == "check":
            code = check(settings, out)
            if code == 0 and args.online:
                code = asyncio.run(check_online(settings, out))
            return code
        if command == "generate":
            return asyncio.run(generate(settings, args, out))
        if command in ("block", "unblock", "blocked"):
            return asyncio.run(
                run_blocks(
                    settings.database_url,
                    command,
                    user_id=getattr(args, "user_id", None),
                    reason=getattr(args, "reason", None),
                    out=out,
                    err=sys.stderr,
                )
            )
        if command == "usage":
            return asyncio.run(
                run_usage(
                    settings.database_url,
                    month=args.month,
                    bot_budget_micros=usd_to_micros(settings.bot_monthly_budget),
                    now=time.time(),
                    out=out,
                    err=sys.stderr,
                )
            )
        if command == "sync":
            guild = args.guild if args.guild is not None else settings.dev_guild_id
            return asyncio.run(sync(settings, None if args.global_ else guild))
        return eventloop.run(run(settings))
    except KeyboardInterrupt:
        return 0
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return 2


async def generate(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    catalog = load_catalog_or_stop(settings)
    return await run_generate(
        prompt=args.prompt,
        model=args.model or settings.default_model,
        out=Path(args.out) if args.out else None,
        options=list(args.option),
        settings_base_url=settings.cometapi_base_url,
        api_key=settings.cometapi_key,
        prefer_wait=settings.cometapi_prefer_wait or None,
        stdout=out,
        stderr=sys.stderr,
        catalog_input=lambda model, prompt, pairs: cli_input(catalog, model, prompt, pairs),
    )


async def check_online(settings: Settings, out: TextIO) -> int:
    """The token with Discord and the key with CometAPI; exit code 1 if anything failed."""
    from bot.edge import online_check

    return await run_online_checks(settings, out, online_check.discord_lines)


async def run(settings: Settings) -> int:
    """Run the bot until SIGTERM or Ctrl-C; exit 0 after a clean shutdown."""
    # The Discord edge is imported only by the commands that talk to Discord: `check` and
    # `generate` start without loading discord.py.
    from bot.edge import runner

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    return await runner.run(settings, load_catalog_or_stop(settings), stop)


async def sync(settings: Settings, guild_id: int | None) -> int:
    from bot.edge import runner

    return await runner.sync(settings, load_catalog_or_stop(settings), guild_id)


if __name__ == "__main__":
    sys.exit(main())
