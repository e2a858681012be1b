"""Settings: one frozen object built once from the environment.

Nothing here runs at import time: `load_settings()` is called by the composition root after
`load_dotenv()`. A missing or malformed value raises `SettingsError` whose text is one sentence
naming the setting and what to do; the CLI prints it and exits 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from bot.money import micros_to_usd, parse_budget
from bot.redact import mask_url, mask_urls_in, password_forms

SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing or malformed; `str()` is one sentence for the operator."""

    def __init__(self, name: str, message: str) -> None:
        # A sentence may quote the value it refuses, and a URL there may carry a password.
        super().__init__(mask_urls_in(message))
        self.name = name


class Secret(str):
    """A string whose repr never shows its value (tokens and keys)."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def masked(self) -> str:
        """A hint for humans: the last four characters only."""
        return "***" + self[-4:] if len(self) > 8 else "***"


class SecretURL(str):
    """A URL that may carry a password (DATABASE_URL): shown with the password masked."""

    def __repr__(self) -> str:
        return f"SecretURL({self.masked()!r})"

    def masked(self) -> str:
        return mask_url(self)


DEFAULT_DATABASE_URL = SecretURL("sqlite:///data/bot.db")


@dataclass(frozen=True)
class Settings:
    discord_token: Secret | None
    cometapi_key: Secret
    cometapi_base_url: str = "https://api.cometapi.com"
    database_url: SecretURL = DEFAULT_DATABASE_URL
    default_model: str = "black-forest-labs/flux-schnell"
    max_concurrent_jobs: int = 8
    user_max_active_jobs: int = 2
    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 0
    # The operator's ceiling for the whole bot: images per UTC day, every server and DM; 0 = none.
    bot_daily_limit: int = 0
    # The operator's ceiling on money: USD the whole bot may spend per calendar month (UTC),
    # whole cents; 0 = none. Every server's own budget stays within it.
    bot_monthly_budget: Decimal = Decimal(0)
    # The image commands are offered in DMs with the bot only when the operator says so.
    allow_dms: bool = False
    job_timeout_seconds: int = 600
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    models_file: Path | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    job_lease_seconds: int = 30
    cometapi_prefer_wait: int = 0
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    health_file: Path | None = None
    guild_max_active_jobs: int = 0  # one server's queued plus running jobs; 0 = no cap
    retention_days: int = 90  # prompts and inputs of jobs ended longer ago are erased; 0 = keep

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter: the token, the key, and the
        password of every URL setting (as written and %-decoded)."""
        found: list[str] = [s for s in (self.discord_token, self.cometapi_key) if s]
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and "://" in value:
                found.extend(password_forms(value))
        return found

    def summary(self) -> list[tuple[str, str]]:
        """(ENV_NAME, shown value) pairs with secrets masked, for `python -m bot check`.

        Every URL is shown with its password masked, whichever setting it is.
        """
        rows: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Secret | SecretURL):
                shown = value.masked()
            elif isinstance(value, bool):
                shown = "1" if value else "0"
            elif isinstance(value, str) and "://" in value:
                shown = mask_url(value)
            elif value is None:
                shown = "(unset)"
            elif isinstance(value, tuple):
                shown = ",".join(str(v) for v in value)
            else:
                shown = mask_urls_in(str(value))  # a path, a number: anything may hold a URL
            rows.append((f.name.upper(), shown))
        return rows

    def __repr__(self) -> str:
        # What `check` shows: no token, key or password however the settings are logged.
        shown = ", ".join(f"{name.lower()}={value!r}" for name, value in self.summary())
        return f"Settings({shown})"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(
            name, f"{name} must be a whole number (got {raw!r}); set it to e.g. {default}."
        ) from None
    if value < minimum:
        raise SettingsError(
            name, f"{name} must be {minimum} or more (got {value}); set it to e.g. {default}."
        )
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str, default: bool, meaning: str) -> bool:
    """1 or 0 (true/false, yes/no and on/off are read too); `meaning` says what 1 does."""
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(name, f"{name} must be 1 ({meaning}) or 0 (got {raw!r}).")


