"""The fake Discord proven against discord.py itself, with a tiny bot defined here."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from PIL import Image

from tests.fakes.discord import (
    FakeDiscord,
    assert_allows_no_mentions,
    assert_allows_only,
    assert_no_mass_mentions,
    assert_pinged,
    assert_pinged_nobody,
    running_client,
)
from tests.fakes.discord.fixtures import FakeDiscordFactory

pytestmark = pytest.mark.timeout(30)


def png(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


class Reroll(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"job:reroll:(?P<job>[0-9]+)"
):
    """A persistent button whose state lives in its custom_id, like the real bot's."""

    def __init__(self, job: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Re-roll", style=discord.ButtonStyle.primary, custom_id=f"job:reroll:{job}"
            )
        )
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Reroll:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"re-rolled job {self.job}")


class PromptModal(discord.ui.Modal, title="Edit image"):
    prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Prompt", custom_id="prompt", max_length=500
    )

    def __init__(self, bot: TinyBot, message: discord.Message) -> None:
        super().__init__(custom_id="edit-image-modal")
        self.bot, self.message = bot, message

    async def on_submit(self, interaction: discord.Interaction) -> None:
        data = await self.message.attachments[0].read()
        await interaction.response.send_message(f"editing {len(data)} bytes: {self.prompt.value}")
        self.bot.outcome(interaction.id).set_result(data)


class TinyTranslator(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: Any
    ) -> str | None:
        if locale is discord.Locale.japanese and string.message == "imagine":
            return "画像"
        if locale is discord.Locale.taiwan_chinese and string.message == "Make a picture":
            return "生成圖片"
        return None


