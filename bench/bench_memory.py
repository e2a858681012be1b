"""Benchmark: peak memory when every output is an image at the pixel limit.

    .venv/bin/python -m bench.bench_memory [--jobs 8] [--outputs 4] [--megapixels 40]
        [--quality 95] [--upload-limit-mb 10] [--decode-slots 2]

A hostile (or merely generous) API can answer every prediction with images as large as the
bot accepts. This runs `--jobs` jobs of `--outputs` images each, all at once
(MAX_CONCURRENT_JOBS = jobs), through the real path: the scheduler, `PredictionClient.download`
(with its header check and decode) and the presenter's fitting under the upload limit
(`bot.imagefit.fit_all`, a re-encode when a file is over the limit), with the process's decode
slots (`bot.imagework`). The images are noisy JPEGs of `--megapixels` each, heavy enough to be
over the upload limit, so every one is decoded twice and re-encoded at least once.

The measured side runs as its own process (the fake CometAPI, which paints the image, stays in
this one), and reports its peak RSS (`ru_maxrss`), its RSS at rest before the burst, and the
wall time. `--decode-slots 32` shows what the two slots save, `--no-malloc-tuning` what the
fixed mmap threshold saves (`bot.imagework`). Target: under 1 GB for 8 x 4.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 1024
SCHNELL = "black-forest-labs/flux-schnell"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_memory")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--outputs", type=int, default=4, help="images per job (1-4)")
    parser.add_argument("--megapixels", type=float, default=40.0)
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality of the outputs")
    parser.add_argument("--upload-limit-mb", type=float, default=10.0)
    parser.add_argument("--decode-slots", type=int, default=None, help="default: the bot's")
    parser.add_argument(
        "--no-malloc-tuning", action="store_true", help="leave glibc's mmap threshold dynamic"
    )
    parser.add_argument("--child", metavar="BASE_URL", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_output(megapixels: float, quality: int) -> tuple[bytes, int]:
    """A photo-like JPEG of `megapixels`: smooth colour with grain; (bytes, side)."""
    from PIL import Image, ImageChops

    side = math.isqrt(int(megapixels * 1_000_000))
    base = Image.frombytes("RGB", (160, 160), os.urandom(160 * 160 * 3))
    smooth = base.resize((side, side), Image.Resampling.BILINEAR)
    grain = Image.effect_noise((side, side), 8).convert("RGB")
    picture = ImageChops.add(smooth, grain, scale=1.0, offset=-128)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue(), side


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def measured(args: argparse.Namespace) -> dict[str, Any]:
    """The bot's side, in the child process: the burst through the real download and fit."""
    import aiohttp

    from bot import imagework
    from bot.cometapi import PredictionClient
    from bot.imagefit import fit_all
    from bot.jobs import DeliveryReceipt, Job, JobEvent, NewJob
    from bot.scheduler import JobScheduler, SchedulerConfig
    from bot.storage import open_database
    from bot.storage.jobs import JobStore

    if args.decode_slots is not None:
        imagework.DECODE_SLOTS = args.decode_slots
    imagework.install_image_limits(tune_malloc=not args.no_malloc_tuning)
    limit = int(args.upload_limit_mb * 1024 * 1024)
    refit: list[int] = []

    class FittingPresenter:
        """The Discord presenter's image work without Discord: fit every image, report."""

        async def progress(self, job: Job, event: JobEvent) -> None:
            return None

        async def deliver(self, job: Job, images: Sequence[Any]) -> DeliveryReceipt:
            fitted = await fit_all(images, limit)
            refit.extend(1 for f in fitted if f.changed)
            return DeliveryReceipt(message_id=job.id, attachments=[], method="token")

        async def finish(self, job: Job) -> None:
            return None

    with tempfile.TemporaryDirectory() as tmp:
        db = await open_database(f"sqlite:///{tmp}/bench.db")
        store = JobStore(db)
        at_rest = rss_mb()
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            client = PredictionClient(session, base_url=args.child, api_key="bench-key")
            scheduler = JobScheduler(
                store=store,
                client=client,
                presenter=FittingPresenter(),
                config=SchedulerConfig(max_concurrent=args.jobs, job_timeout=600),
            )
            await scheduler.start()
            jobs = [
                await store.insert(
                    NewJob(
                        kind="imagine",
                        user_id=i,
                        guild_id=i,
                        channel_id=1,
                        model=SCHNELL,
                        prompt=f"job {i}",
                        input={"prompt": f"job {i}", "num_outputs": args.outputs},
                        image_count=args.outputs,
                    )
                )
                for i in range(1, args.jobs + 1)
            ]
            for job in jobs:
                await scheduler.enqueue(job)
            done = [await scheduler.wait_for_job(job.id) for job in jobs]
            await scheduler.stop()
        await db.close()
    return {
        "peak_rss_mb": peak_rss_mb(),
        "rest_rss_mb": at_rest,
        "seconds": time.monotonic() - started,
        "succeeded": sum(j.status.value == "succeeded" for j in done),
        "errors": sorted({f"{j.status.value}:{j.error_kind}" for j in done if j.error_kind}),
        "images": client.download_count,
        "refit": len(refit),
        "decode_slots": imagework.DECODE_SLOTS,
        "malloc": "default" if args.no_malloc_tuning else "tuned",
    }


async def serve_and_measure(args: argparse.Namespace) -> dict[str, Any]:
    """This side: the fake CometAPI serving the one big picture, and the child measured."""
    from tests.fakes.cometapi import FakeCometAPI

    picture, side = await asyncio.to_thread(make_output, args.megapixels, args.quality)
    fake = FakeCometAPI(api_key="bench-key", duration=0.5, start_delay=0.05)
    fake._make_file = lambda pred, index: picture  # type: ignore[method-assign]
    async with fake:
        command = [sys.executable, "-m", "bench.bench_memory", "--child", fake.base_url]
        for name in ("jobs", "outputs", "upload_limit_mb", "decode_slots"):
            value = getattr(args, name)
            if value is not None:
                command += [f"--{name.replace('_', '-')}", str(value)]
        if args.no_malloc_tuning:
            command.append("--no-malloc-tuning")
        child = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"the measured process failed (exit {child.returncode})")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result.update(side=side, file_mb=len(picture) / 1e6, jobs=args.jobs, outputs=args.outputs)
    return result


def report(r: dict[str, Any]) -> str:
    verdict = "met" if r["peak_rss_mb"] < TARGET_MB else "MISSED"
    return (
        f"bench_memory: {r['jobs']} jobs x {r['outputs']} outputs of {r['side']}x{r['side']} "
        f"({r['side'] ** 2 / 1e6:.1f} MP) JPEG, {r['file_mb']:.1f} MB each, "
        f"{r['decode_slots']} decode slots, malloc {r['malloc']}: peak RSS {r['peak_rss_mb']:.0f} MB "
        f"(at rest {r['rest_rss_mb']:.0f} MB; target < {TARGET_MB} MB: {verdict}); "
        f"{r['succeeded']}/{r['jobs']} jobs delivered, {r['images']} images downloaded, "
        f"{r['refit']} re-encoded, {r['seconds']:.1f} s"
        + (f"; errors {r['errors']}" if r["errors"] else "")
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(measured(args))))
        return 0
    result = asyncio.run(serve_and_measure(args))
    print(report(result))
    return 0 if result["succeeded"] == args.jobs and not result["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
