"""The fair queue: round-robin across servers, then across the members of each server.

Servers take turns in the order their oldest queued job arrived; inside a server, its members
take turns the same way; a member's own jobs go in arrival order. A server (or member) that is
served goes to the back of its rotation if it still has jobs waiting, so a server with ten
active members gets one turn, like a server with one, and one member's ten jobs never starve
the rest of their server. A server (or member) that joins, or rejoins, goes to the back.

Direct messages have no server: each DM user is a lane of their own, as if alone in a server
(docs/decisions/018-server-fair-queue.md says why).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from bot.jobs.model import Job

# ("guild", server id) or ("dm", user id): who takes turns at the first level.
LaneKey = tuple[str, int]


def lane_of(job: Job) -> LaneKey:
    """The server a job takes turns as; a DM user is a lane of their own."""
    return ("guild", job.guild_id) if job.guild_id is not None else ("dm", job.user_id)


class _Lane:
    """One server's members in rotation, each with their jobs in arrival order."""

    __slots__ = ("members", "rotation")

    def __init__(self) -> None:
        self.members: dict[int, deque[Job]] = {}
        self.rotation: deque[int] = deque()


class FairQueue:
    def __init__(self) -> None:
        self._lanes: dict[LaneKey, _Lane] = {}
        self._rotation: deque[LaneKey] = deque()
        self._where: dict[int, tuple[LaneKey, int]] = {}  # job id -> (lane, user)

    def __len__(self) -> int:
        return len(self._where)

    def __bool__(self) -> bool:
        return bool(self._where)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._where

    def push(self, job: Job) -> None:
        if job.id in self._where:
            return
        key = lane_of(job)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
            self._rotation.append(key)
        jobs = lane.members.get(job.user_id)
        if jobs is None:
            jobs = lane.members[job.user_id] = deque()
            lane.rotation.append(job.user_id)
        jobs.append(job)
        self._where[job.id] = (key, job.user_id)

    def pop(self) -> Job | None:
        """The next job to start: the server whose turn it is, then its member whose turn it is."""
        if not self._rotation:
            return None
        key = self._rotation.popleft()
        lane = self._lanes[key]
        user_id = lane.rotation.popleft()
        jobs = lane.members[user_id]
        job = jobs.popleft()
        del self._where[job.id]
        if jobs:
            lane.rotation.append(user_id)
        else:
            del lane.members[user_id]
        if lane.rotation:
            self._rotation.append(key)
        else:
            del self._lanes[key]
        return job

    def remove(self, job_id: int) -> Job | None:
        where = self._where.pop(job_id, None)
        if where is None:
            return None
        key, user_id = where
        lane = self._lanes[key]
        jobs = lane.members[user_id]
        job = next(j for j in jobs if j.id == job_id)
        jobs.remove(job)
        if not jobs:
            del lane.members[user_id]
            lane.rotation.remove(user_id)
        if not lane.rotation:
            del self._lanes[key]
            self._rotation.remove(key)
        return job

    def order(self) -> list[Job]:
        """Every queued job in the order it would start if nothing else arrived.

        Exactly what repeated `pop()` calls would give, played on light copies (positions of
        cursors, not of jobs), so it stays linear in the queue's length.
        """
        return list(self._replay())

    def _replay(self) -> Iterator[Job]:
        lanes: deque[deque[tuple[deque[Job], list[int]]]] = deque(
            deque((self._lanes[key].members[u], [0]) for u in self._lanes[key].rotation)
            for key in self._rotation
        )
        while lanes:
            members = lanes.popleft()
            jobs, cursor = members.popleft()
            yield jobs[cursor[0]]
            cursor[0] += 1
            if cursor[0] < len(jobs):
                members.append((jobs, cursor))
            if members:
                lanes.append(members)

    def positions(self) -> dict[int, int]:
        """job id -> 1-based position."""
        return {job.id: i for i, job in enumerate(self._replay(), start=1)}