class TinyBot(discord.Client):
    """A minimal bot: a few commands, a persistent button, a modal, a context menu."""

    def __init__(self, fake: FakeDiscord, **kwargs: Any) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            **kwargs,
        )
        self.fake = fake
        self.tree = app_commands.CommandTree(self)
        self.interactions: dict[int, discord.Interaction] = {}
        self._outcomes: dict[int, asyncio.Future[Any]] = {}
        self._install()

    def outcome(self, interaction_id: int) -> asyncio.Future[Any]:
        """What a handler observed (a value or an exception), for the test to await."""
        if interaction_id not in self._outcomes:
            self._outcomes[interaction_id] = asyncio.get_running_loop().create_future()
        return self._outcomes[interaction_id]

    async def setup_hook(self) -> None:
        self.add_dynamic_items(Reroll)
        await self.tree.set_translator(TinyTranslator())
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(self.fake.guild.id))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5-second pause between IDENTIFYs: the fake has no identify rate limit."""

    def _install(self) -> None:
        tree, bot = self.tree, self

        @tree.command(description="Make a picture")
        @app_commands.describe(prompt="What to draw", count="How many")
        async def imagine(
            interaction: discord.Interaction, prompt: str, count: app_commands.Range[int, 1, 4] = 1
        ) -> None:
            bot.interactions[interaction.id] = interaction
            await interaction.response.defer(thinking=True)
            view = discord.ui.View(timeout=None)
            view.add_item(Reroll(42))
            files = [discord.File(io.BytesIO(png()), f"result-{n}.png") for n in range(count)]
            await interaction.edit_original_response(
                content=f"**{prompt}**", attachments=files, view=view
            )

        @imagine.autocomplete("prompt")
        async def suggest(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"{current} cat", value=f"{current} cat")]

        @tree.command(description="Edit an uploaded image")
        async def edit(
            interaction: discord.Interaction, image: discord.Attachment, prompt: str
        ) -> None:
            data = await image.read()
            await interaction.response.send_message(
                f"got {len(data)} bytes ({image.content_type}) for {prompt}"
            )
            bot.outcome(interaction.id).set_result(data)

        @tree.command(description="Reply at once")
        async def ping(interaction: discord.Interaction) -> None:
            bot.interactions[interaction.id] = interaction
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(description="Defer and wait")
        async def slow(interaction: discord.Interaction) -> None:
            bot.interactions[interaction.id] = interaction
            await interaction.response.defer()

        @tree.command(description="Answer too late")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)
            try:
                await interaction.response.defer()
            except discord.HTTPException as error:
                bot.outcome(interaction.id).set_result(error)

        @tree.command(description="Send what Discord refuses")
        async def invalid(interaction: discord.Interaction, what: str) -> None:
            try:
                if what == "long":
                    await interaction.response.send_message("x" * 2001)
                else:
                    view = discord.ui.View()
                    view.add_item(discord.ui.Button(label="L" * 81, custom_id="too-long-label"))
                    await interaction.response.send_message("look", view=view)
            except discord.HTTPException as error:
                bot.outcome(interaction.id).set_result(error)

        @tree.command(description="Say something with mentions")
        async def announce(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(text)

        @tree.command(description="Post a card, then rework its files")
        async def card(interaction: discord.Interaction) -> None:
            def file(name: str) -> discord.File:
                return discord.File(io.BytesIO(png()), name)

            await interaction.response.send_message("card", file=file("a.png"))
            message = await interaction.original_response()
            await interaction.edit_original_response(
                attachments=[*message.attachments, file("b.png")]
            )
            await interaction.edit_original_response(attachments=[file("c.png")])
            await interaction.edit_original_response(content="card v2")
            extra = await interaction.followup.send(
                "extra", file=file("d.png"), ephemeral=True, wait=True
            )
            bot.outcome(interaction.id).set_result(extra)

        @tree.command(description="Defer, then answer with a follow-up")
        async def think(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            first = await interaction.followup.send("result", wait=True)
            second = await interaction.followup.send("more", wait=True)
            bot.outcome(interaction.id).set_result((first, second))

        @tree.context_menu(name="Edit image")
        async def edit_image(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_modal(PromptModal(bot, message))

        settings = app_commands.Group(
            name="settings",
            description="Server settings",
            guild_only=True,
            default_permissions=discord.Permissions(manage_guild=True),
        )

        @settings.command(description="Daily limits")
        async def limits(interaction: discord.Interaction, daily: int) -> None:
            await interaction.response.send_message(f"daily limit {daily}", ephemeral=True)

        tree.add_command(settings, guild=discord.Object(self.fake.guild.id))


def tiny_bot(fake: FakeDiscord, **kwargs: Any) -> TinyBot:
    return TinyBot(fake, **kwargs)


async def test_login_and_ready_fill_the_client_cache(fake_discord: FakeDiscord) -> None:
    """Login, READY and GUILD_CREATE give discord.py the guild, its channels and roles."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None and bot.user is not None
        assert bot.user.id == fake.bot_user.id and bot.application_id == fake.application_id
        guild = bot.get_guild(fake.guild.id)
        assert guild is not None and guild.owner_id == fake.users.owner.id
        assert guild.preferred_locale is discord.Locale.american_english
        assert {c.name for c in guild.text_channels} == {"general", "nsfw-art", "bot-log"}
        nsfw = guild.get_channel(fake.channels.nsfw.id)
        assert isinstance(nsfw, discord.TextChannel) and nsfw.is_nsfw()
        moderator = discord.utils.get(guild.roles, name="Moderator")
        assert moderator is not None and moderator.permissions.manage_guild
        assert guild.me.guild_permissions.send_messages
        log = guild.get_channel(fake.channels.log.id)
        assert isinstance(log, discord.TextChannel)
        assert not log.permissions_for(guild.default_role).view_channel
    assert [e.kind for e in fake.gateway_log][:2] == ["IDENTIFY", "READY"]
    assert [r.key for r in fake.requests[:2]] == ["GET /users/@me", "GET /oauth2/applications/@me"]


