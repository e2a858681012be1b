"""Benchmark: admission decisions per second on a warm SQLite file (or PostgreSQL).

    .venv/bin/python -m bench.bench_admission [--admits 2000] [--history 10000] [--users 50]
        [--terms 100] [--concurrency 1,8] [--daily 1000] [--cooldown 0] [--db PATH]
        [--guilds 1] [--bot-daily 0] [--bot-budget 0] [--guild-budget 0] [--url DATABASE_URL]

Admission runs before Discord's acknowledgement, so each decision must stay far below
Discord's 3-second window; the target is well under 5 ms on a warm file. The file is filled
with `--history` past jobs spread over the last 30 days (so the indexed queries have rows to
skip), the server gets `--terms` blocked terms (a few prompts hit one), and every check runs:
blocked user, channels, roles, terms, cooldown, active jobs, user and server daily images.

Prints, per concurrency level, admits/second and the latency of one decision (p50, p99, max),
with how many were accepted and why the others were refused (about 5% of the prompts carry a
blocked term).

`--guilds N` spreads the requests over N servers, so concurrent admissions do not all wait for
one server's lock; `--bot-daily N` sets BOT_DAILY_LIMIT, whose lock every admission shares (set
it high enough that nothing is refused to see its cost alone); `--bot-budget USD` sets
BOT_MONTHLY_BUDGET (the same lock, plus the month's spend) and `--guild-budget USD` each
server's monthly budget (the month's spend under the server's lock): with either, every
request is priced at $0.003 an image and the history carries costs; `--url` runs on another
database, e.g. a throwaway PostgreSQL one (its tables are filled, so use an empty database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from bot.clock import SystemClock
from bot.jobs.model import Job, NewJob
from bot.policy import Admission, DefaultLimits, RequestContext
from bot.storage import Database, open_database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore

GUILD = 111_111_111_111_111_111
CHANNEL = 333_333_333_333_333_333
WORDS = [
    "lighthouse",
    "dusk",
    "forest",
    "neon",
    "city",
    "cat",
    "dragon",
    "river",
    "mountain",
    "portrait",
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admits", type=int, default=2000, help="decisions per level (2000)")
    parser.add_argument("--history", type=int, default=10_000, help="past jobs in the file")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--terms", type=int, default=100, help="blocked terms in the server")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 8],
        help="admits awaited together (1,8)",
    )
    parser.add_argument("--db", type=Path, default=None, help="use this file (default: temp)")
    parser.add_argument("--daily", type=int, default=1000, help="images per user per day")
    parser.add_argument("--cooldown", type=int, default=0, help="cooldown seconds (0)")
    parser.add_argument("--guilds", type=int, default=1, help="servers the requests spread over")
    parser.add_argument("--bot-daily", type=int, default=0, help="BOT_DAILY_LIMIT (0: none)")
    parser.add_argument("--bot-budget", default="0", help="BOT_MONTHLY_BUDGET in USD (0: none)")
    parser.add_argument(
        "--guild-budget", default="0", help="each server's monthly budget in USD (0: none)"
    )
    parser.add_argument("--url", default=None, help="DATABASE_URL (default: a temp SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


# $0.003 an image, in micro-dollars: only with a budget (older code has no price on NewJob).
PRICE = {"price_micros": 3_000, "price_unit": "image"}


def new_job(rng: random.Random, user: int, guild: int = GUILD, *, priced: bool = False) -> NewJob:
    words = rng.sample(WORDS, 4)
    if rng.random() < 0.05:
        words.append(f"blocked{rng.randrange(10)}")
    prompt = " ".join(words)
    count = rng.randint(1, 4)
    return NewJob(
        kind="imagine",
        user_id=user,
        guild_id=guild,
        channel_id=CHANNEL,
        model="black-forest-labs/flux-schnell",
        prompt=prompt,
        input={"prompt": prompt, "num_outputs": count},
        image_count=count,
        **(PRICE if priced else {}),  # type: ignore[arg-type]
    )


async def fill_history(
    db: Database, count: int, users: int, rng: random.Random, *, priced: bool = False
) -> None:
    now = time.time()
    statuses = ["succeeded"] * 8 + ["failed", "refused", "canceled"]
    async with db.transaction() as tx:
        for _ in range(count):
            created = now - rng.uniform(0, 30 * 86_400)
            status = rng.choice(statuses)
            images = rng.randint(1, 4)
            ran = status not in ("refused", "canceled")
            columns = (
                "status, kind, user_id, guild_id, channel_id, model, prompt, input_json,"
                " image_count, prediction_id, created_at, updated_at"
            )
            values: list[object] = [
                status,
                rng.randrange(users * 4),
                GUILD,
                CHANNEL,
                json.dumps({"prompt": "old"}),
                images,
                f"p{rng.random()}" if ran else None,
                created,
                created,
            ]
            if priced:  # only on a schema with costs (migration 080)
                columns += ", cost_micros"
                values.append(3_000 * images if ran else 0)
            marks = "?, 'imagine', ?, ?, ?, 'black-forest-labs/flux-schnell', 'old'" + ", ?" * (
                len(values) - 4
            )
            await tx.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks})", *values)


async def run_level(
    admission: Admission, args: argparse.Namespace, concurrency: int, rng: random.Random
) -> str:
    latencies: list[float] = []
    accepted = 0
    reasons: Counter[str] = Counter()

    async def one() -> None:
        nonlocal accepted
        user = 1_000 + rng.randrange(args.users)
        guild = GUILD + rng.randrange(args.guilds)
        ctx = RequestContext(user_id=user, guild_id=guild, channel_id=CHANNEL)
        start = time.perf_counter()
        result = await admission.admit(new_job(rng, user, guild, priced=args.priced), ctx)
        latencies.append(time.perf_counter() - start)
        if isinstance(result, Job):
            accepted += 1
        else:
            reasons[result.reason] += 1

    wall = time.perf_counter()
    done = 0
    while done < args.admits:
        batch = min(concurrency, args.admits - done)
        await asyncio.gather(*(one() for _ in range(batch)))
        done += batch
    wall = time.perf_counter() - wall
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"{concurrency:>11} {args.admits / wall:>10.0f} {statistics.median(latencies) * 1e3:>8.2f}"
        f" {p99 * 1e3:>8.2f} {latencies[-1] * 1e3:>8.2f} {accepted:>9}  "
        + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none")
    )


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        db = await open_database(args.url or f"sqlite:///{path}")
        try:
            clock = SystemClock()
            config = GuildConfigStore(db, clock)
            args.priced = args.bot_budget != "0" or args.guild_budget != "0"
            await fill_history(db, args.history, args.users, rng, priced=args.priced)
            for guild in range(GUILD, GUILD + args.guilds):
                for i in range(args.terms):
                    await config.add_blocked_term(guild, f"blocked{i}")
                await config.set_allowed_channels(guild, [CHANNEL])
                if args.guild_budget != "0":
                    micros = int(Decimal(args.guild_budget) * 1_000_000)
                    await config.set_budget(guild, "monthly", micros)
            # BOT_DAILY_LIMIT and budgets only when asked, so this file also runs against
            # older code.
            bot_daily: dict[str, object] = (
                {"bot_daily_limit": args.bot_daily} if args.bot_daily else {}
            )
            if args.bot_budget != "0":
                bot_daily["bot_monthly_budget"] = Decimal(args.bot_budget)
            admission = Admission(
                store=JobStore(db, clock),
                config=config,
                # Limits high enough that most requests pass every check (so every query runs);
                # a guild cap makes the server-wide sum run too.
                defaults=DefaultLimits(
                    user_daily_limit=args.daily,
                    guild_daily_limit=10_000_000,
                    user_cooldown_seconds=args.cooldown,
                    user_max_active_jobs=100_000,
                    **bot_daily,  # type: ignore[arg-type]
                ),
                clock=clock,
            )
            # Warm up: page cache, compiled terms, prepared statements.
            for _ in range(50):
                user = 1_000 + rng.randrange(args.users)
                await admission.admit(
                    new_job(rng, user, priced=args.priced), RequestContext(user, GUILD, CHANNEL)
                )
            print(
                f"{args.history} past jobs, {args.terms} blocked terms, {args.users} users, "
                f"{args.guilds} servers, BOT_DAILY_LIMIT {args.bot_daily}, "
                f"BOT_MONTHLY_BUDGET {args.bot_budget}, server budget {args.guild_budget}, "
                f"{args.admits} admits per level, {db.dialect} {args.url or path}"
            )
            print(
                f"{'concurrency':>11} {'admits/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
                f" {'accepted':>9}  refused"
            )
            for level in args.concurrency:
                print(await run_level(admission, args, level, rng))
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
