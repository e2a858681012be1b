"""Injected faults: the answers Discord gives when things go wrong, on demand."""

from __future__ import annotations

import fnmatch
import math
import time
from dataclasses import dataclass, field

from .records import DiscordError


@dataclass
class RateLimitFault:
    """The next `remaining` requests matching `pattern` get a 429 with `retry_after`."""

    pattern: str
    remaining: int
    retry_after: float
    is_global: bool = False
    bucket: str = "fakebucket"
    hits: int = 0

    def matches(self, method: str, route: str | None, path: str) -> bool:
        pattern = self.pattern
        if pattern.startswith("/"):
            candidates = [route or "", path]
        else:
            candidates = [f"{method} {route}" if route else "", f"{method} {path}"]
        return any(c and fnmatch.fnmatchcase(c, pattern) for c in candidates)

    def error(self) -> DiscordError:
        # discord.py retries a 429 only when it looks like Discord's own: JSON body with
        # retry_after and a `Via` header (a 429 without `Via` means a Cloudflare ban).
        reset_after = f"{self.retry_after:.3f}"
        headers = {
            "Retry-After": str(max(1, math.ceil(self.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": reset_after,
            "X-RateLimit-Bucket": self.bucket,
            "X-RateLimit-Scope": "global" if self.is_global else "user",
            "Via": "1.1 google",
        }
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
        }
        return DiscordError(429, 0, "You are being rate limited.", headers=headers, body=body)


@dataclass
class Faults:
    """All injected faults; the REST layer consults this before answering."""

    rate_limits: list[RateLimitFault] = field(default_factory=list)
    expired_tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic moment
    denied_channels: set[int] = field(default_factory=set)
    closed_dms: set[int] = field(default_factory=set)  # user ids that refuse DMs from the bot

    def take_rate_limit(self, method: str, route: str | None, path: str) -> RateLimitFault | None:
        for fault in self.rate_limits:
            if fault.remaining > 0 and fault.matches(method, route, path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None

    def token_expired(self, token: str, now: float) -> bool:
        moment = self.expired_tokens.get(token)
        return moment is not None and now >= moment


def invalid_webhook_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def unknown_channel() -> DiscordError:
    return DiscordError(404, 10003, "Unknown Channel")


def unknown_webhook() -> DiscordError:
    return DiscordError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> DiscordError:
    return DiscordError(404, 10062, "Unknown interaction")


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def not_found() -> DiscordError:
    return DiscordError(404, 0, "404: Not Found")


__all__ = [
    "Faults",
    "RateLimitFault",
    "invalid_webhook_token",
    "missing_permissions",
    "not_found",
    "unknown_channel",
    "unknown_interaction",
    "unknown_message",
    "unknown_webhook",
]
