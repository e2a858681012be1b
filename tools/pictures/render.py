"""A recorded message payload → one HTML page laid out the way Discord's dark theme shows it.

Only what the bot's messages use: the "X used /command" line, the bot's name with its APP tag,
content, an attachment mosaic, embeds (colour bar, title, description, inline and full-width
fields, footer), rows of buttons in their styles, and the "Only you can see this" line of an
ephemeral reply. Discord's markdown subset the bot writes is rendered (bold, italics, inline
code, mentions, `<t:…>` timestamps); every text is HTML-escaped first.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

EPHEMERAL = 1 << 6
BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}
TEXT = {
    "en-US": {
        "used": "used",
        "today": "Today at {time}",
        "only_you": "Only you can see this",
        "dismiss": "Dismiss message",
        "app": "APP",
    },
    "zh-TW": {
        "used": "使用了",
        "today": "今天 {time}",
        "only_you": "只有你才能看到這則訊息",
        "dismiss": "關閉訊息",
        "app": "應用程式",
    },
}

CSS = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: #313338; color: #dbdee1; width: 760px;
  font: 16px/1.375 "Noto Sans", "Noto Sans CJK TC", "DejaVu Sans", sans-serif, "Noto Color Emoji"; }
.channel { height: 48px; display: flex; align-items: center; padding: 0 16px; color: #f2f3f5;
  font-weight: 600; box-shadow: 0 1px 0 rgba(4,4,5,.2), 0 1.5px 0 rgba(6,6,7,.05); }
.channel .hash { color: #80848e; font-size: 24px; font-weight: 400; margin-right: 8px; }
.messages { padding: 16px 0 20px; }
.message { position: relative; padding: 2px 48px 6px 72px; }
.message.ephemeral { background: rgba(88,101,242,.06); }
.command { display: flex; align-items: center; gap: 4px; font-size: 14px; color: #949ba4;
  margin-left: -2px; margin-bottom: 2px; }
.command::before { content: ""; position: absolute; left: 36px; top: 11px; width: 30px;
  height: 10px; border-left: 2px solid #4e5058; border-top: 2px solid #4e5058;
  border-top-left-radius: 6px; }
.mini-avatar { width: 16px; height: 16px; border-radius: 50%; display: inline-block; }
.command .who { color: #dbdee1; font-weight: 500; }
.command .name { color: #00a8fc; }
.avatar { position: absolute; left: 16px; width: 40px; height: 40px; border-radius: 50%;
  display: flex; align-items: center; justify-content: center; font-size: 22px;
  background: #5865f2; margin-top: 2px; }
.header { display: flex; align-items: center; gap: 4px; }
.author { color: #f2f3f5; font-weight: 500; }
.tag { background: #5865f2; color: #fff; font-size: 10px; font-weight: 600; line-height: 15px;
  padding: 0 4px; border-radius: 4px; margin-left: 2px; }
.time { color: #949ba4; font-size: 12px; margin-left: 4px; }
.content { white-space: pre-wrap; word-wrap: break-word; }
.mosaic { display: grid; gap: 4px; margin-top: 6px; max-width: 550px; }
.mosaic.n1 { grid-template-columns: 1fr; max-width: 400px; }
.mosaic.n2, .mosaic.n4 { grid-template-columns: 1fr 1fr; }
.mosaic.n3 { grid-template-columns: 1fr 1fr 1fr; }
.mosaic img { width: 100%; aspect-ratio: 1 / 1; object-fit: cover; border-radius: 8px;
  display: block; background: #2b2d31; }
.embed { display: flex; max-width: 520px; margin-top: 6px; background: #2b2d31;
  border-radius: 4px; overflow: hidden; }
.embed .bar { width: 4px; flex: none; }
.embed .body { padding: 8px 16px 16px 12px; display: grid; grid-template-columns: repeat(3, auto);
  column-gap: 16px; flex: 1; }
.embed .title { grid-column: 1 / -1; color: #f2f3f5; font-weight: 600; margin-top: 8px; }
.embed .description { grid-column: 1 / -1; font-size: 14px; margin-top: 8px;
  white-space: pre-wrap; }
.fields { grid-column: 1 / -1; display: grid; grid-template-columns: repeat(3, 1fr);
  gap: 8px 16px; margin-top: 8px; }
.field { font-size: 14px; min-width: 0; }
.field.wide { grid-column: 1 / -1; }
.field .name { color: #f2f3f5; font-weight: 600; margin-bottom: 2px; }
.field .value { white-space: pre-wrap; word-wrap: break-word; }
.embed .footer { grid-column: 1 / -1; font-size: 12px; color: #b5bac1; margin-top: 8px; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 85%; background: #1e1f22;
  border: 1px solid #1e1f22; border-radius: 4px; padding: 0 .2em; }
.mention { background: rgba(88,101,242,.3); color: #c9cdfb; border-radius: 3px;
  padding: 0 2px; font-weight: 500; }
.stamp { background: rgba(78,80,88,.48); border-radius: 3px; padding: 0 2px; }
.row { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.button { height: 32px; min-width: 60px; padding: 2px 16px; border-radius: 8px; color: #fff;
  font-size: 14px; font-weight: 500; display: inline-flex; align-items: center; gap: 6px; }
.button.primary { background: #5865f2; }
.button.secondary, .button.link { background: #4e5058; }
.button.success { background: #248046; }
.button.danger { background: #da373c; }
.button.disabled { opacity: .5; }
.only-you { font-size: 12px; color: #949ba4; margin-top: 6px; display: flex; gap: 6px;
  align-items: center; }
.only-you .dismiss { color: #00a8fc; }
"""