def _budget(env: Mapping[str, str], name: str) -> Decimal:
    """An amount of US dollars with at most cents, 0 (the default) for none."""
    raw = _get(env, name)
    if raw is None:
        return Decimal(0)
    try:
        micros = parse_budget(raw)
    except ValueError:
        raise SettingsError(
            name,
            f"{name} must be an amount in US dollars with at most cents, such as 25 or 12.50, "
            f"or 0 for no budget (got {raw!r}).",
        ) from None
    return micros_to_usd(micros)


def _snowflake(env: Mapping[str, str], name: str) -> int | None:
    raw = _get(env, name)
    if raw is None:
        return None
    # isascii: str.isdigit() is also true of "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 15 <= len(raw) <= 21:
        raise SettingsError(
            name,
            f"{name} must be a Discord server id (a number of 17 to 20 digits; "
            "right-click the server with Developer Mode on and choose Copy Server ID).",
        )
    return int(raw)


def _http_url(
    env: Mapping[str, str], name: str, default: str | None, *, ws: bool = False
) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return default
    schemes = ("ws", "wss") if ws else ("http", "https")
    try:
        parsed = urlparse(raw)
        valid = parsed.scheme in schemes and bool(parsed.netloc)
    except ValueError:  # e.g. an unclosed [ in the host
        valid = False
    if not valid:
        raise SettingsError(
            name,
            f"{name} must be a full {' or '.join(schemes)} URL such as "
            f"{'wss://gateway.discord.gg' if ws else 'https://api.cometapi.com'} "
            f"(got {mask_url(raw)!r}).",
        )
    # Any URL may carry a password (a proxy in front of the API): its repr masks it.
    return SecretURL(raw.rstrip("/"))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        return False


def _retention_days(env: Mapping[str, str]) -> int:
    days = _int(env, "RETENTION_DAYS", 90)
    if days > 36_500:
        raise SettingsError(
            "RETENTION_DAYS",
            f"RETENTION_DAYS must be a number of days up to 36500, or 0 to keep everything "
            f"(got {days}).",
        )
    return days


