"""The Discord edge: the only package in bot/ that imports discord (the cogs/ are the other).

runner (opens the HTTP session and the database once, builds everything, runs or syncs) →
app (the discord.py bot, owner of the scheduler) → the interaction side: context (interaction
→ core), requests (the request flow), buttons and forms (persistent components), components
(custom ids and layouts), render (embeds), presenter (the scheduler's window onto Discord),
logchannel (the moderators' mirror), errors (one sentence per error), translator (command
names per locale). Nothing here imports the runner or the bot class but the runner itself.
"""
