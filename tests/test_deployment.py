"""The deployment files say what the README says: Dockerfile, compose.yaml, the Procfile host's
requirements.txt and .python-version (no container runtime needed: they are read, not run)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def instruction(name: str) -> list[str]:
    return [args for word, args in dockerfile() if word == name]


def pip_install_line() -> str:
    """The RUN line's `pip install ...` command, up to the next `&&`."""
    run = next(args for args in instruction("RUN") if "pip install" in args)
    return run.split("&&")[0].strip()


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_the_image_is_slim_official_python_of_the_pinned_version() -> None:
    """FROM python:X.Y-slim, the same X.Y as .python-version, within requires-python."""
    (base,) = instruction("FROM")
    match = re.fullmatch(r"python:(\d+\.\d+)-slim", base)
    assert match, base
    pinned = (ROOT / ".python-version").read_text().strip()
    assert match.group(1) == pinned
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(map(int, pinned.split("."))) >= (3, 11)


def test_the_image_installs_the_project_as_the_readme_does() -> None:
    """`pip install` of this project (`.`), with the postgres extra, quoted in the README."""
    command = pip_install_line()
    words = shlex.split(command)
    assert words[:2] == ["pip", "install"] and words[2:] == [".[postgres,speed]"]
    assert "pip install -e . &&" in README  # the quick start: the same project, editable
    assert command in README  # the container section shows the image's own command


def test_the_image_runs_the_bot_as_a_user_with_the_data_folder_a_volume() -> None:
    """CMD python -m bot, a non-root USER, VOLUME /app/data where the default SQLite file is."""
    assert [json.loads(c) for c in instruction("CMD")] == [["python", "-m", "bot"]]
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    assert instruction("VOLUME") == ["/app/data"]
    assert instruction("WORKDIR")[-1] == "/app"
    default = Settings.__dataclass_fields__["database_url"].default
    assert default == "sqlite:///data/bot.db"  # relative: /app/data/bot.db in the image
    order = [word for word, _ in dockerfile()]
    assert order.index("USER") < order.index("CMD")


def test_the_health_check_asks_the_bot_for_its_heartbeat() -> None:
    """HEALTHCHECK runs `python -m bot health`, and the image sets the HEALTH_FILE it reads."""
    (check,) = instruction("HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "bot", "health"]')
    env = " ".join(instruction("ENV"))
    assert re.search(r"HEALTH_FILE=/tmp/\S+", env)


def test_the_build_context_never_takes_the_env_file() -> None:
    """.dockerignore starts from nothing and lets in only the project, never .env."""
    lines = (ROOT / ".dockerignore").read_text().split("\n")
    rules = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    assert rules[0] == "*"
    assert "!.env" not in rules and not any(".env" in r and r.startswith("!") for r in rules)
    copied = {args.split()[0].rstrip("/") for args in instruction("COPY")}
    copied |= {part for args in instruction("COPY") for part in args.split()[:-1]}
    for source in ("pyproject.toml", "README.md", "bot/", "cogs/"):
        assert f"!{source}" in rules and source.rstrip("/") in {c.rstrip("/") for c in copied}


def test_compose_runs_the_bot_with_a_volume_and_postgres_behind_a_profile() -> None:
    """The bot: .env, a named volume on /app/data, no profile; postgres: only with the profile."""
    spec = compose()
    bot, postgres = spec["services"]["bot"], spec["services"]["postgres"]
    assert bot["build"] == "." and bot["env_file"] == ".env" and "profiles" not in bot
    volume, _, target = bot["volumes"][0].partition(":")
    assert target == "/app/data" and volume in spec["volumes"]
    assert postgres["profiles"] == ["postgres"]
    assert bot["depends_on"]["postgres"] == {"condition": "service_healthy", "required": False}
    assert postgres["image"].startswith("postgres:")
    assert postgres["volumes"][0].split(":")[0] in spec["volumes"]


def test_the_documented_postgres_url_reaches_the_compose_database() -> None:
    """The DATABASE_URL the README and compose.yaml give matches the postgres service."""
    env = compose()["services"]["postgres"]["environment"]
    url = f"postgresql://{env['POSTGRES_USER']}:imagebot@postgres:5432/{env['POSTGRES_DB']}"
    assert url in (ROOT / "compose.yaml").read_text()
    assert url in README
    assert "docker compose --profile postgres up" in README


def test_procfile_hosts_build_the_project_with_the_postgres_driver() -> None:
    """requirements.txt is this project with the postgres extra; the Procfile runs the bot."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    requirements = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    assert requirements == [".[postgres,speed]"]
    assert (
        "postgres"
        in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    assert (ROOT / "Procfile").read_text().strip() == "worker: python -m bot"
    assert not (ROOT / "runtime.txt").exists()  # deprecated by the buildpack: .python-version
