"""The command-line commands that need no Discord: `check` and `generate`.

`bot/__main__.py` parses the command line and dispatches here, or to the Discord runner
(`bot.edge.runner`) for `run` and `sync`.
"""
