"""The command-line commands that need no Discord: `check` (and the CometAPI half of
`check --online`), `generate`, the operator's block list (`blocks`) and month report (`usage`).

`bot/__main__.py` parses the command line and dispatches here, or to the Discord side
(`bot.edge.runner` for `run` and `sync`, `bot.edge.online_check` for the Discord half of
`check --online`).
"""
