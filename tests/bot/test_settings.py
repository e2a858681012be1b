"""Settings: every name is read, typed and validated, and errors are one plain sentence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.settings import Secret, SettingsError, load_settings, parse_shard_ids

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"
BASE = {"DISCORD_TOKEN": TOKEN, "COMETAPI_KEY": "sk-test-1234567890"}


def env(**overrides: str) -> dict[str, str]:
    return {**BASE, **overrides}


def test_defaults_match_the_design() -> None:
    """With only the two secrets set, every other setting takes DESIGN.md's default."""
    s = load_settings(BASE)
    assert s.cometapi_base_url == "https://api.cometapi.com"
    assert s.database_url == "sqlite:///data/bot.db"
    assert s.default_model == "black-forest-labs/flux-schnell"
    assert (s.max_concurrent_jobs, s.user_max_active_jobs) == (8, 2)
    assert (s.user_daily_limit, s.guild_daily_limit, s.user_cooldown_seconds) == (50, 0, 0)
    assert (s.job_timeout_seconds, s.job_lease_seconds) == (600, 30)
    assert s.dev_guild_id is None and s.shard_count is None and s.shard_ids is None
    assert s.log_level == "INFO" and s.models_file is None
    assert s.bot_daily_limit == 0 and s.allow_dms is False
    assert s.bot_monthly_budget == 0


@pytest.mark.parametrize(
    ("overrides", "name", "fragment"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN", "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "short"}, "DISCORD_TOKEN", "does not look like a bot token"),
        ({"COMETAPI_KEY": ""}, "COMETAPI_KEY", "COMETAPI_KEY is not set"),
        ({"COMETAPI_KEY": "sk a"}, "COMETAPI_KEY", "contains spaces"),
        ({"COMETAPI_BASE_URL": "api.cometapi.com"}, "COMETAPI_BASE_URL", "full http or https URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL", "sqlite:///"),
        ({"DATABASE_URL": "sqlite://bot.db"}, "DATABASE_URL", "three slashes"),
        ({"DEFAULT_MODEL": "flux"}, "DEFAULT_MODEL", "owner/name"),
        ({"MAX_CONCURRENT_JOBS": "eight"}, "MAX_CONCURRENT_JOBS", "whole number"),
        ({"MAX_CONCURRENT_JOBS": "0"}, "MAX_CONCURRENT_JOBS", "1 or more"),
        ({"USER_MAX_ACTIVE_JOBS": "0"}, "USER_MAX_ACTIVE_JOBS", "1 or more"),
        ({"USER_DAILY_LIMIT": "-1"}, "USER_DAILY_LIMIT", "0 or more"),
        ({"GUILD_DAILY_LIMIT": "1.5"}, "GUILD_DAILY_LIMIT", "whole number"),
        ({"USER_COOLDOWN_SECONDS": "-3"}, "USER_COOLDOWN_SECONDS", "0 or more"),
        ({"BOT_DAILY_LIMIT": "-1"}, "BOT_DAILY_LIMIT", "0 or more"),
        ({"BOT_DAILY_LIMIT": "lots"}, "BOT_DAILY_LIMIT", "whole number"),
        ({"ALLOW_DMS": "maybe"}, "ALLOW_DMS", "must be 1"),
        ({"BOT_MONTHLY_BUDGET": "$25"}, "BOT_MONTHLY_BUDGET", "such as 25 or 12.50"),
        ({"BOT_MONTHLY_BUDGET": "12.505"}, "BOT_MONTHLY_BUDGET", "at most cents"),
        ({"BOT_MONTHLY_BUDGET": "-5"}, "BOT_MONTHLY_BUDGET", "0 for no budget"),
        ({"JOB_TIMEOUT_SECONDS": "5"}, "JOB_TIMEOUT_SECONDS", "10 or more"),
        ({"DEV_GUILD_ID": "abc"}, "DEV_GUILD_ID", "Discord server id"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "DEBUG, INFO"),
        ({"MODELS_FILE": "/nonexistent/models.json"}, "MODELS_FILE", "not a readable file"),
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS", "needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0-x"}, "SHARD_IDS", "like 0,1 or 0-3"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0-2"}, "SHARD_IDS", "numbered 0 to 1"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT", "1 or more"),
        ({"JOB_LEASE_SECONDS": "1"}, "JOB_LEASE_SECONDS", "5 or more"),
        ({"COMETAPI_PREFER_WAIT": "61"}, "COMETAPI_PREFER_WAIT", "1 to 60"),
        ({"DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL", "ws or wss"),
    ],
)
def test_each_bad_value_gives_its_sentence(
    overrides: dict[str, str], name: str, fragment: str
) -> None:
    """A bad value names its setting and says what would work, in one sentence."""
    with pytest.raises(SettingsError) as caught:
        load_settings(env(**overrides))
    message = str(caught.value)
    assert caught.value.name == name
    assert name in message and fragment in message
    assert "\n" not in message and message.endswith(".")


def test_generate_does_not_need_a_discord_token() -> None:
    """`generate` loads settings without DISCORD_TOKEN; the bot itself does not."""
    s = load_settings({"COMETAPI_KEY": "sk-x"}, require_discord=False)
    assert s.discord_token is None
    with pytest.raises(SettingsError):
        load_settings({"COMETAPI_KEY": "sk-x"})


