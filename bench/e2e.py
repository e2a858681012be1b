"""End-to-end benchmark: the real bot process, and a naive bot, under N simultaneous /imagine.

One run (`run_scenario`) starts a fresh fake Discord and fake CometAPI in this process, starts
the bot as a subprocess pointed at them (`python -m bot`, or `python -m bench.naive_bot`),
waits for its commands and its gateway session, then has N different members run `/imagine`
at the same moment and watches the wire:

- acknowledgement latency: interaction sent on the gateway → first callback received
  (`FakeInteraction.callback_latency`);
- delivery overhead: prediction finished on the API (`FakeCometAPI.finished_at`) → the edit
  that carries the files arrives at Discord, on the same monotonic clock;
- API requests per prediction: creates + status queries in the fake API's log (downloads
  are counted apart: every bot downloads each image once);
- Discord requests per job, CPU seconds per job (utime + stime of the process while the
  workload ran, from /proc/<pid>/stat), peak RSS (VmHWM), and the event loop's worst stall
  (the `loop-lag max=XXms` line the process logs when it stops);
- errors: jobs without a delivered result, jobs the bot's database did not end `succeeded`,
  requests Discord's spec would refuse, routes the fakes do not know, tracebacks in the log.

Each prediction's duration varies by up to ±`jitter` (seeded), as real ones do; with equal
durations a 1-second poller would always find the result at the same phase.

Two variants of a run (Scenario fields):

- `cold`: no warm-up jobs before the burst (the database is fresh in every run), so the
  bot meets its first burst knowing nothing of the model's durations and with nothing
  loaded lazily yet; the naive bot runs cold too, so the ratio compares like with like.
- `mix`: member i asks for `MIX[i % 3]` (flux-schnell 1-2 s, flux-1.1-pro 4-8 s,
  flux-1.1-pro-ultra 10-20 s, uniform and seeded) instead of one model at `duration` ±
  `jitter`; the warm-up jobs cycle over the same models, so a warm bot knows each one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import re
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.fakes.cometapi import FakeCometAPI, FakePrediction
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.records import DiscordError, FakeInteraction, RecordedRequest
from tests.fakes.discord.spec import OpenAPISpec, load_spec

ROOT = Path(__file__).resolve().parents[1]
BotKind = Literal["bot", "naive"]
_LOOP_LAG = re.compile(r"loop-lag max=(\d+(?:\.\d+)?)ms")

# The realistic mix: (model id, shortest, longest prediction in seconds), drawn uniformly.
MIX: tuple[tuple[str, float, float], ...] = (
    ("black-forest-labs/flux-schnell", 1.0, 2.0),
    ("black-forest-labs/flux-1.1-pro", 4.0, 8.0),
    ("black-forest-labs/flux-1.1-pro-ultra", 10.0, 20.0),
)


def kind_suffix(cold: bool, mix: bool) -> str:
    """The label suffix of a kind of run: `, cold`, `, mix` (the report matches rows by it)."""
    return (", cold" if cold else "") + (", mix" if mix else "")


@dataclass(frozen=True)
class Scenario:
    bot: BotKind
    n: int
    duration: float = 3.0  # seconds of processing per prediction (before jitter)
    jitter: float = 0.2  # each duration is multiplied by 1 ± up to this
    prefer_wait: int = 0  # COMETAPI_PREFER_WAIT for the real bot (0: plain polling)
    seed: int = 10
    cold: bool = False  # no warm-up jobs before the burst, whatever RunOptions.warmup says
    mix: bool = False  # member i asks for MIX[i % 3] with its durations, not one model
    mix_scale: float = 1.0  # the mix's durations times this (a smoke test runs them faster)

    @property
    def label(self) -> str:
        """`naive bot` or `bot`, then `, Prefer: wait=S`, `, cold`, `, mix` as they apply."""
        if self.bot == "naive":
            label = "naive bot"
        else:
            label = f"bot, Prefer: wait={self.prefer_wait}" if self.prefer_wait else "bot"
        return label + kind_suffix(self.cold, self.mix)

    def model_for(self, index: int) -> str | None:
        """The model member `index` asks for: `MIX[index % 3]` in a mix run, else the default."""
        return MIX[index % len(MIX)][0] if self.mix else None

    @property
    def durations(self) -> dict[str, tuple[float, float]] | None:
        """Per model, the range its predictions' durations are drawn from (mix runs only)."""
        if not self.mix:
            return None
        return {m: (lo * self.mix_scale, hi * self.mix_scale) for m, lo, hi in MIX}

    @property
    def longest(self) -> float:
        """The longest any prediction of this run can take, in seconds (for timeouts)."""
        if self.durations:
            return max(hi for _, hi in self.durations.values())
        return self.duration * (1 + self.jitter)

    def warmup(self, options: RunOptions) -> int:
        """Warm-up jobs before the burst: none in a cold run, else `options.warmup`."""
        return 0 if self.cold else max(0, options.warmup)


