"""A job's lineage in words: "Subtle variation of job #3, image 2", and where its parent is.

The job's kind says how it was made from its parent (docs/decisions/020): a re-roll, a
variation, a remix or an edit of the result; `parent_image` says which image it started from.
The sentence is in the viewer's language; the caller adds the parent's message link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.model import Job

if TYPE_CHECKING:
    from bot.i18n import Messages

# Kinds of jobs made from another job's result or input.
CHILD_KINDS = ("reroll", "vary_subtle", "vary_strong", "remix", "edit_result")


def lineage_text(messages: Messages, locale: str, job: Job, link: str | None = None) -> str | None:
    """How `job` was made from its parent, or None for a job that started from nothing."""
    if job.parent_id is None or job.kind not in CHILD_KINDS:
        return None
    text = messages.t(
        locale, f"lineage.{job.kind}", job_id=job.parent_id, image=job.parent_image or 1
    )
    return messages.t(locale, "lineage.with_link", lineage=text, url=link) if link else text


__all__ = ["CHILD_KINDS", "lineage_text"]
