# The bot as a container: `docker build -t cometapi-image-bot .`, then
# `docker run --env-file .env -v imagebot-data:/app/data cometapi-image-bot`, or compose.yaml.
# Why it is built this way: docs/decisions/012-onboarding-containers-hosting.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HEALTH_FILE=/tmp/imagebot-heartbeat

# The project is installed the README's way (`pip install`), from a copy of its own files,
# not editable, with the PostgreSQL driver: one image serves SQLite and PostgreSQL.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot/ bot/
COPY cogs/ cogs/
RUN pip install ".[postgres,speed]" && rm -rf /src

# A user of its own; it owns only the data folder (the SQLite file lives there by default:
# DATABASE_URL=sqlite:///data/bot.db, relative to /app).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
WORKDIR /app
USER bot
VOLUME /app/data

# Healthy while the bot is connected to Discord: it touches HEALTH_FILE every 30 s.
HEALTHCHECK --interval=60s --timeout=15s --start-period=90s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

CMD ["python", "-m", "bot"]