@dataclass
class RunOptions:
    settle: float = 1.0  # seconds of quiet after READY and after the warm-up
    warmup: int = 4  # jobs served before the burst (not measured); 0 for a cold bot
    start_timeout: float = 60.0
    finish_margin: float = 60.0  # after the longest prediction, before giving up on results
    profile_dir: Path | None = None  # run the process under cProfile, one .prof per run
    keep_dir: Path | None = None  # keep the database and the log here


@dataclass
class RunResult:
    scenario: Scenario
    acks: list[float] = field(default_factory=list)  # seconds, one per acknowledged command
    overheads: list[float] = field(default_factory=list)  # seconds, one per delivered result
    predictions: int = 0
    creates: int = 0
    polls: int = 0
    downloads: int = 0
    discord_requests: int = 0  # the bot's REST calls during the workload
    cpu_seconds: float = 0.0  # during the workload only
    peak_rss_kb: int = 0
    loop_lag_ms: float | None = None
    wall: float = 0.0  # burst → last result
    failed_jobs: int = 0
    unacknowledged: int = 0
    missed_ack_deadline: int = 0  # first callback after Discord's 3 seconds
    violations: list[str] = field(default_factory=list)
    unknown_routes: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    exit_code: int | None = None
    job_statuses: dict[str, int] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)  # the burst's predictions per model

    @property
    def errors(self) -> list[str]:
        """Everything that must be empty for a run to count."""
        found = []
        if self.failed_jobs:
            found.append(f"{self.failed_jobs} job(s) without a delivered result")
        if self.unacknowledged:
            found.append(f"{self.unacknowledged} command(s) never acknowledged")
        if self.missed_ack_deadline:
            found.append(f"{self.missed_ack_deadline} acknowledgement(s) after 3 s")
        found += [f"spec violation: {v}" for v in self.violations[:5]]
        found += [f"unknown route: {r}" for r in self.unknown_routes[:5]]
        found += [f"log: {line}" for line in self.log_errors[:5]]
        if self.exit_code not in (0, None):
            found.append(f"exit code {self.exit_code}")
        if self.loop_lag_ms is None:
            found.append("no loop-lag summary in the log")
        return found

    def figures(self) -> dict[str, float | int | None]:
        """The published figures (milliseconds, counts, megabytes)."""
        n = self.scenario.n
        return {
            "ack_p50_ms": _ms(percentile(self.acks, 50)),
            "ack_p99_ms": _ms(percentile(self.acks, 99)),
            "ack_max_ms": _ms(max(self.acks) if self.acks else None),
            "delivery_p50_ms": _ms(percentile(self.overheads, 50)),
            "delivery_p99_ms": _ms(percentile(self.overheads, 99)),
            "api_requests_per_prediction": (
                (self.creates + self.polls) / self.predictions if self.predictions else None
            ),
            "polls_per_prediction": self.polls / self.predictions if self.predictions else None,
            "discord_requests_per_job": self.discord_requests / n if n else None,
            "cpu_ms_per_job": self.cpu_seconds * 1000 / n if n else None,
            "peak_rss_mb": self.peak_rss_kb / 1024 if self.peak_rss_kb else None,
            "loop_lag_max_ms": self.loop_lag_ms,
            "wall_s": self.wall,
            "errors": len(self.errors),
        }


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (p99 of 50 values is the largest but one... or the largest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


# -- the fakes ------------------------------------------------------------------------------


class JitteryCometAPI(FakeCometAPI):
    """The fake API with each prediction's processing time varied by up to ±jitter (seeded).

    With `durations` (model id → (shortest, longest) seconds), a prediction of a model in
    the table takes a duration drawn uniformly from its range instead (same seeded draws).
    """

    def __init__(
        self,
        *,
        jitter: float,
        seed: int,
        durations: Mapping[str, tuple[float, float]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._jitter = jitter
        self._ranges = dict(durations or {})
        self._durations = random.Random(seed)
        self._images: dict[tuple[Any, ...], bytes] = {}

    def _new_prediction(self, model_id: str, model: Any, inputs: dict[str, Any]) -> FakePrediction:
        pred = super()._new_prediction(model_id, model, inputs)
        if model_id in self._ranges:
            low, high = self._ranges[model_id]
            pred.finish_at = pred.start_at + self._durations.uniform(low, high)
            return pred
        span = pred.finish_at - pred.start_at
        factor = 1 + self._durations.uniform(-self._jitter, self._jitter)
        pred.finish_at = pred.start_at + span * factor
        return pred

    def _make_file(self, pred: FakePrediction, index: int) -> bytes:
        # One image per format and shape, drawn once: with 1000 predictions, encoding each
        # with Pillow would load this process (and so every timing) for nothing.
        key = (pred.output_format, pred.input.get("aspect_ratio"), pred.behaviour.output_kind)
        if key not in self._images:
            self._images[key] = super()._make_file(pred, index)
        return self._images[key]


class DeferredValidation:
    """Check the bot's requests against Discord's spec after the run instead of during it.

    The fake validates every request with jsonschema, about 7 ms for a message with an embed
    and buttons. In a burst those checks queue up in this process's event loop and delay the
    arrival times of every later request, so a bot that sends richer messages would be timed
    on the validator's speed. Deferred, the checks still run on every request and a violation
    still fails the run; only the answer the fake gives (200 instead of 400) differs, and a
    run with a violation does not count anyway.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self._check = fake.rest._validate
        self._pending: list[tuple[RecordedRequest, Any]] = []
        fake.rest._validate = self._defer  # type: ignore[method-assign]

    def _defer(self, record: RecordedRequest, route: Any) -> None:
        self._pending.append((record, route))

    def finish(self) -> None:
        pending, self._pending = self._pending, []
        for record, route in pending:
            with contextlib.suppress(DiscordError):  # the violation is kept on the record
                self._check(record, route)


# -- the process ----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a live process: its threads' on-CPU nanoseconds, else /proc/<pid>/stat.

    /proc/<pid>/stat counts in clock ticks (10 ms), too coarse for one job; the threads'
    schedstat counts nanoseconds (the bot's threads live as long as it does).
    """
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as handle:
                total += int(handle.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        # The command name may hold spaces; the fields after its closing parenthesis do not.
        fields = handle.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def peak_rss_kb(pid: int) -> int:
    """VmHWM: the process's peak resident set size, in kB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def bot_environment(
    scenario: Scenario, fake: FakeDiscord, api: FakeCometAPI, workdir: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    env.update(fake.env())
    env.update(
        {
            "COMETAPI_KEY": api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "DEV_GUILD_ID": str(fake.guild.id),
            # Every prediction at once: the benchmark measures the bot, not the cap.
            "MAX_CONCURRENT_JOBS": str(max(1, scenario.n)),
            "USER_MAX_ACTIVE_JOBS": "2",  # the default; each command has its own member
            "USER_DAILY_LIMIT": "0",
            "COMETAPI_PREFER_WAIT": str(scenario.prefer_wait),
            "LOG_LEVEL": "INFO",
            "BOT_ENV_FILE": str(workdir / "missing.env"),  # a developer's .env stays out
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def start_process(
    scenario: Scenario, env: dict[str, str], workdir: Path, log_file: Any, options: RunOptions
) -> asyncio.subprocess.Process:
    module = "bot" if scenario.bot == "bot" else "bench.naive_bot"
    command = [sys.executable]
    if options.profile_dir is not None:
        options.profile_dir.mkdir(parents=True, exist_ok=True)
        name = scenario.label.replace(" ", "").replace(",", "-").replace(":", "")
        target = options.profile_dir / f"{name}-n{scenario.n}.prof"
        command += ["-m", "cProfile", "-o", str(target)]
    command += ["-m", module]
    # The log goes to a file, never a pipe: a pipe nobody reads would block the bot's loop.
    return await asyncio.create_subprocess_exec(
        *command, cwd=workdir, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT
    )


async def stop_process(process: asyncio.subprocess.Process, timeout: float = 30) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return -9


# -- one run --------------------------------------------------------------------------------


async def run_scenario(
    scenario: Scenario,
    *,
    options: RunOptions | None = None,
    spec: OpenAPISpec | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Start fresh fakes and the bot process, run the burst, stop everything, measure."""
    options = options or RunOptions()
    say = on_progress or (lambda _message: None)
    result = RunResult(scenario)
    with contextlib.ExitStack() as stack:
        if options.keep_dir is not None:
            workdir = options.keep_dir / f"{scenario.label.replace(' ', '_')}-n{scenario.n}"
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        log_path = workdir / "process.log"
        api = JitteryCometAPI(
            jitter=scenario.jitter,
            seed=scenario.seed,
            duration=scenario.duration,
            durations=scenario.durations,
            start_delay=0.05,
            honour_prefer_wait=True,
        )
        fake = FakeDiscord(spec=spec or load_spec())
        validation = DeferredValidation(fake)
        await api.start()
        await fake.start()
        process: asyncio.subprocess.Process | None = None
        try:
            members = [fake.add_user(f"bench{i:04d}") for i in range(scenario.n)]
            with log_path.open("wb") as log_file:
                process = await start_process(
                    scenario,
                    bot_environment(scenario, fake, api, workdir),
                    workdir,
                    log_file,
                    options,
                )
            await _wait_ready(fake, process, options.start_timeout, log_path)
            await asyncio.sleep(options.settle)
            warmed = await _warm_up(scenario, fake, process, options)
            if warmed < scenario.warmup(options):
                result.log_errors.append(
                    f"only {warmed} of {scenario.warmup(options)} warm-up jobs delivered"
                )
            say(f"{scenario.label}: N={scenario.n} ...")
            await _burst(
                scenario, fake, api, process, members, options, result, workdir, warmed=warmed
            )
            validation.finish()
            result.violations = [f"{r.method} {r.path[:60]}: {v}" for r, v in fake.violations()]
        finally:
            if process is not None:
                result.exit_code = await stop_process(process)
            await fake.close()
            await api.close()
        _read_log(_read_text(log_path), result)
        if scenario.bot == "bot":
            result.job_statuses = _job_statuses(workdir / "bot.db")
            not_done = sum(c for s, c in result.job_statuses.items() if s != "succeeded")
            result.failed_jobs = max(result.failed_jobs, not_done)
    return result


async def _wait_ready(
    fake: FakeDiscord, process: asyncio.subprocess.Process, timeout: float, log_path: Path
) -> None:
    """The commands are registered and the gateway session is up (or the process died)."""
    ready = asyncio.ensure_future(
        asyncio.gather(
            fake.wait_for(
                lambda r: r.method == "PUT" and r.path.endswith("/commands"), timeout=timeout
            ),
            fake.wait_for_gateway(lambda e: e.kind == "READY", timeout=timeout),
        )
    )
    died = asyncio.ensure_future(process.wait())
    either: set[asyncio.Future[Any]] = {ready, died}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await asyncio.gather(ready, return_exceptions=True)
        raise RuntimeError(
            f"the bot process exited ({process.returncode}) before it was ready:\n"
            + _read_text(log_path)[-3000:]
        )
    died.cancel()
    ready.result()


async def _commands(
    fake: FakeDiscord,
    prompts: Sequence[str],
    members: Sequence[Any],
    models: Sequence[str | None] | None = None,
) -> list[FakeInteraction]:
    """Every member runs `/imagine prompt [model]` at the same moment (no model: the default)."""
    chosen = list(models) if models is not None else [None] * len(prompts)
    return list(
        await asyncio.gather(
            *(
                fake.slash(
                    "imagine",
                    prompt=prompt,
                    user=member,
                    values=None if model is None else {"model": model},
                )
                for prompt, member, model in zip(prompts, members, chosen, strict=True)
            )
        )
    )


async def _results(
    fake: FakeDiscord,
    interactions: Sequence[FakeInteraction],
    process: asyncio.subprocess.Process,
    *,
    since: int,
    timeout: float,
) -> dict[str, RecordedRequest]:
    """The first successful edit with files for each interaction (by token), as they come."""
    loop = asyncio.get_running_loop()
    by_token = {i.token: i for i in interactions}
    delivered: dict[str, RecordedRequest] = {}
    seen: set[int] = set()
    deadline = loop.time() + timeout
    while len(delivered) < len(by_token) and loop.time() < deadline and process.returncode is None:
        for record in fake.requests[since:]:
            if id(record) in seen or not record.completed:
                continue
            seen.add(id(record))
            token = record.token
            if (
                token in by_token
                and token not in delivered
                and record.method == "PATCH"
                and record.files
                and record.status == 200
            ):
                delivered[token] = record
        await asyncio.sleep(0.05)
    return delivered


async def _warm_up(
    scenario: Scenario,
    fake: FakeDiscord,
    process: asyncio.subprocess.Process,
    options: RunOptions,
) -> int:
    """A few jobs before the burst, as a bot that has been running has served; not measured.

    They load what loads lazily (image codecs, code paths) and give the real bot's scheduler
    the durations it learns for the model (each model of the mix, in turn, in a mix run),
    which any bot that ran for a while has. None in a cold run. Returns how many were
    delivered.
    """
    count = scenario.warmup(options)
    if count <= 0:
        return 0
    members = [fake.add_user(f"warmup{i}") for i in range(count)]
    prompts = [f"warm-up {i}: a quick sketch" for i in range(count)]
    since = len(fake.requests)
    models = [scenario.model_for(i) for i in range(count)]
    interactions = await _commands(fake, prompts, members, models)
    timeout = scenario.longest + options.finish_margin
    delivered = await _results(fake, interactions, process, since=since, timeout=timeout)
    await asyncio.sleep(options.settle)
    return len(delivered)


async def _burst(
    scenario: Scenario,
    fake: FakeDiscord,
    api: FakeCometAPI,
    process: asyncio.subprocess.Process,
    members: Sequence[Any],
    options: RunOptions,
    result: RunResult,
    workdir: Path,
    *,
    warmed: int = 0,
) -> None:
    n = scenario.n
    before_cpu = cpu_seconds(process.pid)
    first_request = len(fake.requests)
    first_api_request = len(api.requests)
    prompts = [f"benchmark {i}: a lighthouse at dusk, oil painting" for i in range(n)]
    models = [scenario.model_for(i) for i in range(n)]
    started = time.monotonic()
    interactions = await _commands(fake, prompts, members, models)

    acks = await asyncio.gather(
        *(i.wait_callback(timeout=30) for i in interactions), return_exceptions=True
    )
    result.unacknowledged = sum(1 for a in acks if isinstance(a, BaseException))
    result.acks = [i.callback_latency for i in interactions if i.callback_latency is not None]
    result.missed_ack_deadline = sum(1 for i in interactions if i.missed_deadline)

    longest = scenario.longest + 0.05  # the fake API's start delay
    delivered = await _results(
        fake,
        interactions,
        process,
        since=first_request,
        timeout=longest + options.finish_margin + n / 50,
    )
    last = max((r.time for r in delivered.values()), default=time.monotonic())
    result.wall = last - started
    if scenario.bot == "bot":
        # The bot writes `succeeded` just after Discord answers: let those writes land so
        # their CPU is counted and the database says what happened.
        await _wait_jobs_settled(workdir / "bot.db", n + warmed, timeout=10)
    else:
        await asyncio.sleep(0.2)
    result.cpu_seconds = cpu_seconds(process.pid) - before_cpu
    result.peak_rss_kb = peak_rss_kb(process.pid)
    result.failed_jobs = n - len(delivered)

    measured = set(prompts)
    by_prompt = {
        p.input.get("prompt"): p
        for p in api.predictions.values()
        if p.input.get("prompt") in measured
    }
    for interaction, prompt in zip(interactions, prompts, strict=True):
        record = delivered.get(interaction.token)
        prediction = by_prompt.get(prompt)
        if record is not None and prediction is not None:
            result.overheads.append(record.time - api.finished_at(prediction.id))
    result.predictions = len(by_prompt)
    for prediction in by_prompt.values():
        result.models[prediction.model] = result.models.get(prediction.model, 0) + 1
    burst_requests = api.requests[first_api_request:]
    result.creates = sum(1 for r in burst_requests if r.route == "create")
    result.polls = sum(1 for r in burst_requests if r.route == "get")
    result.downloads = sum(1 for r in burst_requests if r.route == "files")
    result.discord_requests = len(fake.requests) - first_request
    result.unknown_routes = [f"{r.method} {r.path[:60]}" for r in fake.unhandled()] + [
        f"CometAPI {r.method} {r.path}" for r in api.requests_for("other")
    ]


async def _wait_jobs_settled(db_path: Path, n: int, timeout: float) -> None:
    """Until every job row is terminal (read-only; WAL lets us read while the bot writes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = _job_statuses(db_path)
        active = sum(
            c
            for s, c in statuses.items()
            if s not in ("succeeded", "failed", "canceled", "timed_out", "expired", "refused")
        )
        if sum(statuses.values()) >= n and not active:
            return
        await asyncio.sleep(0.05)


def _job_statuses(db_path: Path) -> dict[str, int]:
    if not db_path.exists():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
    except sqlite3.Error:
        return {}
    return {str(status): int(count) for status, count in rows}


def _read_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _read_log(text: str, result: RunResult) -> None:
    lags = _LOOP_LAG.findall(text)
    result.loop_lag_ms = float(lags[-1]) if lags else None
    for line in text.splitlines():
        if "Traceback" in line or " ERROR " in line or " CRITICAL " in line:
            result.log_errors.append(line.strip()[:200])


def summarize(values: Sequence[float]) -> str:
    """`p50/p99/max` in ms, for quick prints."""
    if not values:
        return "-"
    return "/".join(
        f"{v * 1000:.0f}"
        for v in (statistics.median(values), percentile(values, 99) or 0, max(values))
    )


__all__ = [
    "MIX",
    "JitteryCometAPI",
    "RunOptions",
    "RunResult",
    "Scenario",
    "cpu_seconds",
    "kind_suffix",
    "peak_rss_kb",
    "percentile",
    "run_scenario",
]
