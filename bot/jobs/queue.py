"""The fair queue: round-robin across users, each user's own jobs in arrival order.

Users take turns in the order their oldest queued job arrived. A user who is served goes to
the back of the rotation if they still have jobs waiting, so one user's ten jobs take one turn
at a time and never starve anyone else. A user who joins (or rejoins) goes to the back.
"""

from __future__ import annotations

from collections import deque

from bot.jobs.model import Job


class FairQueue:
    def __init__(self) -> None:
        self._per_user: dict[int, deque[Job]] = {}
        self._rotation: deque[int] = deque()
        self._user_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._user_of)

    def __bool__(self) -> bool:
        return bool(self._user_of)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._user_of

    def push(self, job: Job) -> None:
        if job.id in self._user_of:
            return
        jobs = self._per_user.get(job.user_id)
        if jobs is None:
            jobs = self._per_user[job.user_id] = deque()
            self._rotation.append(job.user_id)
        jobs.append(job)
        self._user_of[job.id] = job.user_id

    def pop(self) -> Job | None:
        """The next job to start: the first job of the user whose turn it is."""
        if not self._rotation:
            return None
        user_id = self._rotation.popleft()
        jobs = self._per_user[user_id]
        job = jobs.popleft()
        del self._user_of[job.id]
        if jobs:
            self._rotation.append(user_id)
        else:
            del self._per_user[user_id]
        return job

    def remove(self, job_id: int) -> Job | None:
        user_id = self._user_of.pop(job_id, None)
        if user_id is None:
            return None
        jobs = self._per_user[user_id]
        job = next(j for j in jobs if j.id == job_id)
        jobs.remove(job)
        if not jobs:
            del self._per_user[user_id]
            self._rotation.remove(user_id)
        return job

    def order(self) -> list[Job]:
        """Every queued job in the order it would start if nothing else arrived.

        Round k takes each user's k-th job, users in rotation order: exactly what repeated
        `pop()` calls would give.
        """
        lanes = [self._per_user[u] for u in self._rotation]
        out: list[Job] = []
        depth = max((len(lane) for lane in lanes), default=0)
        for k in range(depth):
            out.extend(lane[k] for lane in lanes if k < len(lane))
        return out

    def positions(self) -> dict[int, int]:
        """job id -> 1-based position."""
        return {job.id: i for i, job in enumerate(self.order(), start=1)}
