"""Benchmark: the scheduler's polling against a naive 1-second poller, on the fake CometAPI.

    .venv/bin/python -m bench.bench_scheduler [--count 50] [--durations 1,3,8] [--jitter 0.1]
        [--concurrency 8] [--users 10] [--speed 1]

Each run sends the same predictions (each duration is its own model, so the scheduler learns
one estimate per model) through a fake CometAPI on 127.0.0.1:

- "scheduler, cold": a fresh database, so nothing is known about any model at first;
- "scheduler, warm": the scheduler restarted on that same database, so it starts with the
  durations it learned (as the bot does after a restart);
- "naive 1 s poller": create, then sleep one second and ask again, one loop per job.

For each it reports:

- polls per prediction (status queries the fake received, divided by the predictions);
- the delivery overhead: from the moment the prediction finished on the fake (its
  `finished_at`) to the delivery callback (p50, p99, max), which includes the poll delay, the
  download and the database writes.

`--speed N` runs time N times faster (durations, intervals and the reported overheads are all
in job seconds); the default is real time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.cometapi import DownloadedImage, PredictionClient
from bot.jobs import DeliveryReceipt, Job, JobEvent, NewJob
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.storage import open_database
from bot.storage.jobs import JobStore
from tests.fakes.cometapi import FakeCometAPI, FakePrediction


class SpeedClock:
    """Time running `factor` times faster than real time (factor 1: the system clock)."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def monotonic(self) -> float:
        return self._mono0 + (time.monotonic() - self._mono0) * self.factor

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0) * self.factor

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)


class JitteryFake(FakeCometAPI):
    """The fake, with each prediction's duration varied by up to ±jitter (seeded)."""

    def __init__(self, *, jitter: float, rng: random.Random, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jitter = jitter
        self._rng = rng

    def _new_prediction(self, model_id: str, model: Any, inputs: dict[str, Any]) -> FakePrediction:
        pred = super()._new_prediction(model_id, model, inputs)
        span = pred.finish_at - pred.start_at
        pred.finish_at = pred.start_at + span * (1 + self._rng.uniform(-self._jitter, self._jitter))
        return pred


@dataclass
class RunResult:
    name: str
    predictions: int
    polls: int
    overheads: list[float]
    wall: float

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.overheads)
        p50 = statistics.median(ms)
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return (
            f"{self.name:<20} {self.polls / self.predictions:>10.2f} {p50:>10.0f} ms"
            f" {p99:>8.0f} ms {ms[-1]:>8.0f} ms {self.wall:>8.1f} s"
        )


class TimingPresenter:
    def __init__(self, clock: SpeedClock) -> None:
        self.clock = clock
        self.delivered_at: dict[int, float] = {}

    async def progress(self, job: Job, event: JobEvent) -> None:
        return None

    async def deliver(self, job: Job, images: Sequence[DownloadedImage]) -> DeliveryReceipt:
        self.delivered_at[job.id] = self.clock.monotonic()
        return DeliveryReceipt(message_id=job.id, attachments=[], method="token")

    async def finish(self, job: Job) -> None:
        return None


def plan(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(user id, model) per prediction; one model per duration."""
    models = [f"bench/d{i}" for i in range(len(args.durations))]
    return [(1 + i % args.users, models[i % len(models)]) for i in range(args.count)]


async def make_fake(args: argparse.Namespace, clock: SpeedClock) -> FakeCometAPI:
    fake = JitteryFake(
        jitter=args.jitter,
        rng=random.Random(args.seed),
        duration=1.0,
        start_delay=args.start_delay,
        clock=clock.monotonic,
    )
    for i, duration in enumerate(args.durations):
        fake.set_model_behaviour(f"bench/d{i}", duration=duration)
    await fake.start()
    return fake


async def run_scheduler(args: argparse.Namespace, db_path: Path, name: str) -> RunResult:
    """One process's life: a scheduler on `db_path` (it learns from the jobs already there)."""
    clock = SpeedClock(args.speed)
    fake = await make_fake(args, clock)
    presenter = TimingPresenter(clock)
    db = await open_database(f"sqlite:///{db_path}")
    try:
        store = JobStore(db, clock)
        async with aiohttp.ClientSession() as session:
            client = PredictionClient(
                session, base_url=fake.base_url, api_key=fake.api_key, sleep=clock.sleep
            )
            scheduler = JobScheduler(
                store=store,
                client=client,
                presenter=presenter,
                config=SchedulerConfig(max_concurrent=args.concurrency, job_timeout=600),
                clock=clock,
            )
            await scheduler.start()
            started = time.monotonic()
            jobs = []
            for n, (user_id, model) in enumerate(plan(args)):
                job = await store.insert(
                    NewJob(
                        kind="imagine",
                        user_id=user_id,
                        guild_id=1,
                        channel_id=1,
                        model=model,
                        prompt=f"bench {n}",
                        input={"prompt": f"bench {n}"},
                        image_count=1,
                    )
                )
                jobs.append(job)
                await scheduler.enqueue(job)
            await scheduler.wait_idle()
            wall = time.monotonic() - started
            await scheduler.stop()
        overheads = []
        for job in jobs:
            done = await store.get(job.id)
            assert done is not None and done.prediction_id is not None, done
            overheads.append(presenter.delivered_at[job.id] - fake.finished_at(done.prediction_id))
        return RunResult(name, len(jobs), len(fake.requests_for("get")), overheads, wall)
    finally:
        await db.close()
        await fake.close()


async def run_naive(args: argparse.Namespace) -> RunResult:
    """What most bots do: create, then sleep one second and ask again, one loop per job."""
    clock = SpeedClock(args.speed)
    fake = await make_fake(args, clock)
    overheads: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            client = PredictionClient(
                session, base_url=fake.base_url, api_key=fake.api_key, sleep=clock.sleep
            )
            slots = asyncio.Semaphore(args.concurrency)

            async def one(n: int, model: str) -> None:
                async with slots:
                    pred = await client.create(model, {"prompt": f"bench {n}"})
                    while not pred.is_terminal:
                        await clock.sleep(1.0)
                        pred = await client.get(pred.id, timeout=30)
                    await asyncio.gather(*(client.download(url) for url in pred.output))
                    overheads.append(clock.monotonic() - fake.finished_at(pred.id))

            started = time.monotonic()
            await asyncio.gather(*(one(n, model) for n, (_, model) in enumerate(plan(args))))
            wall = time.monotonic() - started
        return RunResult(
            "naive 1 s poller", args.count, len(fake.requests_for("get")), overheads, wall
        )
    finally:
        await fake.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=50, help="predictions per run (50)")
    parser.add_argument(
        "--durations",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[1.0, 3.0, 8.0],
        help="prediction durations in seconds, one model each (1,3,8)",
    )
    parser.add_argument("--jitter", type=float, default=0.1, help="±fraction per prediction")
    parser.add_argument("--start-delay", type=float, default=0.3, help="'starting' phase, s")
    parser.add_argument("--concurrency", type=int, default=8, help="predictions in flight (8)")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--speed", type=float, default=1.0, help="time runs this much faster")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"{args.count} predictions, durations {args.durations} s (±{args.jitter:.0%}), "
        f"{args.concurrency} in flight, speed x{args.speed:g}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        results = [
            await run_scheduler(args, db_path, "scheduler, cold"),
            await run_scheduler(args, db_path, "scheduler, warm"),
        ]
    results.append(await run_naive(args))
    print(f"{'':<20} {'polls/pred':>10} {'overhead p50':>13} {'p99':>11} {'max':>11} {'wall':>10}")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    asyncio.run(main())