async def test_command_sync_round_trip(fake_discord: FakeDiscord) -> None:
    """Bulk PUT of global and guild commands is echoed with ids that GET returns again."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        global_names = {c["name"] for c in fake.commands_synced[None]}
        assert {"imagine", "edit", "ping", "Edit image"} <= global_names
        [settings] = fake.commands_synced[fake.guild.id]
        assert settings["name"] == "settings" and settings["default_member_permissions"] == str(
            1 << 5
        )
        imagine = next(c for c in fake.commands_synced[None] if c["name"] == "imagine")
        assert imagine["name_localizations"] == {"ja": "画像"}
        assert imagine["description_localizations"] == {"zh-TW": "生成圖片"}
        fetched = await bot.tree.fetch_commands()
        assert {c.id for c in fetched} == {int(c["id"]) for c in fake.commands_synced[None]}
        assert next(c for c in fetched if c.name == "imagine").options[0].name == "prompt"


async def test_deferred_slash_command_edited_with_a_file(fake_discord: FakeDiscord) -> None:
    """A deferred reply edited with files: the bytes arrive and the store shows the attachments."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)):
        interaction = await fake.slash("imagine", prompt="a red square", count=2, locale="ja")
        callback = await interaction.wait_callback()
        assert callback.json["type"] == 5 and callback.status == 200
        assert callback.response["interaction"]["response_message_loading"] is True
        assert interaction.callback_latency is not None and interaction.callback_latency < 3
        edit = await interaction.wait_original_edit()
        assert [f.data for f in edit.files] == [png(), png()]
        assert_allows_no_mentions(edit)
        message = interaction.original_message
        assert message is not None and not message.loading
        assert message.content == "**a red square**"
        assert [(a.filename, a.content_type, a.width, a.height) for a in message.attachments] == [
            ("result-0.png", "image/png", 64, 48),
            ("result-1.png", "image/png", 64, 48),
        ]
        assert message.custom_ids == ["job:reroll:42"]
        async with (
            aiohttp.ClientSession() as session,
            session.get(message.attachments[0].url) as response,
        ):
            assert response.status == 200 and await response.read() == png()
        assert_pinged_nobody(message)


async def test_subcommand_and_attachment_option(fake_discord: FakeDiscord) -> None:
    """Subcommands and attachment options arrive resolved; the bot downloads real bytes."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        limits = await fake.slash(
            "settings", subcommand="limits", daily=5, user=fake.users.moderator
        )
        await limits.wait_callback()
        assert (
            limits.original_message is not None
            and limits.original_message.content == "daily limit 5"
        )
        assert limits.original_message.ephemeral
        image = png(32, 32, "blue")
        edit = await fake.slash(
            "edit", prompt="make it green", attachments={"image": ("in.png", image, "image/png")}
        )
        assert await asyncio.wait_for(bot.outcome(edit.id), 5) == image
        await edit.wait_callback()
        assert edit.original_message is not None
        assert (
            edit.original_message.content == f"got {len(image)} bytes (image/png) for make it green"
        )
        with pytest.raises(LookupError):
            await fake.slash("edit", prompt="x", nonexistent="y")


async def test_persistent_button_works_after_a_restart(fake_discord: FakeDiscord) -> None:
    """A button from before a restart is handled by the fresh client (persistent custom_id)."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        interaction = await fake.slash("imagine", prompt="cat")
        await interaction.wait_original_edit()
        message = interaction.original_message
        assert message is not None
        await running.restart()
        assert running.starts == 2
        click = await fake.click(message, "job:reroll:42", user=fake.users.other_member)
        callback = await click.wait_callback()
        assert callback.json["type"] == 7
        assert fake.messages[message.id].content == "re-rolled job 42"
        assert len(fake.messages[message.id].attachments) == 1  # an edit without files keeps them
    assert [e.kind for e in fake.gateway_log].count("IDENTIFY") == 2


