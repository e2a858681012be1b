"""Persistent buttons: custom_ids carry the job id, state is read from the database.

Registered once with `bot.add_dynamic_items`, so they work after a restart and forever after.
The callbacks only parse and delegate to `bot.discord_actions`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.jobs.model import Job

if TYPE_CHECKING:
    from bot.i18n import Messages

PREFIX = "imagebot"


def _button_class(action: str, style: discord.ButtonStyle, emoji: str | None) -> type[Any]:
    template = rf"{PREFIX}:{action}:(?P<job>[0-9]+)"

    class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=template):  # type: ignore[misc]
        def __init__(self, job_id: int, label: str = action) -> None:
            super().__init__(
                discord.ui.Button(
                    label=label,
                    style=style,
                    emoji=emoji,
                    custom_id=f"{PREFIX}:{action}:{job_id}",
                )
            )
            self.job_id = job_id

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
        ) -> JobButton:
            return cls(int(match["job"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            from bot.discord_actions import handle_button

            await handle_button(interaction, action, self.job_id)

    JobButton.__name__ = JobButton.__qualname__ = f"{action.title()}Button"
    return JobButton


CancelButton = _button_class("cancel", discord.ButtonStyle.secondary, "✖️")
RerollButton = _button_class("reroll", discord.ButtonStyle.primary, "🎲")
EditButton = _button_class("edit", discord.ButtonStyle.secondary, "✏️")
InfoButton = _button_class("info", discord.ButtonStyle.secondary, "ℹ️")
DeleteButton = _button_class("delete", discord.ButtonStyle.danger, "🗑️")
BlockButton = _button_class("block", discord.ButtonStyle.danger, "⛔")
DYNAMIC_ITEMS = (CancelButton, RerollButton, EditButton, InfoButton, DeleteButton, BlockButton)

EDIT_MODAL_PREFIX = f"{PREFIX}:editmodal:"  # + job id
CONTEXT_MODAL_PREFIX = f"{PREFIX}:ctxedit:"  # + channel id : message id
PROMPT_FIELD = "prompt"


def _view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def pending_view(job: Job, messages: Messages) -> discord.ui.View:
    return _view(CancelButton(job.id, messages.t(job.locale, "button.cancel")))


def result_view(job: Job, messages: Messages) -> discord.ui.View:
    t = messages.t
    return _view(
        RerollButton(job.id, t(job.locale, "button.reroll")),
        EditButton(job.id, t(job.locale, "button.edit")),
        InfoButton(job.id, t(job.locale, "button.info")),
        DeleteButton(job.id, t(job.locale, "button.delete")),
    )


def moderation_view(job: Job, messages: Messages, locale: str) -> discord.ui.View:
    return _view(
        DeleteButton(job.id, messages.t(locale, "button.delete")),
        BlockButton(job.id, messages.t(locale, "button.block_user")),
    )


class PromptModal(discord.ui.Modal):
    """The prompt form. Submissions are handled by the bot's interaction listener, by
    custom_id, so a form opened before a restart still works after it."""

    def __init__(
        self,
        *,
        custom_id: str,
        title: str,
        label: str,
        placeholder: str,
        default: str | None = None,
    ) -> None:
        super().__init__(title=title[:45], custom_id=custom_id, timeout=900)
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=label[:45],
            custom_id=PROMPT_FIELD,
            style=discord.TextStyle.paragraph,
            placeholder=placeholder[:100],
            default=default,
            max_length=2000,
            required=True,
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None  # see the class docstring


def modal_prompt(interaction: discord.Interaction) -> str:
    """The prompt field's value from a modal submit's raw data."""
    data: Any = interaction.data or {}
    for row in data.get("components", []):
        for component in row.get("components", [row.get("component", {})]):
            if component.get("custom_id") == PROMPT_FIELD:
                return str(component.get("value", ""))
    return ""
