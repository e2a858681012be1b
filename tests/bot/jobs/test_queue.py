"""The fair queue: round-robin across servers, then across each server's members, in the order
their oldest job arrived."""

from __future__ import annotations

from bot.jobs.model import Job, JobStatus
from bot.jobs.queue import FairQueue


def job(job_id: int, user_id: int, guild_id: int | None = None) -> Job:
    """A queued job; without a server it is a DM, and each DM user takes turns as a server."""
    return Job(
        id=job_id,
        status=JobStatus.QUEUED,
        kind="imagine",
        user_id=user_id,
        guild_id=guild_id,
        channel_id=None,
        locale="en-US",
        model="m/m",
        prompt="p",
        input={},
        image_count=1,
        created_at=0.0,
        updated_at=0.0,
    )


def drain(queue: FairQueue) -> list[int]:
    out = []
    while (j := queue.pop()) is not None:
        out.append(j.id)
    return out


def test_one_user_many_jobs_does_not_starve_others() -> None:
    """A user with ten jobs gets one turn at a time; later users are served in between."""
    queue = FairQueue()
    for i in range(1, 11):
        queue.push(job(i, user_id=1))
    queue.push(job(11, user_id=2))
    queue.push(job(12, user_id=3))
    assert drain(queue) == [1, 11, 12, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_order_matches_pops_and_positions_are_one_based() -> None:
    """order()/positions() predict exactly what repeated pop() gives."""
    queue = FairQueue()
    for job_id, user in [(1, 1), (2, 1), (3, 2), (4, 3), (5, 2), (6, 1), (7, 4)]:
        queue.push(job(job_id, user))
    predicted = [j.id for j in queue.order()]
    assert predicted == [1, 3, 4, 7, 2, 5, 6]
    assert queue.positions() == {1: 1, 3: 2, 4: 3, 7: 4, 2: 5, 5: 6, 6: 7}
    assert drain(queue) == predicted


def test_served_user_goes_to_the_back() -> None:
    """After its turn a user with more jobs waits behind users who arrived meanwhile."""
    queue = FairQueue()
    queue.push(job(1, 1))
    queue.push(job(2, 1))
    first = queue.pop()
    assert first is not None and first.id == 1
    queue.push(job(3, 2))
    assert [j.id for j in queue.order()] == [2, 3]  # user 1's oldest queued job is older
    second = queue.pop()
    assert second is not None and second.id == 2
    queue.push(job(4, 1))
    assert [j.id for j in queue.order()] == [3, 4]


def test_remove_keeps_the_rest_in_order() -> None:
    """Removing a job (a cancel) leaves everyone else's order intact; unknown ids are None."""
    queue = FairQueue()
    for job_id, user in [(1, 1), (2, 2), (3, 1), (4, 3)]:
        queue.push(job(job_id, user))
    removed = queue.remove(2)
    assert removed is not None and removed.id == 2
    assert queue.remove(2) is None
    assert 2 not in queue and 3 in queue and len(queue) == 3
    assert drain(queue) == [1, 4, 3]


def test_push_is_idempotent() -> None:
    """The same job pushed twice is queued once."""
    queue = FairQueue()
    queue.push(job(1, 1))
    queue.push(job(1, 1))
    assert len(queue) == 1


def test_a_server_with_ten_members_gets_one_turn_like_a_server_with_one() -> None:
    """Servers take turns first: ten active members do not give a server ten turns."""
    queue = FairQueue()
    for member in range(1, 11):  # server 100: ten members, two jobs each
        queue.push(job(member, user_id=member, guild_id=100))
        queue.push(job(100 + member, user_id=member, guild_id=100))
    for n in range(3):  # server 200: one member, three jobs
        queue.push(job(200 + n, user_id=99, guild_id=200))
    first_six = [queue.pop() for _ in range(6)]
    assert [(j.guild_id, j.id) for j in first_six if j is not None] == [
        (100, 1),
        (200, 200),
        (100, 2),
        (200, 201),
        (100, 3),
        (200, 202),
    ]
    # Server 200 is done; server 100 goes on round-robin across its members.
    assert [j.id for j in queue.order()][:8] == [4, 5, 6, 7, 8, 9, 10, 101]


def test_members_of_one_server_take_turns_inside_its_turn() -> None:
    """Inside a server, members rotate as users did before; a DM user is a lane of their own."""
    queue = FairQueue()
    for job_id, user, guild in [
        (1, 1, 7),
        (2, 1, 7),
        (3, 2, 7),
        (4, 3, None),
        (5, 4, None),
        (6, 2, 7),
        (7, 1, 8),
    ]:
        queue.push(job(job_id, user, guild))
    predicted = [j.id for j in queue.order()]
    # Lanes in arrival order: server 7, DM 3, DM 4, server 8; server 7's members 1, 2.
    assert predicted == [1, 4, 5, 7, 3, 2, 6]
    assert queue.positions() == {j: i for i, j in enumerate(predicted, start=1)}
    removed = queue.remove(3)
    assert removed is not None and removed.id == 3
    assert drain(queue) == [1, 4, 5, 7, 6, 2]  # member 2 keeps their place in the rotation


def test_the_same_member_in_two_servers_queues_in_each() -> None:
    """A member active in two servers waits in both servers' turns, each in arrival order."""
    queue = FairQueue()
    queue.push(job(1, user_id=5, guild_id=1))
    queue.push(job(2, user_id=5, guild_id=2))
    queue.push(job(3, user_id=5, guild_id=1))
    queue.push(job(4, user_id=6, guild_id=1))
    assert drain(queue) == [1, 2, 4, 3]
