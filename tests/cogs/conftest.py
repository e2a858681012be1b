"""The end-to-end stack lives in tests/stack.py (registered for every suite in tests/conftest.py)."""

from tests.stack import Stack, png_bytes, text

__all__ = ["Stack", "png_bytes", "text"]
