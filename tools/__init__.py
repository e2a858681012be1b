"""Maintainer tools that are not part of the bot (not installed with it)."""