async def test_context_menu_then_modal_submit(fake_discord: FakeDiscord) -> None:
    """Message menu → modal → submit: the bot reads the image from the message and answers."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        image = png(16, 16, "green")
        posted = await fake.post_user_message(
            fake.channels.normal,
            user=fake.users.member,
            attachments=[("photo.png", image, "image/png")],
        )
        menu = await fake.context_menu("Edit image", posted)
        callback = await menu.wait_callback()
        assert callback.json["type"] == 9 and menu.modal is not None
        with pytest.raises(LookupError):
            await fake.submit_modal("edit-image-modal", {"prompt": "x", "unknown": "y"})
        submit = await fake.submit_modal("edit-image-modal", {"prompt": "make it blue"})
        assert await asyncio.wait_for(bot.outcome(submit.id), 5) == image
        await submit.wait_callback()
        assert submit.original_message is not None
        assert submit.original_message.content == f"editing {len(image)} bytes: make it blue"


async def test_autocomplete_choices_are_recorded(fake_discord: FakeDiscord) -> None:
    """An autocomplete interaction gets the bot's choices (callback type 8)."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)):
        interaction = await fake.autocomplete("imagine", "prompt", "fluffy")
        await interaction.wait_callback()
        assert interaction.autocomplete_choices == [{"name": "fluffy cat", "value": "fluffy cat"}]


async def test_rate_limit_is_retried_transparently(fake_discord: FakeDiscord) -> None:
    """A 429 with retry_after and X-RateLimit headers is waited out and retried by discord.py."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        channel = bot.get_channel(fake.channels.normal.id)
        assert isinstance(channel, discord.TextChannel)
        fault = fake.inject_rate_limit(
            "POST /channels/{channel_id}/messages", count=2, retry_after=0.05
        )
        sent = await channel.send("hello")
        assert fault.hits == 2 and fake.messages[sent.id].content == "hello"
        attempts = [r for r in fake.requests if r.key == "POST /channels/{channel_id}/messages"]
        assert [r.status for r in attempts] == [429, 429, 200]
        assert attempts[1].time - attempts[0].time >= 0.05
        fake.inject_rate_limit("PATCH /webhooks/*/messages/@original", count=1, retry_after=0.05)
        interaction = await fake.slash("imagine", prompt="cat")
        edit = await interaction.wait_original_edit()
        assert edit.status == 200
        assert [r.status for r in interaction.responses()] == [200, 429, 200]


async def test_expired_token_raises_50027(fake_discord: FakeDiscord) -> None:
    """Webhook calls with an expired interaction token fail with 401 / 50027."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        interaction = await fake.slash("slow")
        await interaction.wait_callback()
        fake.expire_token(interaction)
        with pytest.raises(discord.HTTPException) as raised:
            await bot.interactions[interaction.id].edit_original_response(content="too late")
        assert raised.value.status == 401 and raised.value.code == 50027


async def test_deleted_message_raises_not_found_10008(fake_discord: FakeDiscord) -> None:
    """Editing a message a user deleted fails with 404 / 10008, by token and by channel."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        interaction = await fake.slash("slow")
        await interaction.wait_callback()
        assert interaction.original_message is not None
        fake.delete_message(interaction.original_message)
        with pytest.raises(discord.NotFound) as raised:
            await bot.interactions[interaction.id].edit_original_response(content="result")
        assert raised.value.code == 10008
        channel = bot.get_channel(fake.channels.normal.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("pending")
        fake.delete_message(sent.id)
        with pytest.raises(discord.NotFound) as raised:
            await sent.edit(content="done")
        assert raised.value.code == 10008


async def test_missing_permissions_raise_forbidden_50013(fake_discord: FakeDiscord) -> None:
    """Writes in a channel where the bot lost its rights fail with 403 / 50013."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        channel = bot.get_channel(fake.channels.normal.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("pending")
        fake.deny_permission(channel.id)
        with pytest.raises(discord.Forbidden) as raised:
            await channel.send("result")
        assert raised.value.code == 50013
        with pytest.raises(discord.Forbidden):
            await sent.edit(content="done")
        interaction = await fake.slash("ping")
        await interaction.wait_callback()  # interaction responses need no channel permission
        assert not discord.Permissions(int(interaction.payload["app_permissions"])).send_messages


