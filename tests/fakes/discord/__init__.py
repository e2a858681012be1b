"""A fake Discord for end-to-end tests: the real discord.py client over a local gateway and REST.

    async with FakeDiscord() as fake, running_client(fake, make_bot) as running:
        interaction = await fake.slash("imagine", prompt="a cat")
        await interaction.wait_callback()
        ...

See docs/decisions/004-fake-discord.md for why this exists instead of mocks.
"""

from .assertions import (
    assert_allows_no_mentions,
    assert_allows_only,
    assert_no_mass_mentions,
    assert_pinged,
    assert_pinged_nobody,
)
from .client import RunningClient, pointed_at, running_client
from .harness import Channels, FakeDiscord, Users
from .models import FakeAttachment, FakeChannel, FakeGuild, FakeMessage, FakeRole, FakeUser, Pings
from .records import DiscordError, FakeInteraction, GatewayEvent, RecordedRequest, UploadedFile
from .spec import KNOWN_DISCREPANCIES, OpenAPISpec, load_spec

__all__ = [
    "KNOWN_DISCREPANCIES",
    "Channels",
    "DiscordError",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewayEvent",
    "OpenAPISpec",
    "Pings",
    "RecordedRequest",
    "RunningClient",
    "UploadedFile",
    "Users",
    "assert_allows_no_mentions",
    "assert_allows_only",
    "assert_no_mass_mentions",
    "assert_pinged",
    "assert_pinged_nobody",
    "load_spec",
    "pointed_at",
    "running_client",
]
