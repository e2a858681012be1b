"""Property tests (hypothesis) of the settings parser: whatever the environment holds, the
result is Settings or one SettingsError sentence naming a setting, never a traceback, and a
secret never appears in that sentence."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.settings import Settings, SettingsError, load_settings

PROPERTY = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAMES = sorted({f.name.upper() for f in fields(Settings)} | {"SHARD_COUNT", "SHARD_IDS"})
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"
PASSWORD = "hunter2-secret"

# Numbers the way people (and copy-paste) write them: unicode digits, signs, exponents,
# huge values, spaces, ranges; URLs with and without passwords; and plain noise.
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e3",
        "²²²²²²²²²²²²²²²²²",  # digits to str.isdigit, not to int()
        "１２３４５６７８９０１２３４５６７８",  # full-width digits
        "9" * 5000,
        "0-3",
        "3-1",
        "0,,1",
        "DEBUG",
        "sqlite:///data/bot.db",
        "sqlite://nope",
        f"postgresql://bot:{PASSWORD}@db:5432/bot",
        f"postgresql://bot:{PASSWORD}@[::1/bot",
        f"https://user:{PASSWORD}@[bad/api",
        "https://api.cometapi.com",
        "wss://gateway.discord.gg",
        "owner/name",
        "/etc/passwd",
        "a\x00b",
        "123456789012345678",
    ]
)
# What an operator would write for each setting, so that many environments load.
PLAUSIBLE = {
    "DISCORD_TOKEN": st.just(TOKEN),
    "COMETAPI_KEY": st.just("sk-test-1234567890"),
    "COMETAPI_PREFER_WAIT": st.integers(0, 60).map(str),
    "DATABASE_URL": st.sampled_from(["sqlite:///data/bot.db", "postgresql://u@h:5432/db"]),
    "DEFAULT_MODEL": st.just("black-forest-labs/flux-dev"),
    "LOG_LEVEL": st.sampled_from(["debug", "INFO", "WARNING"]),
    "COMETAPI_BASE_URL": st.just("https://api.cometapi.com"),
    "DISCORD_API_BASE_URL": st.just("http://127.0.0.1:9/api"),
    "DISCORD_GATEWAY_URL": st.just("ws://127.0.0.1:9"),
    "DEV_GUILD_ID": st.integers(10**16, 10**19).map(str),
    "SHARD_COUNT": st.just("4"),
    "HEALTH_FILE": st.just("/tmp/heartbeat"),
    "MODELS_FILE": st.just(""),
}
NUMBER = st.integers(min_value=10, max_value=600).map(str)


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    """An operator's plausible settings, with up to three of them tricky or any text."""
    env: dict[str, str] = {}
    for name in NAMES:
        if name != "SHARD_IDS" and draw(st.booleans()):
            env[name] = draw(PLAUSIBLE.get(name, NUMBER))
    if "SHARD_COUNT" in env and draw(st.booleans()):
        env["SHARD_IDS"] = draw(st.sampled_from(["0", "0-1", "1,3"]))
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True)):
        env[name] = draw(st.one_of(TRICKY, st.text(max_size=30)))
    return env


URL = f"postgresql://bot:{PASSWORD}@db:5432/bot"


@PROPERTY
@given(env=environments(), require_discord=st.booleans(), with_secrets=st.booleans())
# What this test found once, kept: digits int() refuses, a path the system refuses, and a
# password quoted back by a refusal or shown by repr.
@example(env={"DEV_GUILD_ID": "²" * 17}, require_discord=True, with_secrets=True)
@example(env={"MODELS_FILE": "9" * 5000}, require_discord=True, with_secrets=True)
@example(env={"DEFAULT_MODEL": URL}, require_discord=True, with_secrets=True)
@example(env={"COMETAPI_PREFER_WAIT": URL}, require_discord=True, with_secrets=True)
@example(env={"HEALTH_FILE": URL}, require_discord=True, with_secrets=True)
def test_any_environment_gives_settings_or_one_sentence(
    env: dict[str, str], require_discord: bool, with_secrets: bool
) -> None:
    """load_settings never raises anything but SettingsError, a single line that names a
    setting and leaks no password."""
    if with_secrets:
        env = {"DISCORD_TOKEN": TOKEN, "COMETAPI_KEY": "sk-test-1234567890", **env}
    try:
        loaded = load_settings(env, require_discord=require_discord)
    except SettingsError as error:
        event("refused")
        text = str(error)
        assert error.name in NAMES and error.name in text
        assert "\n" not in text and PASSWORD not in text
        return
    event("loaded")
    assert PASSWORD not in repr(loaded) and PASSWORD not in str(loaded.summary())