async def test_gateway_drop_resumes_and_delivers_the_next_interaction(
    fake_discord: FakeDiscord,
) -> None:
    """After the gateway drops, the client RESUMEs and still receives interactions."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)):
        assert await fake.drop_gateway() == 1
        interaction = await fake.slash("ping")
        await interaction.wait_callback()
        resumed = await fake.wait_for_gateway(lambda e: e.kind == "RESUMED")
        assert resumed.session_id == fake.gateway_log[0].session_id
        assert [e.kind for e in fake.gateway_log].count("IDENTIFY") == 1


async def test_invalidated_session_identifies_again(fake_discord: FakeDiscord) -> None:
    """When the session cannot be resumed the client gets INVALID_SESSION and identifies anew."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)):
        await fake.drop_gateway(resumable=False)
        await fake.wait_for_gateway(lambda e: e.kind == "INVALID_SESSION")
        second = await fake.wait_for_gateway(
            lambda e: e.kind == "READY" and e.session_id != fake.gateway_log[0].session_id
        )
        interaction = await fake.slash("ping")
        await interaction.wait_callback()
        assert second.session_id in fake.gateway.sessions


async def test_spec_violations_are_caught(fake_discord: FakeDiscord) -> None:
    """Content over 2000 characters and an invalid button are refused with 400 / 50035."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        long = await fake.slash("invalid", what="long")
        error = await asyncio.wait_for(bot.outcome(long.id), 5)
        assert isinstance(error, discord.HTTPException) and error.code == 50035
        assert "data.content: Must be 2000 or fewer in length (got 2001)." in " ".join(
            fake.take_violations()
        )
        button = await fake.slash("invalid", what="button")
        error = await asyncio.wait_for(bot.outcome(button.id), 5)
        assert isinstance(error, discord.HTTPException) and error.code == 50035
        [violation] = fake.take_violations()
        assert "data.components.0.components.0.label" in violation
        assert fake.violations() == []


async def test_late_acknowledgement_is_reported(fake_discord_factory: FakeDiscordFactory) -> None:
    """A first callback after the deadline gets 10062 and is recorded as a violation."""
    fake = await fake_discord_factory(callback_deadline=0.2)
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        interaction = await fake.slash("late")
        error = await asyncio.wait_for(bot.outcome(interaction.id), 5)
        assert isinstance(error, discord.NotFound) and error.code == 10062
        assert "answered after" in fake.take_violations()[0]


async def test_unknown_route_is_a_recorded_404(fake_discord: FakeDiscord) -> None:
    """A route Discord does not have answers 404 in Discord's shape and counts as a violation."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        with pytest.raises(discord.NotFound) as raised:
            await bot.http.request(discord.http.Route("GET", "/no/such/route"))
        assert (
            raised.value.status == 404
            and raised.value.code == 0
            and raised.value.text == "404: Not Found"
        )
        assert fake.requests[-1].path == "/no/such/route"
        assert fake.take_violations() == ["GET /no/such/route is not a route of Discord's API"]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{fake.api_base}/gateway") as response,
        ):
            assert response.headers["Content-Type"] == "application/json"