def test_values_are_typed() -> None:
    """Numbers become ints, shard lists become tuples, URLs lose a trailing slash."""
    s = load_settings(
        env(
            MAX_CONCURRENT_JOBS="3",
            DEV_GUILD_ID="123456789012345678",
            SHARD_COUNT="4",
            SHARD_IDS="0-1,3",
            COMETAPI_BASE_URL="http://127.0.0.1:9/",
            LOG_LEVEL="debug",
            BOT_DAILY_LIMIT="500",
            ALLOW_DMS="1",
            BOT_MONTHLY_BUDGET="12.50",
        )
    )
    assert s.bot_daily_limit == 500 and s.allow_dms is True
    assert (
        s.bot_monthly_budget == Decimal("12.50")
        and dict(s.summary())["BOT_MONTHLY_BUDGET"] == "12.5"
    )
    assert dict(s.summary())["ALLOW_DMS"] == "1"
    assert load_settings(env(ALLOW_DMS="off")).allow_dms is False
    assert s.max_concurrent_jobs == 3 and s.dev_guild_id == 123456789012345678
    assert s.shard_count == 4 and s.shard_ids == (0, 1, 3)
    assert s.cometapi_base_url == "http://127.0.0.1:9" and s.log_level == "DEBUG"


def test_secrets_never_show_in_repr_or_summary() -> None:
    """Neither repr(settings) nor the `check` summary contains the token or the key."""
    s = load_settings(env())
    assert TOKEN not in repr(s) and "sk-test-1234567890" not in repr(s)
    shown = dict(s.summary())
    assert shown["DISCORD_TOKEN"] == "***2345" and shown["COMETAPI_KEY"] == "***7890"
    assert repr(Secret("abc")) == "Secret('***')"


def test_url_passwords_are_masked_in_repr_summary_and_known_to_the_log_filter() -> None:
    """DATABASE_URL's password (and any other URL's) is ***, and secrets() hands it to logs."""
    s = load_settings(
        env(
            DATABASE_URL="postgresql://bot:p%40ss-w0rd-1@db:5432/bot",
            COMETAPI_BASE_URL="https://proxy-user:proxy-secret-9@proxy.example/api",
        )
    )
    shown = dict(s.summary())
    assert shown["DATABASE_URL"] == "postgresql://bot:***@db:5432/bot"
    assert shown["COMETAPI_BASE_URL"] == "https://proxy-user:***@proxy.example/api"
    for secret in ("p%40ss-w0rd-1", "p@ss-w0rd-1", "proxy-secret-9"):
        assert secret not in repr(s) and secret not in str(shown)
        assert secret in s.secrets()
    assert s.database_url == "postgresql://bot:p%40ss-w0rd-1@db:5432/bot"  # still the real URL


def test_a_malformed_url_is_refused_in_one_sentence_without_its_password() -> None:
    """A URL urlparse cannot read is a SettingsError that masks the password it quotes."""
    with pytest.raises(SettingsError) as caught:
        load_settings(env(COMETAPI_BASE_URL="https://u:leaky-pass-1@[::1/api"))
    assert caught.value.name == "COMETAPI_BASE_URL"
    assert "leaky-pass-1" not in str(caught.value)


def test_retention_days_default_to_90_and_0_keeps_everything() -> None:
    """RETENTION_DAYS: 90 by default, 0 allowed (keep), negative or absurd values refused."""
    assert load_settings(BASE).retention_days == 90
    assert load_settings(env(RETENTION_DAYS="0")).retention_days == 0
    assert load_settings(env(RETENTION_DAYS="365")).retention_days == 365
    for bad in ("-1", "ninety", "100000"):
        with pytest.raises(SettingsError) as caught:
            load_settings(env(RETENTION_DAYS=bad))
        assert caught.value.name == "RETENTION_DAYS"


def test_guild_max_active_jobs_defaults_to_no_cap() -> None:
    """GUILD_MAX_ACTIVE_JOBS: 0 (none) by default, a whole number otherwise."""
    assert load_settings(BASE).guild_max_active_jobs == 0
    assert load_settings(env(GUILD_MAX_ACTIVE_JOBS="5")).guild_max_active_jobs == 5
    with pytest.raises(SettingsError):
        load_settings(env(GUILD_MAX_ACTIVE_JOBS="-2"))


def test_shard_id_ranges() -> None:
    """Shard lists accept commas and ranges and refuse nonsense."""
    assert parse_shard_ids("0-3") == (0, 1, 2, 3)
    assert parse_shard_ids("2, 0") == (0, 2)
    for bad in ("", "3-1", "a", "1,,2"):
        with pytest.raises(ValueError):
            parse_shard_ids(bad)


def test_every_setting_is_in_env_example_and_the_readme() -> None:
    """Each setting the bot reads is listed in .env.example and in the README's table."""
    from dataclasses import fields
    from pathlib import Path

    from bot.settings import Settings

    root = Path(__file__).resolve().parents[2]
    example = (root / ".env.example").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for field in fields(Settings):
        name = field.name.upper()
        assert f"\n{name}=" in example, f"{name} is not in .env.example"
        assert f"`{name}`" in readme, f"{name} is not in the README's settings table"
