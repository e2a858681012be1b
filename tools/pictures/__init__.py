"""The README's pictures of what members see: `python -m tools.pictures` (see __main__)."""
