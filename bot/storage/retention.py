"""JobRetention: erasing what members wrote from jobs that ended long ago, keeping the counts.

What is erased (docs/decisions/017-retention.md): the prompt, the input (every field, image
URLs included), the refusal detail (a blocked term, a moderator's note), the error message
(the provider's text may quote the prompt) and any interaction token left. What stays is what
`/usage`, the quotas and the exports count: status, kind, model, image and output counts,
provider seconds, the prediction id (it marks a job that reached the provider), times, and
the server, channel and user ids. `erased_at` marks the row, so a sweep never looks at it
again.

Safe to run from several processes at once: each batch is one UPDATE of rows not erased yet,
under the lock `retention`; a row another process erased first is no longer a candidate.
"""

from __future__ import annotations

from bot.clock import Clock, SystemClock
from bot.jobs.model import TERMINAL_STATUSES
from bot.storage.base import Database

_ENDED = ", ".join(f"'{s.value}'" for s in sorted(TERMINAL_STATUSES, key=lambda s: s.value))
BATCH = 200  # rows per transaction: a SQLite transaction holds the event loop while it runs


class JobRetention:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def erase_ended_before(self, cutoff: float, *, batch: int = BATCH) -> int:
        """Erase the member-written text of every job that ended before `cutoff`; how many."""
        erased = 0
        while True:
            async with self.db.transaction(lock="retention") as tx:
                changed = await tx.execute(
                    f"""
                    UPDATE jobs SET prompt = '', input_json = '{{}}', refusal_detail = NULL,
                        error_message = NULL, interaction_token = NULL, erased_at = ?
                    WHERE id IN (
                        SELECT id FROM jobs
                        WHERE erased_at IS NULL AND status IN ({_ENDED})
                          AND (finished_at < ? OR (finished_at IS NULL AND updated_at < ?))
                        ORDER BY id LIMIT ?
                    )
                    """,
                    self.clock.now(),
                    cutoff,
                    cutoff,  # every path writes finished_at with the end; rows from before may not
                    batch,
                )
            erased += changed
            if changed < batch:
                return erased
