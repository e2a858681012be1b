"""Locale files (data). This file only makes setuptools ship the JSON files in wheels."""