async def test_allowed_mentions_helpers(fake_discord: FakeDiscord) -> None:
    """The helpers tell a message that pings nobody from one that pings; they can fail."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        artist = fake.guild.role_named("Artist")
        text = f"@everyone {fake.users.owner.mention} {artist.mention}"
        interaction = await fake.slash("announce", text=text)
        callback = await interaction.wait_callback()
        assert_allows_no_mentions(callback)
        assert interaction.original_message is not None
        assert_pinged_nobody(interaction.original_message)
        channel = bot.get_channel(fake.channels.normal.id)
        assert isinstance(channel, discord.TextChannel)
        owner = discord.Object(fake.users.owner.id)
        targeted = await channel.send(text, allowed_mentions=discord.AllowedMentions(users=[owner]))
        assert_allows_only(fake.messages[targeted.id], users=[fake.users.owner])
        assert_pinged(fake.messages[targeted.id], users=[fake.users.owner])
        assert_no_mass_mentions(fake, allowed_users=[fake.users.owner])
        posted = await fake.post_user_message(
            fake.channels.normal, user=fake.users.member, content="look"
        )
        original = await channel.fetch_message(posted.id)
        quiet_reply = await original.reply("thanks")
        assert_pinged_nobody(fake.messages[quiet_reply.id])
        loud_reply = await original.reply("thanks", mention_author=True)
        assert_pinged(fake.messages[loud_reply.id], users=[fake.users.member])
        loud = await channel.send(text, allowed_mentions=discord.AllowedMentions.all())
        with pytest.raises(AssertionError):
            assert_pinged_nobody(fake.messages[loud.id])
        assert_pinged(
            fake.messages[loud.id], users=[fake.users.owner], roles=[artist], everyone=True
        )
        with pytest.raises(AssertionError):
            assert_no_mass_mentions(fake, allowed_users=[fake.users.owner])


async def test_dms_and_closed_dms(fake_discord: FakeDiscord) -> None:
    """The bot opens a DM and sends to it; a user who refuses DMs gives 403 / 50007."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert bot is not None
        user = await bot.fetch_user(fake.users.member.id)
        await user.send("your image is ready")
        assert [m.content for m in fake.dm_messages(fake.users.member)] == ["your image is ready"]
        fake.close_dms(fake.users.other_member)
        other = await bot.fetch_user(fake.users.other_member.id)
        with pytest.raises(discord.Forbidden) as raised:
            await other.send("hello")
        assert raised.value.code == 50007


async def test_shards_get_their_own_guilds_and_interactions(fake_discord: FakeDiscord) -> None:
    """Two shard connections: each gets READY for its shard, its guild, and its interactions."""
    fake = fake_discord
    main_shard = (fake.guild.id >> 22) % 2
    second = fake.add_guild("Second Guild", on_shard=(1 - main_shard, 2))
    second_channel = next(iter(second.channels.values()))
    async with (
        running_client(fake, lambda: tiny_bot(fake, shard_id=0, shard_count=2)) as shard0,
        running_client(fake, lambda: tiny_bot(fake, shard_id=1, shard_count=2)) as shard1,
    ):
        bots = {0: shard0.client, 1: shard1.client}
        assert isinstance(bots[0], TinyBot) and isinstance(bots[1], TinyBot)
        assert [g.id for g in bots[main_shard].guilds] == [fake.guild.id]
        assert [g.id for g in bots[1 - main_shard].guilds] == [second.id]
        here = await fake.slash("ping")
        there = await fake.slash("ping", channel=second_channel)
        await here.wait_callback()
        await there.wait_callback()
        assert (
            here.id in bots[main_shard].interactions
            and here.id not in bots[1 - main_shard].interactions
        )
        assert there.id in bots[1 - main_shard].interactions
    assert sorted(e.shard for e in fake.gateway_log if e.kind == "READY" and e.shard) == [
        (0, 2),
        (1, 2),
    ]


async def test_attachments_kept_replaced_and_appended(fake_discord: FakeDiscord) -> None:
    """Edits follow the `attachments` array: keep listed ones, add new files, drop the rest."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        interaction = await fake.slash("card")
        extra = await asyncio.wait_for(bot.outcome(interaction.id), 5)
        message = interaction.original_message
        assert message is not None
        assert [r["attachments"] for r in message.revisions] == [
            ["a.png"],
            ["a.png", "b.png"],
            ["c.png"],
            ["c.png"],
        ]
        assert message.content == "card v2" and message.edit_count == 3
        [followup] = interaction.followups
        assert followup.id == extra.id and followup.ephemeral
        assert [a.filename for a in followup.attachments] == ["d.png"]
        assert extra.attachments[0].filename == "d.png"


async def test_first_followup_after_defer_replaces_the_thinking_message(
    fake_discord: FakeDiscord,
) -> None:
    """After a defer, the first follow-up fills the loading message; the next one is new."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        assert isinstance(bot, TinyBot)
        interaction = await fake.slash("think")
        first, second = await asyncio.wait_for(bot.outcome(interaction.id), 5)
        original = interaction.original_message
        assert original is not None and first.id == original.id
        assert original.content == "result" and original.ephemeral and not original.loading
        assert [m.content for m in interaction.followups] == ["more"] and second.id != first.id


