"""/models, /jobs, /show and /help: reading, not changing (except /jobs' cancel buttons)."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.catalog import Price
from bot.edge.components import cancel_buttons
from bot.edge.context import locale_of, scheduler_of, services_of
from bot.edge.places import image_places_of
from bot.edge.render import code_span, cut_escaped, escape_text, message_link, model_label
from bot.edge.requests import show_job


def price_line(t: Callable[..., str], locale: str, price: Price | None) -> str:
    """What a request costs on CometAPI and when that was read, or that nobody knows."""
    if price is None:
        return t(locale, "models.price_unknown")
    return t(locale, f"models.price_{price.unit}", usd=price.text(), date=price.as_of.isoformat())


class Browse(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        # /jobs and /show follow the image commands: servers, and DMs only with ALLOW_DMS.
        places = image_places_of(bot)
        self.jobs.allowed_contexts = places
        self.show.allowed_contexts = places

    @app_commands.command(
        name=_("models", key="command.models.name"),
        description=_(
            "See the available models and the options each one takes",
            key="command.models.description",
        ),
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def models(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        config = (
            await services.guild_config.get(interaction.guild_id) if interaction.guild_id else None
        )
        default = (config.default_model if config else None) or services.settings.default_model
        embed = discord.Embed(title=t(locale, "models.title"), color=0x5865F2)
        for spec in services.catalog.models()[:25]:
            described = services.catalog.describe(spec.id, locale)
            # Labels, descriptions and choices may come from an operator's MODELS_FILE.
            options = ", ".join(
                f"{code_span(o.name, 60)} ({escape_text(o.allowed)})"
                if o.allowed
                else code_span(o.name, 60)
                for o in described.options
            )
            extras = ", ".join(code_span(o.name, 60) for o in described.extra_fields)
            lines = [
                escape_text(spec.description_for(locale)),
                f"{t(locale, 'models.kind')}: {t(locale, 'kind.' + spec.kind.replace('-', '_'))}",
                t(locale, "models.options", options=options)
                if options
                else t(locale, "models.no_options"),
            ]
            if extras:
                lines.append(f"`extra`: {extras}")
            lines.append(price_line(t, locale, described.price))
            name = f"{escape_text(spec.label)} · {code_span(spec.id, 120)}"
            if spec.id == default:
                name += " " + t(locale, "models.default_marker")
            embed.add_field(
                name=cut_escaped(name, 256), value=cut_escaped("\n".join(lines), 1024), inline=False
            )
        embed.set_footer(text=t(locale, "models.footer"))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name=_("jobs", key="command.jobs.name"),
        description=_(
            "See your queued and running jobs, and cancel them", key="command.jobs.description"
        ),
    )
    async def jobs(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        active = await services.jobs.active_for_user(interaction.user.id)
        if not active:
            await interaction.response.send_message(t(locale, "jobs.none"), ephemeral=True)
            return
        now = services.clock.now()
        lines = []
        scheduler = scheduler_of(interaction)
        for job in active:
            position = scheduler.position(job.id)
            status = (
                t(locale, "status.queued", position=position)
                if position
                else t(locale, f"status.{job.status.value}")
            )
            line = t(
                locale,
                "jobs.line",
                job_id=job.id,
                status=status,
                elapsed=int(now - job.created_at),
                model=model_label(services.catalog, job.model),
            )
            link = message_link(job.guild_id, job.channel_id, job.message_id)
            lines.append(f"{line} · {link}" if link else line)
        view = cancel_buttons(active, services.messages, locale)
        embed = discord.Embed(
            title=t(locale, "jobs.title"),
            description=cut_escaped("\n".join(lines), 4000),
            color=0x5865F2,
        )
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @app_commands.command(
        name=_("show", key="command.show.name"),
        description=_("Show a past result again, with its buttons", key="command.show.description"),
    )
    @app_commands.rename(job=_("job", key="option.show.job.name"))
    @app_commands.describe(job=_("The job number", key="option.show.job.description"))
    async def show(self, interaction: discord.Interaction, job: app_commands.Range[int, 1]) -> None:
        await show_job(interaction, job)

    @app_commands.command(
        name=_("help", key="command.help.name"),
        description=_("How to use the image bot", key="command.help.description"),
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def help(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        embed = discord.Embed(
            title=t(locale, "help.title"), description=t(locale, "help.intro"), color=0x5865F2
        )
        for part in ("create", "edit", "results", "jobs", "limits", "privacy", "admin"):
            embed.add_field(
                name=t(locale, f"help.{part}.title"),
                value=t(locale, f"help.{part}.body")[:1024],
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Browse(bot))
