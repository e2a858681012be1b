"""Custom ids, the button layouts of the bot's messages, and the prompt form.

A layout is only what Discord shows: plain buttons whose custom_id carries the action and the
job id (`imagebot:<action>:<job>`). What a click does lives in `bot.edge.buttons`, one
`DynamicItem` class per action, registered once at start; each reads the job's state from the
database, so a button works after a restart and forever after. Layouts are stopped views:
discord.py keeps no per-message object for them (with `timeout=None` it would keep one for
every message ever sent), and a click is dispatched to the registered items by custom_id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.jobs.model import Job

if TYPE_CHECKING:
    from bot.i18n import Messages

PREFIX = "imagebot"
EDIT_MODAL_PREFIX = f"{PREFIX}:editmodal:"  # + job id
CONTEXT_MODAL_PREFIX = f"{PREFIX}:ctxedit:"  # + channel id : message id
PROMPT_FIELD = "prompt"

# action -> (style, emoji) of its button
_LOOKS: dict[str, tuple[discord.ButtonStyle, str]] = {
    "cancel": (discord.ButtonStyle.secondary, "✖️"),
    "reroll": (discord.ButtonStyle.primary, "🎲"),
    "edit": (discord.ButtonStyle.secondary, "✏️"),
    "info": (discord.ButtonStyle.secondary, "ℹ️"),
    "delete": (discord.ButtonStyle.danger, "🗑️"),
    "block": (discord.ButtonStyle.danger, "⛔"),
}


def job_custom_id(action: str, job_id: int) -> str:
    return f"{PREFIX}:{action}:{job_id}"


def job_template(action: str) -> str:
    """The DynamicItem template that matches `job_custom_id(action, ...)`."""
    return rf"{PREFIX}:{action}:(?P<job>[0-9]+)"


def job_button(action: str, job_id: int, label: str) -> discord.ui.Button[Any]:
    style, emoji = _LOOKS[action]
    return discord.ui.Button(
        label=label[:80], style=style, emoji=emoji, custom_id=job_custom_id(action, job_id)
    )


class Layout(discord.ui.View):
    """Buttons to show, not to listen to: stopped at once (see the module docstring)."""

    def __init__(self, *items: discord.ui.Item[Any]) -> None:
        super().__init__(timeout=None)
        for item in items:
            self.add_item(item)
        self.stop()


def pending_view(job: Job, messages: Messages) -> discord.ui.View:
    return Layout(job_button("cancel", job.id, messages.t(job.locale, "button.cancel")))


def result_view(job: Job, messages: Messages) -> discord.ui.View:
    t = messages.t
    return Layout(
        job_button("reroll", job.id, t(job.locale, "button.reroll")),
        job_button("edit", job.id, t(job.locale, "button.edit")),
        job_button("info", job.id, t(job.locale, "button.info")),
        job_button("delete", job.id, t(job.locale, "button.delete")),
    )


def moderation_view(job: Job, messages: Messages, locale: str) -> discord.ui.View:
    return Layout(
        job_button("delete", job.id, messages.t(locale, "button.delete")),
        job_button("block", job.id, messages.t(locale, "button.block_user")),
    )


def cancel_buttons(jobs: list[Job], messages: Messages, locale: str) -> discord.ui.View:
    """One Cancel button per job (for /jobs), at most Discord's 25."""
    return Layout(
        *(
            job_button("cancel", job.id, messages.t(locale, "button.cancel_job", job_id=job.id))
            for job in jobs[:25]
        )
    )


class PromptModal(discord.ui.Modal):
    """The prompt form. Submissions are handled by the bot's interaction listener, by
    custom_id (`bot.edge.forms`), so a form opened before a restart still works after it."""

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


def prompt_form(custom_id: str, messages: Messages, locale: str) -> PromptModal:
    """The "what should change?" form of Edit and of the "Edit image" menu."""
    return PromptModal(
        custom_id=custom_id,
        title=messages.t(locale, "modal.edit.title"),
        label=messages.t(locale, "modal.edit.prompt_label"),
        placeholder=messages.t(locale, "modal.edit.prompt_placeholder"),
    )


def modal_prompt(interaction: discord.Interaction) -> str:
    """The prompt field's value from a modal submit's raw data."""
    data: Any = interaction.data or {}
    for row in data.get("components", []):
        for component in row.get("components", [row.get("component", {})]):
            if component.get("custom_id") == PROMPT_FIELD:
                return str(component.get("value", ""))
    return ""
