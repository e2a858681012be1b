"""A job made from another one says how (re-roll, variation of image K, remix, edit), from
which job, in the viewer's language, with the parent's link when the caller has it."""

from __future__ import annotations

import pytest

from bot.edge.lineage import lineage_text
from bot.i18n import Messages
from tests.bot.edge.test_components import job

MESSAGES = Messages.load()


@pytest.mark.parametrize(
    ("kind", "image", "key"),
    [
        ("vary_strong", 3, "lineage.vary_strong"),
        ("remix", None, "lineage.remix"),
        ("reroll", None, "lineage.reroll"),
        ("edit_result", 1, "lineage.edit_result"),
    ],
)
def test_lineage_names_the_parent_and_the_image(kind: str, image: int | None, key: str) -> None:
    """A child job says how it was made, from which job and image, in the viewer's language."""
    child = job(kind=kind, parent_id=5, parent_image=image)
    expected = MESSAGES.t("ja", key, job_id=5, image=image or 1)
    assert lineage_text(MESSAGES, "ja", child) == expected
    linked = lineage_text(MESSAGES, "en-US", child, "https://discord.com/channels/2/3/4")
    assert linked is not None and linked.endswith("https://discord.com/channels/2/3/4")


def test_a_job_made_from_nothing_has_no_lineage() -> None:
    """/imagine, /edit and /blend jobs have no parent line."""
    assert lineage_text(MESSAGES, "en-US", job()) is None
    assert lineage_text(MESSAGES, "en-US", job(kind="blend")) is None
