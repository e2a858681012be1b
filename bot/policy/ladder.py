"""The precedence ladder: which value an /imagine request uses when several layers name one.

From the most specific to the least (docs/decisions/022-preferences-and-styles.md):

    option typed in this command  >  server style chosen in this command  >  the member's
    preference (/prefs)  >  the server's default (model only)  >  the bot's default
    (DEFAULT_MODEL; the catalog's field defaults)

A style is chosen in the command, so it is more specific than a standing preference; it only
names a model and an aspect ratio. The prompt is built the same way: the style's template
around the member's prompt, then the preference's suffix at the end. The final prompt is what
blocked terms are checked against, what is sent and what is stored.

A value from a preference or a style that this request cannot use is never a refusal: it is
dropped for this request with a `Note` (shown in the pending message and Info), and the next
layer down is used. "Cannot use": a model no longer in the catalog, or one that needs an image;
a value the chosen model does not take; a count above what the member has left today; a suffix
that a blocked term of this server matches, or that would make the prompt too long. When a
preferred model does not take a value from a higher layer (the member typed `count:4`, the
preferred model makes one image), the model yields, not the member's option. What the member
typed is judged as before: a wrong value is a refusal that names it.

Pure: no storage, no Discord. `read_layers` (below) gathers what the ladder reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.catalog import (
    Catalog,
    InputPolicy,
    InputValidationError,
    ModelSpec,
    Problem,
    UnknownModelError,
    build_input,
)
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.policy.admission import Admission
    from bot.storage.preferences import Preferences, PreferenceStore
    from bot.storage.styles import Style, StyleStore

# Higher wins. Only "style" and "preference" are soft: dropped, with a note, when unusable.
RANKS = {"option": 4, "style": 3, "preference": 2, "server": 1, "default": 0}
SOFT = frozenset({"style", "preference"})
# The slash options a style or a preference can fill (a style only aspect_ratio).
LADDER_OPTIONS = ("aspect_ratio", "format", "quality", "count")
NOTE_REASONS = (
    "unknown_model",
    "model_kind",
    "not_accepted",
    "conflict",
    "over_allowance",
    "blocked_term",
    "too_long",
)
# A suffix that starts with one of these is glued on as it is; any other after ", ".
_JOINERS = (",", ";", ".", "，", "、", "。", "；")
_MAX_ROUNDS = 12  # each round drops at least one soft layer; there are at most 7


@dataclass(frozen=True)
class Note:
    """A preference (or a style's default) this request did not use, and why."""

    setting: str  # "model", "aspect_ratio", "format", "quality", "count" or "suffix"
    source: str  # "preference" | "style"
    reason: str  # one of NOTE_REASONS
    value: Any
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """As stored on the job (JSON)."""
        return {
            "setting": self.setting,
            "source": self.source,
            "reason": self.reason,
            "value": self.value,
            **dict(self.params),
        }


@dataclass(frozen=True)
class Layers:
    """Everything the ladder reads for one /imagine."""

    options: Mapping[str, Any]  # the command's options by slash name; None = not given
    model: str | None = None  # the command's model option
    style: Style | None = None
    preferences: Preferences | None = None
    server_model: str | None = None
    bot_model: str = "black-forest-labs/flux-schnell"
    allowance: int | None = None  # images the member may still ask for today; None = no limit
    suffix_blocked: bool = False  # a blocked term of this server matches the suffix alone


@dataclass(frozen=True)
class Resolved:
    spec: ModelSpec
    input: dict[str, Any]
    prompt: str  # the final prompt: style and suffix applied
    notes: tuple[Note, ...]
    sources: Mapping[str, str]  # setting -> the layer whose value was used ("model" included)


def join_suffix(prompt: str, suffix: str) -> str:
    """The prompt with the member's suffix at its end."""
    if suffix.startswith(_JOINERS):
        return prompt.rstrip() + suffix
    return f"{prompt.rstrip()}, {suffix}"


def resolve(
    catalog: Catalog,
    layers: Layers,
    *,
    policy: InputPolicy,
    extra: str | None = None,
    rng: Callable[[], int] | None = None,
) -> Resolved:
    """The model and input for an /imagine request, climbing the ladder.

    Raises what the command's own values deserve (UnknownModelError for a typed or server
    model, UserFacingError for a model that needs an image, InputValidationError naming the
    member's values); never because of a preference or a style's default.
    """
    notes: list[Note] = []
    prompt = _final_prompt(layers, policy, notes)
    dropped: set[tuple[str, str]] = set()  # (setting, source)
    prefs = layers.preferences
    if (
        prefs is not None
        and prefs.count is not None
        and layers.options.get("count") is None
        and layers.allowance is not None
        and prefs.count > max(1, layers.allowance)
    ):
        # More than today's allowance would be refused by admission: ask for what is left
        # (the model's default), and say why.
        dropped.add(("count", "preference"))
        notes.append(
            Note("count", "preference", "over_allowance", prefs.count, {"left": layers.allowance})
        )
    for _ in range(_MAX_ROUNDS):
        model_source, model_id = _pick_model(layers, dropped)
        try:
            spec = catalog.get(model_id)
        except UnknownModelError:
            if model_source not in SOFT:
                raise
            dropped.add(("model", model_source))
            notes.append(Note("model", model_source, "unknown_model", model_id))
            continue
        if not spec.usable_for("text-to-image"):
            if model_source not in SOFT:
                raise UserFacingError("validation.model_needs_image", model=spec.label)
            dropped.add(("model", model_source))
            notes.append(Note("model", model_source, "model_kind", model_id))
            continue
        chosen = _pick_values(layers, dropped)
        options = {k: v for k, v in layers.options.items() if k not in LADDER_OPTIONS}
        options.update({name: value for name, (_, value) in chosen.items()})
        options["prompt"] = prompt
        try:
            model_input = build_input(spec, options, extra=extra, policy=policy, rng=rng)
        except InputValidationError as exc:
            blamed = _blame(exc.problems, chosen, model_source, spec)
            if not blamed:
                raise
            for note in blamed:
                dropped.add((note.setting, note.source))
                notes.append(note)
            continue
        sources = {name: source for name, (source, _) in chosen.items()}
        sources["model"] = model_source
        return Resolved(spec, model_input, prompt, tuple(notes), sources)
    raise RuntimeError("the precedence ladder did not settle")  # pragma: no cover


def _final_prompt(layers: Layers, policy: InputPolicy, notes: list[Note]) -> str:
    typed = str(layers.options.get("prompt") or "")
    prompt = layers.style.apply(typed) if layers.style is not None else typed
    suffix = layers.preferences.suffix if layers.preferences is not None else None
    if not suffix:
        return prompt
    if layers.suffix_blocked:
        notes.append(Note("suffix", "preference", "blocked_term", suffix))
        return prompt
    joined = join_suffix(prompt, suffix)
    if len(joined.strip()) > policy.max_prompt_length:
        notes.append(
            Note("suffix", "preference", "too_long", suffix, {"max": policy.max_prompt_length})
        )
        return prompt
    return joined


def _pick_model(layers: Layers, dropped: set[tuple[str, str]]) -> tuple[str, str]:
    style_model = layers.style.model if layers.style is not None else None
    pref_model = layers.preferences.model if layers.preferences is not None else None
    candidates = (
        ("option", layers.model),
        ("style", style_model),
        ("preference", pref_model),
        ("server", layers.server_model),
        ("default", layers.bot_model),
    )
    for source, value in candidates:
        if value and ("model", source) not in dropped:
            return source, value
    return "default", layers.bot_model


def _pick_values(layers: Layers, dropped: set[tuple[str, str]]) -> dict[str, tuple[str, Any]]:
    """option name -> (layer, value) for every option some layer gives."""
    chosen: dict[str, tuple[str, Any]] = {
        name: ("option", value)
        for name, value in layers.options.items()
        if value is not None and name != "prompt"
    }
    prefs = layers.preferences.values() if layers.preferences is not None else {}
    style = layers.style
    for name in LADDER_OPTIONS:
        if name in chosen:
            continue
        styled = style.aspect_ratio if style is not None and name == "aspect_ratio" else None
        if styled and (name, "style") not in dropped:
            chosen[name] = ("style", styled)
            continue
        if name in prefs and (name, "preference") not in dropped:
            chosen[name] = ("preference", prefs[name])
    return chosen


def _blame(
    problems: list[Problem],
    chosen: Mapping[str, tuple[str, Any]],
    model_source: str,
    spec: ModelSpec,
) -> list[Note]:
    """Which soft layers to drop for these problems; empty when the member's values are at fault.

    A soft value the model does not take yields when its layer is not above the model's (or
    the model is the server's or the bot's, which cannot yield); a soft model yields to
    anything above it, and to anything else the member typed. When the model yields, only it
    goes this round: the values are judged again against the next model.
    """
    values: list[Note] = []
    for problem in problems:
        source, value = chosen.get(problem.field or "", (None, None))
        if source in SOFT and (RANKS[source] <= RANKS[model_source] or model_source not in SOFT):
            values.append(
                Note(problem.field or "", source, "not_accepted", value, {"model": spec.label})
            )
        elif model_source in SOFT:
            option = problem.field or ""
            return [Note("model", model_source, "conflict", spec.id, {"option": option})]
    return values


def check_style_defaults(catalog: Catalog, model: str | None, aspect_ratio: str | None) -> None:
    """What `/settings style add` checks of a style's defaults against the catalog today: a
    model that exists and makes images from text, and a ratio that model (or, without one,
    some model of /imagine) takes. Raises UserFacingError with the sentence's key.

    A style's defaults stay soft afterwards: when the catalog changes, the ladder drops them
    with a note rather than refusing every request that names the style.
    """
    spec = None
    if model is not None:
        spec = catalog.get(model)  # UnknownModelError: the caller says which one
        if not spec.usable_for("text-to-image"):
            raise UserFacingError("validation.model_needs_image", model=spec.label)
    if aspect_ratio is None:
        return
    if spec is None:
        allowed = catalog.aspect_ratio_choices("text-to-image")
    else:
        field = spec.option_field("aspect_ratio")
        allowed = [str(c) for c in (field.choices or ())] if field is not None else []
    if aspect_ratio not in allowed:
        raise UserFacingError(
            "settings.style.aspect_ratio",
            value=aspect_ratio,
            model=spec.label if spec is not None else "/imagine",
            allowed=", ".join(allowed) or "—",
        )


async def read_layers(
    *,
    preferences: PreferenceStore,
    styles: StyleStore,
    admission: Admission,
    options: Mapping[str, Any],
    model: str | None,
    style_name: str | None,
    user_id: int,
    guild_id: int | None,
    role_ids: frozenset[int],
    server_model: str | None,
    bot_model: str,
    terms_version: int | None = None,
) -> Layers:
    """Read what the ladder needs: the member's preferences, the named style, and, only when a
    preference needs them, today's allowance and a blocked-term match of the suffix.

    Raises UserFacingError("refusal.unknown_style") for a style the server does not have
    (the member named it: that is theirs to fix).
    """
    style = None
    if style_name:
        style = await styles.get(guild_id, style_name) if guild_id is not None else None
        if style is None:
            names = await styles.names(guild_id) if guild_id is not None else []
            raise UserFacingError(
                "refusal.unknown_style", style=style_name, styles=", ".join(names) or "—"
            )
    prefs = await preferences.get(user_id)
    allowance = None
    if prefs.count is not None and prefs.count > 1 and options.get("count") is None:
        left = await admission.remaining(user_id, guild_id, role_ids)
        known = [n for n in (left["remaining"], left["guild_remaining"]) if n is not None]
        allowance = min(known) if known else None
    blocked = False
    if prefs.suffix and guild_id is not None:
        term = await admission.blocked_term(guild_id, prefs.suffix, version=terms_version)
        blocked = term is not None
    return Layers(
        options=options,
        model=model,
        style=style,
        preferences=prefs,
        server_model=server_model,
        bot_model=bot_model,
        allowance=allowance,
        suffix_blocked=blocked,
    )


__all__ = [
    "LADDER_OPTIONS",
    "NOTE_REASONS",
    "RANKS",
    "Layers",
    "Note",
    "Resolved",
    "check_style_defaults",
    "join_suffix",
    "read_layers",
    "resolve",
]