def _scheme(url: str) -> str:
    """The scheme of a URL, lower-cased ("" if none); never raises, unlike urlparse."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def parse_shard_ids(raw: str) -> tuple[int, ...]:
    """`0,1` or `0-3` or `0-1,4` → a sorted tuple of distinct ids; ValueError if malformed."""
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            raise ValueError(part)
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if lo > hi:
                raise ValueError(part)
            ids.update(range(lo, hi + 1))
        else:
            ids.add(int(part))
    if any(i < 0 for i in ids):
        raise ValueError(raw)
    return tuple(sorted(ids))


def load_settings(env: Mapping[str, str], *, require_discord: bool = True) -> Settings:
    """Build `Settings` from an environment mapping; raise `SettingsError` on the first problem."""
    token = _get(env, "DISCORD_TOKEN")
    if require_discord and token is None:
        raise SettingsError(
            "DISCORD_TOKEN",
            "DISCORD_TOKEN is not set: copy the bot token from the Discord Developer Portal "
            "(your application → Bot → Reset Token) into .env as DISCORD_TOKEN=...",
        )
    if token is not None and (any(c.isspace() for c in token) or len(token) < 20):
        raise SettingsError(
            "DISCORD_TOKEN",
            "DISCORD_TOKEN does not look like a bot token: paste the whole token from the "
            "Developer Portal, without quotes or spaces.",
        )
    key = _get(env, "COMETAPI_KEY")
    if key is None:
        raise SettingsError(
            "COMETAPI_KEY",
            "COMETAPI_KEY is not set: create a key in the CometAPI console and put it in .env "
            "as COMETAPI_KEY=sk-...",
        )
    if any(c.isspace() for c in key):
        raise SettingsError(
            "COMETAPI_KEY", "COMETAPI_KEY contains spaces: paste the key alone, without quotes."
        )

    base_url = _http_url(env, "COMETAPI_BASE_URL", "https://api.cometapi.com")
    assert base_url is not None

    database_url = _get(env, "DATABASE_URL") or "sqlite:///data/bot.db"
    scheme = _scheme(database_url)
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise SettingsError(
            "DATABASE_URL",
            f"DATABASE_URL must start with sqlite:/// (e.g. sqlite:///data/bot.db) or "
            f"postgresql:// (got a {scheme or 'missing'!s} scheme).",
        )
    if scheme == "sqlite" and not database_url.startswith("sqlite:///"):
        raise SettingsError(
            "DATABASE_URL",
            "DATABASE_URL for SQLite needs three slashes and a path, e.g. sqlite:///data/bot.db.",
        )

    default_model = _get(env, "DEFAULT_MODEL") or "black-forest-labs/flux-schnell"
    if (
        default_model.count("/") != 1
        or default_model.startswith("/")
        or default_model.endswith("/")
    ):
        raise SettingsError(
            "DEFAULT_MODEL",
            f"DEFAULT_MODEL must be a model id of the form owner/name, such as "
            f"black-forest-labs/flux-schnell (got {default_model!r}).",
        )

    log_level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError(
            "LOG_LEVEL", f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {log_level!r})."
        )

    models_file_raw = _get(env, "MODELS_FILE")
    models_file = Path(models_file_raw) if models_file_raw else None
    if models_file is not None and not _is_file(models_file):
        raise SettingsError(
            "MODELS_FILE",
            f"MODELS_FILE points at {models_file_raw!r}, which is not a readable file: fix the "
            "path or remove the setting.",
        )

    shard_count_raw = _get(env, "SHARD_COUNT")
    shard_count = _int(env, "SHARD_COUNT", 0, minimum=1) if shard_count_raw else None
    shard_ids: tuple[int, ...] | None = None
    shard_ids_raw = _get(env, "SHARD_IDS")
    if shard_ids_raw is not None:
        if shard_count is None:
            raise SettingsError(
                "SHARD_IDS",
                "SHARD_IDS needs SHARD_COUNT: set SHARD_COUNT to the total number of shards "
                "across all processes.",
            )
        try:
            shard_ids = parse_shard_ids(shard_ids_raw)
        except ValueError:
            raise SettingsError(
                "SHARD_IDS",
                f"SHARD_IDS must list shard numbers like 0,1 or 0-3 (got {shard_ids_raw!r}).",
            ) from None
        if shard_ids and max(shard_ids) >= shard_count:
            raise SettingsError(
                "SHARD_IDS",
                f"SHARD_IDS names shard {max(shard_ids)}, but shards are numbered 0 to "
                f"{shard_count - 1} when SHARD_COUNT is {shard_count}.",
            )

    prefer_wait = _int(env, "COMETAPI_PREFER_WAIT", 0)
    if prefer_wait > 60:
        raise SettingsError(
            "COMETAPI_PREFER_WAIT",
            f"COMETAPI_PREFER_WAIT must be 0 (off) or 1 to 60 seconds (got {prefer_wait}).",
        )

    return Settings(
        discord_token=Secret(token) if token else None,
        cometapi_key=Secret(key),
        cometapi_base_url=base_url,
        database_url=SecretURL(database_url),
        default_model=default_model,
        max_concurrent_jobs=_int(env, "MAX_CONCURRENT_JOBS", 8, minimum=1),
        user_max_active_jobs=_int(env, "USER_MAX_ACTIVE_JOBS", 2, minimum=1),
        user_daily_limit=_int(env, "USER_DAILY_LIMIT", 50),
        guild_daily_limit=_int(env, "GUILD_DAILY_LIMIT", 0),
        user_cooldown_seconds=_int(env, "USER_COOLDOWN_SECONDS", 0),
        bot_daily_limit=_int(env, "BOT_DAILY_LIMIT", 0),
        bot_monthly_budget=_budget(env, "BOT_MONTHLY_BUDGET"),
        allow_dms=_flag(
            env, "ALLOW_DMS", False, "the image commands also work in DMs with the bot"
        ),
        job_timeout_seconds=_int(env, "JOB_TIMEOUT_SECONDS", 600, minimum=10),
        dev_guild_id=_snowflake(env, "DEV_GUILD_ID"),
        log_level=log_level,
        models_file=models_file,
        shard_count=shard_count,
        shard_ids=shard_ids,
        job_lease_seconds=_int(env, "JOB_LEASE_SECONDS", 30, minimum=5),
        cometapi_prefer_wait=prefer_wait,
        discord_api_base_url=_http_url(env, "DISCORD_API_BASE_URL", None),
        discord_gateway_url=_http_url(env, "DISCORD_GATEWAY_URL", None, ws=True),
        health_file=Path(health_file) if (health_file := _get(env, "HEALTH_FILE")) else None,
        guild_max_active_jobs=_int(env, "GUILD_MAX_ACTIVE_JOBS", 0),
        retention_days=_retention_days(env),
    )
