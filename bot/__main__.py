"""`python -m bot [run|sync|check|generate]`: the command line and the composition root."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from dotenv import load_dotenv

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")


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
    sub.add_parser("check", help="validate the configuration without starting")
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
        settings = load_settings(os.environ, require_discord=command not in ("generate",))
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2

    from bot.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.secrets())
    try:
        if command == "check":
            return check(settings, out)
        if command == "generate":
            return asyncio.run(generate(settings, args, out))
        if command == "sync":
            guild = args.guild if args.guild is not None else settings.dev_guild_id
            return asyncio.run(sync_commands(settings, None if args.global_ else guild))
        return run(settings)
    except KeyboardInterrupt:
        return 0
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return 2


class StartupError(Exception):
    """Start-up cannot go on; `str()` is one sentence for the operator."""


def _load_catalog(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.catalog import CatalogError, load_catalog

    try:
        return load_catalog(settings.models_file)
    except CatalogError as exc:
        raise StartupError(str(exc)) from None


def check(settings: Settings, out: TextIO) -> int:
    """Validate everything that can be checked offline and print the settings, secrets masked."""
    catalog = _load_catalog(settings)
    try:
        catalog.get(settings.default_model)
    except Exception:
        print(
            f"DEFAULT_MODEL {settings.default_model!r} is not in the model catalog: choose one "
            "listed by /models or add it with MODELS_FILE.",
            file=sys.stderr,
        )
        return 2
    width = max(len(name) for name, _ in settings.summary())
    for name, shown in settings.summary():
        print(f"{name.ljust(width)}  {shown}", file=out)
    print(f"{'MODELS'.ljust(width)}  {len(catalog.models())} in the catalog", file=out)
    print("Configuration OK.", file=out)
    return 0


async def generate(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from bot.catalog import cli_input
    from bot.cli_generate import run_generate

    catalog = _load_catalog(settings)
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


def run(settings: Settings) -> int:
    """Run the bot until SIGTERM or Ctrl-C; exit 0 after a clean shutdown."""
    return asyncio.run(_run_bot(settings))


async def _run_bot(settings: Settings) -> int:
    from bot.app import build_and_run

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    catalog = _load_catalog(settings)
    return await build_and_run(settings, catalog, stop)


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    from bot.app import sync_only

    catalog = _load_catalog(settings)
    return await sync_only(settings, catalog, guild_id)


if __name__ == "__main__":
    sys.exit(main())