_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _when(epoch: float, style: str, locale: str, now: float) -> str:
    """Discord's `<t:…:style>` as the client shows it (UTC)."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    zh = locale.startswith("zh")
    if style == "R":
        return _relative(epoch - now, zh)
    if style in ("t", "T"):
        if zh:
            return moment.strftime("%H:%M:%S" if style == "T" else "%H:%M")
        hour = moment.hour % 12 or 12
        suffix = "AM" if moment.hour < 12 else "PM"
        seconds = f":{moment.second:02d}" if style == "T" else ""
        return f"{hour}:{moment.minute:02d}{seconds} {suffix}"
    if zh:
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{_MONTHS_EN[moment.month - 1]} {moment.day}, {moment.year}"


def _relative(seconds: float, zh: bool) -> str:
    future, span = seconds > 0, abs(seconds)
    if span < 45:
        return (
            ("幾秒後" if future else "幾秒前")
            if zh
            else ("in a few seconds" if future else "a few seconds ago")
        )
    for size, en, tw in ((86400, "day", "天"), (3600, "hour", "小時"), (60, "minute", "分鐘")):
        if span >= size * 0.75 or size == 60:
            count = max(1, round(span / size))
            if zh:
                return f"{count} {tw}{'後' if future else '前'}"
            unit = en if count == 1 else en + "s"
            return f"in {count} {unit}" if future else f"{count} {unit} ago"
    raise AssertionError("unreachable")


def markdown(text: str, *, users: dict[str, str], locale: str, now: float) -> str:
    """Discord's markdown subset the bot writes, escaped first."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`\n]+)`", lambda m: f"<code>{m.group(1)}</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", out)
    out = re.sub(
        r"&lt;@!?(\d+)&gt;",
        lambda m: f'<span class="mention">@{html.escape(users.get(m.group(1), "unknown"))}</span>',
        out,
    )
    out = re.sub(r"&lt;#(\d+)&gt;", r'<span class="mention">#channel</span>', out)
    out = re.sub(r"&lt;@&amp;(\d+)&gt;", r'<span class="mention">@role</span>', out)
    return re.sub(
        r"&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;",
        lambda m: (
            '<span class="stamp">'
            + html.escape(_when(int(m.group(1)), m.group(2) or "f", locale, now))
            + "</span>"
        ),
        out,
    )


def _colour(value: int | None) -> str:
    return f"#{value:06x}" if value else "#1e1f22"


def _embed(embed: dict[str, Any], md: Any) -> str:
    parts = []
    if embed.get("title"):
        parts.append(f'<div class="title">{md(embed["title"])}</div>')
    if embed.get("description"):
        parts.append(f'<div class="description">{md(embed["description"])}</div>')
    fields = []
    for field in embed.get("fields") or []:
        wide = "" if field.get("inline") else " wide"
        fields.append(
            f'<div class="field{wide}"><div class="name">{md(field["name"])}</div>'
            f'<div class="value">{md(field["value"])}</div></div>'
        )
    if fields:
        parts.append(f'<div class="fields">{"".join(fields)}</div>')
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        parts.append(f'<div class="footer">{md(footer)}</div>')
    bar = _colour(embed.get("color"))
    return (
        f'<div class="embed"><div class="bar" style="background:{bar}"></div>'
        f'<div class="body">{"".join(parts)}</div></div>'
    )