class AutoShardedTinyBot(discord.AutoShardedClient):
    """An auto-sharded client: asks /gateway/bot for the shard count and URL."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5-second pause between shards."""


async def test_auto_sharded_client_uses_gateway_bot(fake_discord: FakeDiscord) -> None:
    """AutoShardedClient gets the shard count and the fake's URL from /gateway/bot."""
    fake = fake_discord
    fake.recommended_shards = 2
    fake.add_guild("Other", on_shard=(1 - (fake.guild.id >> 22) % 2, 2))
    factory = lambda: AutoShardedTinyBot(intents=discord.Intents.default())  # noqa: E731
    async with running_client(fake, factory) as running:
        bot = running.client
        assert bot is not None
        assert bot.shard_count == 2 and len(bot.guilds) == 2
    assert any(r.key == "GET /gateway/bot" for r in fake.requests)
    assert sorted(e.shard for e in fake.gateway_log if e.kind == "READY" and e.shard) == [
        (0, 2),
        (1, 2),
    ]


async def test_upload_over_the_interaction_limit_is_refused(fake_discord: FakeDiscord) -> None:
    """A file larger than the interaction's attachment_size_limit gets 413 / 40005."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)):
        interaction = await fake.slash("imagine", prompt="big", attachment_size_limit=100)
        assert interaction.payload["attachment_size_limit"] == 100
        edit = await interaction.wait_for(lambda r: r.method == "PATCH")
        assert edit.status == 413 and edit.response == {
            "message": "Request entity too large",
            "code": 40005,
        }
        assert interaction.original_message is not None and interaction.original_message.loading


async def test_token_expires_after_fifteen_minutes_of_fake_time(
    fake_discord_factory: FakeDiscordFactory,
) -> None:
    """With an injected clock, the 15-minute token lifetime passes without waiting."""
    now = [1000.0]
    fake = await fake_discord_factory(clock=lambda: now[0])
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        bot = running.client
        interaction = await fake.slash("slow")
        await interaction.wait_callback()
        now[0] += 14 * 60
        await bot.interactions[interaction.id].edit_original_response(content="still in time")
        now[0] += 60
        with pytest.raises(discord.HTTPException) as raised:
            await bot.interactions[interaction.id].edit_original_response(content="too late")
        assert raised.value.status == 401 and raised.value.code == 50027
        assert fake.messages[interaction.original_message_id or 0].content == "still in time"


async def test_expired_cdn_links_need_a_fresh_fetch(fake_discord: FakeDiscord) -> None:
    """After the CDN links expire, old URLs 404 and a re-fetched message has working ones."""
    fake = fake_discord
    async with running_client(fake, lambda: tiny_bot(fake)) as running:
        channel = running.client.get_channel(fake.channels.normal.id)
        assert isinstance(channel, discord.TextChannel)
        image = png(8, 8)
        posted = await fake.post_user_message(attachments=[("in.png", image, "image/png")])
        message = await channel.fetch_message(posted.id)
        assert await message.attachments[0].read() == image
        fake.expire_cdn_links()
        with pytest.raises(discord.NotFound):
            await message.attachments[0].read()
        fresh = await channel.fetch_message(posted.id)
        assert fresh.attachments[0].url != message.attachments[0].url
        assert await fresh.attachments[0].read() == image
        assert [status for _, status in fake.cdn_requests] == [200, 404, 200]


async def test_wrong_token_fails_login(fake_discord: FakeDiscord) -> None:
    """A token the fake does not know is refused with 401, which discord.py reports as such."""
    fake = fake_discord
    with pytest.raises(discord.LoginFailure):
        async with running_client(fake, lambda: tiny_bot(fake), token="not-the-token"):
            pass
    assert fake.requests[0].status == 401 and fake.gateway_log == []
