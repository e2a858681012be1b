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
    from bot.catalog import Catalog
    from bot.i18n import Messages

PREFIX = "imagebot"
EDIT_MODAL_PREFIX = f"{PREFIX}:editmodal:"  # + job id
CONTEXT_MODAL_PREFIX = f"{PREFIX}:ctxedit:"  # + channel id : message id
REMIX_MODAL_PREFIX = f"{PREFIX}:remixmodal:"  # + job id
PROMPT_FIELD = "prompt"
# Discord's limits: 5 buttons in a row, 5 rows; a text input's label 45, its value 4000.
ROW_SIZE = 5

# action -> (style, emoji) of its button
_LOOKS: dict[str, tuple[discord.ButtonStyle, str]] = {
    "cancel": (discord.ButtonStyle.secondary, "✖️"),
    "reroll": (discord.ButtonStyle.primary, "🎲"),
    "edit": (discord.ButtonStyle.secondary, "✏️"),
    "info": (discord.ButtonStyle.secondary, "ℹ️"),
    "delete": (discord.ButtonStyle.danger, "🗑️"),
    "block": (discord.ButtonStyle.danger, "⛔"),
    "vary_subtle": (discord.ButtonStyle.secondary, "🌱"),
    "vary_strong": (discord.ButtonStyle.secondary, "🌪️"),
    "remix": (discord.ButtonStyle.primary, "🎛️"),
}


def job_custom_id(action: str, job_id: int) -> str:
    return f"{PREFIX}:{action}:{job_id}"


def job_template(action: str) -> str:
    """The DynamicItem template that matches `job_custom_id(action, ...)`."""
    return rf"{PREFIX}:{action}:(?P<job>[0-9]+)"


def vary_custom_id(job_id: int, image: int, level: str) -> str:
    """Vary carries which image of the result (1-based) and how strongly, besides the job."""
    return f"{PREFIX}:vary:{job_id}:{image}:{level}"


VARY_TEMPLATE = rf"{PREFIX}:vary:(?P<job>[0-9]+):(?P<image>[0-9]+):(?P<level>subtle|strong)"


def job_button(
    action: str,
    job_id: int,
    label: str,
    *,
    row: int | None = None,
    custom_id: str | None = None,
) -> discord.ui.Button[Any]:
    style, emoji = _LOOKS[action]
    return discord.ui.Button(
        label=label[:80],
        style=style,
        emoji=emoji,
        custom_id=custom_id or job_custom_id(action, job_id),
        row=row,
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


def can_vary(catalog: Catalog, job: Job) -> bool:
    """Whether the catalog varies the job's model: its result then gets Vary buttons."""
    return job.model in catalog and catalog.get(job.model).variation is not None


def result_images(job: Job) -> int:
    """How many images a delivered result shows (one pair of Vary buttons each)."""
    return len(job.result_attachments) or job.output_count or 1


def result_view(
    job: Job, messages: Messages, *, images: int = 1, vary: bool = True
) -> discord.ui.View:
    """The result's buttons (docs/decisions/020 has the layout and why).

    One image: Re-roll, Vary (Subtle), Vary (Strong), Remix and Edit, then Info and Delete.
    Several: Re-roll, Remix, Edit, Info and Delete, then a row of Subtle 1…N and a row of
    Strong 1…N under them, like the grid of images above: at most 3 rows of 5, within
    Discord's 5 × 5, one click per variation. A model the catalog does not vary gets no Vary.
    """
    loc, t = job.locale, messages.t

    def button(action: str, row: int, **params: Any) -> discord.ui.Button[Any]:
        return job_button(action, job.id, t(loc, f"button.{action}", **params), row=row)

    def vary_button(level: str, image: int, row: int, key: str) -> discord.ui.Button[Any]:
        label = t(loc, key, image=image)
        custom_id = vary_custom_id(job.id, image, level)
        return job_button(f"vary_{level}", job.id, label, row=row, custom_id=custom_id)

    tail = [button("info", 1), button("delete", 1)]
    if images <= 1:
        if not vary:
            return Layout(button("reroll", 0), button("remix", 0), button("edit", 0), *tail)
        return Layout(
            button("reroll", 0),
            vary_button("subtle", 1, 0, "button.vary_subtle"),
            vary_button("strong", 1, 0, "button.vary_strong"),
            button("remix", 0),
            button("edit", 0),
            *tail,
        )
    items = [button(a, 0) for a in ("reroll", "remix", "edit", "info", "delete")]
    if vary:
        shown = range(1, min(images, ROW_SIZE) + 1)
        items += [vary_button("subtle", n, 1, "button.vary_subtle_n") for n in shown]
        items += [vary_button("strong", n, 2, "button.vary_strong_n") for n in shown]
    return Layout(*items)


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


class RemixModal(discord.ui.Modal):
    """The Remix form: the prompt and the options that fit a form, filled in with the job's.
    Submissions are routed by custom_id, like PromptModal's."""

    def __init__(self, *, custom_id: str, title: str) -> None:
        super().__init__(title=title[:45], custom_id=custom_id, timeout=900)

    def field(
        self,
        custom_id: str,
        label: str,
        *,
        default: str | None,
        placeholder: str = "",
        paragraph: bool = False,
        max_length: int = 20,
        required: bool = False,
    ) -> None:
        self.add_item(
            discord.ui.TextInput(
                label=label[:45],
                custom_id=custom_id,
                style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
                placeholder=placeholder[:100] or None,
                default=default,
                max_length=max_length,
                required=required,
            )
        )

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


def modal_values(interaction: discord.Interaction) -> dict[str, str]:
    """Every text field of a modal submit's raw data, by custom_id (rows or labels)."""
    data: Any = interaction.data or {}
    values: dict[str, str] = {}
    for row in data.get("components", []):
        for component in row.get("components", [row.get("component", {})]):
            if component.get("custom_id"):
                values[str(component["custom_id"])] = str(component.get("value", ""))
    return values


def modal_prompt(interaction: discord.Interaction) -> str:
    """The prompt field's value from a modal submit's raw data."""
    return modal_values(interaction).get(PROMPT_FIELD, "")