def _buttons(components: list[dict[str, Any]]) -> str:
    rows = []
    for row in components:
        buttons = []
        for item in row.get("components") or []:
            if item.get("type") != 2:
                continue
            style = BUTTON_STYLES.get(item.get("style", 2), "secondary")
            disabled = " disabled" if item.get("disabled") else ""
            emoji = (item.get("emoji") or {}).get("name") or ""
            icon = f'<span class="emoji">{html.escape(emoji)}</span>' if emoji else ""
            label = html.escape(item.get("label") or "")
            buttons.append(f'<span class="button {style}{disabled}">{icon}{label}</span>')
        rows.append(f'<div class="row">{"".join(buttons)}</div>')
    return "".join(rows)


def _mosaic(attachments: list[dict[str, Any]], base: Path | None) -> str:
    images = [a for a in attachments if str(a.get("content_type", "")).startswith("image/")]
    if not images:
        return ""
    tags = []
    for attachment in images:
        source = attachment["url"]
        if base is not None and not re.match(r"^[a-z]+:", source):
            source = (base / source).resolve().as_uri()
        alt = html.escape(attachment.get("filename", ""))
        tags.append(f'<img class="attachment" src="{html.escape(source)}" alt="{alt}">')
    return f'<div class="mosaic n{min(len(images), 4)}">{"".join(tags)}</div>'


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def render_html(document: dict[str, Any], base: Path | None = None) -> str:
    """The page for one recorded scene; `base` resolves relative attachment paths."""
    message = document["message"]
    locale = document.get("locale", "en-US")
    words = TEXT.get(locale, TEXT["en-US"])
    users = {str(k): str(v) for k, v in (document.get("users") or {}).items()}
    now = _epoch(message.get("edited_timestamp") or message.get("timestamp"))

    def md(text: str) -> str:
        return markdown(str(text), users=users, locale=locale, now=now)

    author = message.get("author") or {}
    name = html.escape(author.get("global_name") or author.get("username") or "")
    meta = message.get("interaction_metadata") or {}
    command = ""
    if meta.get("name"):
        who = meta.get("user") or {}
        who_name = html.escape(who.get("global_name") or who.get("username") or "")
        command = (
            '<div class="command"><span class="mini-avatar" style="background:#3ba55d"></span>'
            f'<span class="who">{who_name}</span> {words["used"]} '
            f'<span class="name">/{html.escape(meta["name"])}</span></div>'
        )
    posted = dt.datetime.fromtimestamp(_epoch(message.get("timestamp")), dt.UTC)
    time_text = words["today"].format(time=_when(posted.timestamp(), "t", locale, now))
    ephemeral = bool(int(message.get("flags") or 0) & EPHEMERAL)
    body = [
        command,
        '<div class="avatar">🖼️</div>',
        f'<div class="header"><span class="author">{name}</span>'
        f'<span class="tag">{words["app"]}</span>'
        f'<span class="time">{html.escape(time_text)}</span></div>',
    ]
    if message.get("content"):
        body.append(f'<div class="content">{md(message["content"])}</div>')
    body.append(_mosaic(message.get("attachments") or [], base))
    body.extend(_embed(embed, md) for embed in message.get("embeds") or [])
    body.append(_buttons(message.get("components") or []))
    if ephemeral:
        body.append(
            f'<div class="only-you">👁️ {words["only_you"]} · '
            f'<span class="dismiss">{words["dismiss"]}</span></div>'
        )
    channel = html.escape(document.get("channel") or "general")
    classes = "message ephemeral" if ephemeral else "message"
    return (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(document.get('scene', ''))}</title><style>{CSS}</style></head>"
        f'<body><div class="channel"><span class="hash">#</span>{channel}</div>'
        f'<div class="messages"><div class="{classes}">{"".join(body)}</div></div></body></html>'
    )


__all__ = ["render_html"]
