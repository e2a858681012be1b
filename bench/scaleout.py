"""Benchmark: throughput of the real bot as one process and as two processes on one database.

    .venv/bin/python -m bench.scaleout [--jobs 60] [--cap 8] [--duration 2] [--jitter 0.2]
        [--setups sqlite-1,postgresql-1,postgresql-2]

Each setup starts a fresh fake Discord and fake CometAPI in this process (the same fakes as
`bench/e2e.py`), a fresh database (a SQLite file, or a throwaway PostgreSQL database where
TEST_POSTGRES_URL points), and the bot as 1 or 2 `python -m bot` processes, each running its
own shard (`SHARD_COUNT`, `SHARD_IDS`) with MAX_CONCURRENT_JOBS=`--cap` for all of them
together. One server sits on each shard; `--jobs` members (spread over the servers) run
`/imagine` at the same moment, and the wire is watched:

- throughput: jobs delivered per second from the burst to the last result, against the
  ceiling the provider cap allows (cap / mean prediction time);
- delivery overhead: prediction finished on the API → its result uploaded to Discord (p50,
  p99): the polling, the slot hand-over between processes, the download and the upload;
- the most predictions the API ran at once (must never pass the cap);
- CPU seconds per job, per process and in all (utime + stime from /proc while the burst ran);
- errors: jobs without exactly one result upload, predictions created twice.

The ceiling is the provider cap: with predictions of a few seconds, one process is far from
CPU-bound, so two processes are expected to match one, not beat it; what they buy is that a
process (or a machine) can die without losing a job, and that the per-process work (CPU,
upload bandwidth) is split. The benchmark shows whether sharing the cap through the database
costs throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.e2e import DeferredValidation, JitteryCometAPI, cpu_seconds, percentile
from tests.backends import create_postgres_database, drop_postgres_database, pg_available
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.records import FakeInteraction, GatewayEvent

ROOT = Path(__file__).resolve().parents[1]
SETUPS = ("sqlite-1", "postgresql-1", "postgresql-2")


@dataclass
class ScaleResult:
    setup: str
    jobs: int
    cap: int
    mean_duration: float  # seconds of provider time per prediction (start to finish)
    wall: float = 0.0  # burst → last result uploaded
    overheads: list[float] = field(default_factory=list)
    peak_running: int = 0
    cpu_seconds: list[float] = field(default_factory=list)  # per process
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.jobs / self.wall if self.wall else 0.0

    @property
    def ceiling(self) -> float:
        return self.cap / self.mean_duration if self.mean_duration else 0.0

    def row(self) -> str:
        p50 = percentile(self.overheads, 50)
        p99 = percentile(self.overheads, 99)
        cpu = " + ".join(f"{c / self.jobs * 1000:.0f}" for c in self.cpu_seconds)
        return (
            f"| {self.setup} | {self.jobs} | {self.wall:.1f} | {self.throughput:.2f} "
            f"| {self.throughput / self.ceiling:.0%} | {_ms(p50)} | {_ms(p99)} "
            f"| {self.peak_running} | {cpu} | {len(self.errors)} |"
        )


HEADER = (
    "| setup | jobs | wall s | jobs/s | of ceiling | overhead p50 ms | p99 ms "
    "| peak running | CPU ms/job per process | errors |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _ready_on(shard: int, shards: int) -> Callable[[GatewayEvent], bool]:
    def ready(event: GatewayEvent) -> bool:
        return event.kind == "READY" and (shards == 1 or event.shard == (shard, shards))

    return ready


async def _start(
    fake: FakeDiscord,
    api: JitteryCometAPI,
    url: str,
    shard: int,
    shards: int,
    dev_guild: int,
    cap: int,
    folder: Path,
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    env.update(fake.env())
    env.update(
        {
            "COMETAPI_KEY": api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
            "DATABASE_URL": url,
            "MAX_CONCURRENT_JOBS": str(cap),
            "USER_MAX_ACTIVE_JOBS": "2",  # one job per member here
            "USER_DAILY_LIMIT": "0",
            "DEV_GUILD_ID": str(dev_guild),
            "PYTHONPATH": str(ROOT),
            "BOT_ENV_FILE": str(folder / "missing.env"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if shards > 1:
        env.update({"SHARD_COUNT": str(shards), "SHARD_IDS": str(shard)})
    with (folder / f"shard{shard}.log").open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=folder, env=env, stdout=out, stderr=out
        )


async def run_setup(
    setup: str,
    *,
    jobs: int,
    cap: int,
    duration: float,
    jitter: float,
    folder: Path,
    settle: float = 1.0,
) -> ScaleResult:
    """One setup ("sqlite-1", "postgresql-2", ...): start it, burst, measure, stop."""
    backend, count = setup.rsplit("-", 1)
    shards = int(count)
    pg_name: str | None = None
    if backend == "postgresql":
        url, pg_name = await create_postgres_database()
    else:
        url = f"sqlite:///{folder / 'bot.db'}"
    api = JitteryCometAPI(duration=duration, jitter=jitter, seed=11)
    fake = FakeDiscord()
    await fake.start()
    await api.start()
    validation = DeferredValidation(fake)
    processes: list[asyncio.subprocess.Process] = []
    result = ScaleResult(setup, jobs, cap, duration + api.start_delay)
    try:
        guilds = [fake.add_guild(f"shard {i}", on_shard=(i, shards)) for i in range(shards)]
        processes = [
            await _start(fake, api, url, i, shards, guilds[0].id, cap, folder)
            for i in range(shards)
        ]
        for i in range(shards):
            await fake.wait_for_gateway(_ready_on(i, shards), timeout=60)
        await fake.wait_for(lambda r: r.method == "PUT" and "/commands" in r.path, timeout=60)
        for guild in guilds[1:]:
            fake.preload_commands(fake.commands_synced[guilds[0].id], guild_id=guild.id)
        members = [fake.add_user(f"member{n}", guild=guilds[n % shards]) for n in range(jobs)]
        await asyncio.sleep(settle)  # let start-up work settle before the clock starts

        cpu_before = [cpu_seconds(p.pid) for p in processes]
        burst_at = fake.clock()
        interactions: list[FakeInteraction] = await asyncio.gather(
            *(
                fake.slash(
                    "imagine",
                    prompt=f"bench {n}",
                    user=member,
                    channel=next(iter(guilds[n % shards].channels.values())),
                )
                for n, member in enumerate(members)
            )
        )
        tokens = {i.token for i in interactions}
        deadline = time.monotonic() + 60 + jobs * (duration * 2) / cap
        while time.monotonic() < deadline:
            delivered = {r.token for r in fake.requests if r.files and r.token in tokens}
            if len(delivered) == jobs:
                break
            await asyncio.sleep(0.05)
        result.cpu_seconds = [
            cpu_seconds(p.pid) - b for p, b in zip(processes, cpu_before, strict=True)
        ]

        uploads = [r for r in fake.requests if r.files and r.token in tokens]
        result.wall = max((r.time for r in uploads), default=burst_at) - burst_at
        finished = {p.input.get("prompt"): p.finished_at for p in api.predictions.values()}
        prompt_of = {i.token: i.data["options"][0]["value"] for i in interactions}
        for r in uploads:
            at = finished.get(prompt_of[r.token or ""])
            if at is not None:
                result.overheads.append(r.time - at)
        points = []
        for pred in api.predictions.values():
            points += [(pred.created, 1), (pred.finished_at, -1)]
        running = 0
        for _, delta in sorted(points):
            running += delta
            result.peak_running = max(result.peak_running, running)

        per_token = Counter(r.token for r in uploads)
        missing = jobs - len(per_token)
        if missing:
            result.errors.append(f"{missing} job(s) without a result")
        repeated = sum(1 for c in per_token.values() if c > 1)
        if repeated:
            result.errors.append(f"{repeated} job(s) uploaded more than once")
        creates = Counter(r.json["input"]["prompt"] for r in api.requests_for("create"))
        if any(c > 1 for c in creates.values()):
            result.errors.append("a prediction was created twice")
        if result.peak_running > cap:
            result.errors.append(f"{result.peak_running} predictions ran at once (cap {cap})")
        validation.finish()
        result.errors += [f"spec: {message}" for _, message in fake.violations()[:3]]
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 30)
            if process.returncode is None:
                process.kill()
                await process.wait()
        await api.close()
        await fake.close()
        if pg_name is not None:
            await drop_postgres_database(pg_name)
    for process in processes:
        if process.returncode != 0:
            result.errors.append(f"a process exited with {process.returncode}")
    return result


async def run(
    setups: list[str], *, jobs: int, cap: int, duration: float, jitter: float
) -> list[ScaleResult]:
    results = []
    for setup in setups:
        if setup.startswith("postgresql") and not pg_available():
            print(f"{setup}: skipped (PostgreSQL is not running; see TEST_POSTGRES_URL)")
            continue
        with tempfile.TemporaryDirectory(prefix="scaleout-") as folder:
            result = await run_setup(
                setup, jobs=jobs, cap=cap, duration=duration, jitter=jitter, folder=Path(folder)
            )
        results.append(result)
        print(f"{setup}: {result.throughput:.2f} jobs/s, errors: {result.errors or 'none'}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--cap", type=int, default=8, help="MAX_CONCURRENT_JOBS, in all")
    parser.add_argument("--duration", type=float, default=2.0, help="prediction seconds")
    parser.add_argument("--jitter", type=float, default=0.2)
    parser.add_argument("--setups", default=",".join(SETUPS))
    args = parser.parse_args(argv)
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    for setup in setups:
        if setup not in SETUPS:
            parser.error(f"unknown setup {setup!r}; choose from {', '.join(SETUPS)}")
    results = asyncio.run(
        run(setups, jobs=args.jobs, cap=args.cap, duration=args.duration, jitter=args.jitter)
    )
    if results:
        ceiling = results[0].ceiling
        print(
            f"\n{args.jobs} jobs at once, cap {args.cap}, predictions of "
            f"{statistics.fmean([r.mean_duration for r in results]):.2f} s ± "
            f"{args.jitter:.0%}: ceiling {ceiling:.2f} jobs/s\n"
        )
        print(HEADER)
        for result in results:
            print(result.row())
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
