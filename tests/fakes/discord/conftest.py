"""Fixtures for the fake's own tests (others import them from fixtures.py the same way)."""

from .fixtures import fake_discord, fake_discord_factory

__all__ = ["fake_discord", "fake_discord_factory"]
