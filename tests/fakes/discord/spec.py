"""Discord's published OpenAPI description, used to check every request the bot makes.

The fake answers each REST call, but first it asks this module two questions: does the route
exist (method + path template), and does the JSON body (or a multipart `payload_json`) validate
against the route's request schema? A request Discord would refuse becomes a recorded
violation and a 400 `Invalid Form Body`, so the test that caused it fails.

The spec is 1 MB; it is parsed once per process and each route's validator is compiled on
first use and cached (`load_spec()` is memoised).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

# The spec is vendored beside this module (MIT, see spec/SOURCE.md) so the suite runs anywhere;
# DISCORD_OPENAPI_SPEC points at another copy when someone wants to test against a newer one.
DEFAULT_SPEC_PATH = Path(__file__).with_name("spec") / "openapi.json"
_SPEC_URI = "urn:discord-openapi"


# --------------------------------------------------------------------------------------------
# Known, accepted differences between discord.py's output and the spec.
#
# Each entry names what discord.py sends, why Discord accepts it, and the JSON paths (relative
# to the request body; `*` matches any list index or key) where the value is normalised before
# validation. Everything else is validated as the spec says. Add an entry only with evidence
# that Discord accepts the payload (docs, or the library working against the real API).
# --------------------------------------------------------------------------------------------


def _int_to_snowflake(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


@dataclass(frozen=True)
class Discrepancy:
    """One accepted difference: `fix` is applied at every matching `path` of matching routes."""

    why: str
    paths: tuple[str, ...]
    fix: Callable[[Any], Any]
    routes: tuple[str, ...] = ("*",)  # "METHOD /template" or "*"


_MESSAGE_BODIES = ("", "data.")  # a message body, or the `data` of an interaction callback

KNOWN_DISCREPANCIES: tuple[Discrepancy, ...] = (
    Discrepancy(
        why=(
            "discord.py numbers new uploads in `attachments` by their index (`{'id': 0}`), an "
            "integer; the spec types every attachment id as a snowflake string. Discord documents "
            "the index form and accepts integers for snowflakes."
        ),
        paths=tuple(f"{base}attachments.*.id" for base in _MESSAGE_BODIES),
        fix=_int_to_snowflake,
    ),
    Discrepancy(
        why=(
            "discord.py's AllowedMentions.to_dict() lists user and role ids as integers; the spec "
            "types them as snowflake strings. Discord accepts integer snowflakes."
        ),
        paths=tuple(
            f"{base}allowed_mentions.{kind}.*"
            for base in _MESSAGE_BODIES
            for kind in ("users", "roles")
        ),
        fix=_int_to_snowflake,
    ),
    Discrepancy(
        why=(
            "discord.py sends `recipient_id` as an integer when opening a DM; the spec types it "
            "as a snowflake string. Discord accepts integer snowflakes."
        ),
        paths=("recipient_id",),
        fix=_int_to_snowflake,
        routes=("POST /users/@me/channels",),
    ),
    Discrepancy(
        why=(
            "discord.py sends message_reference ids as integers (replies); the spec types them as "
            "snowflake strings. Discord accepts integer snowflakes."
        ),
        paths=tuple(f"message_reference.{key}" for key in ("message_id", "channel_id", "guild_id")),
        fix=_int_to_snowflake,
    ),
)


def _apply_at(node: Any, parts: list[str], fix: Callable[[Any], Any]) -> Any:
    if not parts:
        return fix(node)
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if head == "*":
            return [_apply_at(item, rest, fix) for item in node]
        if head.isdigit() and int(head) < len(node):
            node = list(node)
            node[int(head)] = _apply_at(node[int(head)], rest, fix)
        return node
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
        if not keys:
            return node
        node = dict(node)
        for key in keys:
            node[key] = _apply_at(node[key], rest, fix)
        return node
    return node


def normalise(
    route: str, body: Any, discrepancies: Iterable[Discrepancy] = KNOWN_DISCREPANCIES
) -> Any:
    """Return a copy of `body` with the accepted discrepancies for `route` rewritten."""
    result = copy.deepcopy(body)
    for item in discrepancies:
        if "*" not in item.routes and route not in item.routes:
            continue
        for path in item.paths:
            result = _apply_at(result, path.split("."), item.fix)
    return result


# --------------------------------------------------------------------------------------------
# Routes and validators
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    method: str
    template: str  # as written in the spec, e.g. /channels/{channel_id}/messages
    params: dict[str, str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int


def _compile_template(template: str) -> re.Pattern[str]:
    out = []
    for segment in template.strip("/").split("/"):
        name = re.fullmatch(r"\{(\w+)\}", segment)
        out.append(f"(?P<{name.group(1)}>[^/]+)" if name else re.escape(segment))
    return re.compile("^/" + "/".join(out) + "/?$")


def _pointer(*parts: str) -> str:
    escaped = "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + quote(escaped, safe="/~")


_DISCORD_ERROR_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "maximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
    "required": "BASE_TYPE_REQUIRED",
    "type": "BASE_TYPE_BAD_TYPE",
    "enum": "BASE_TYPE_CHOICES",
    "pattern": "STRING_TYPE_REGEX",
}


@dataclass(frozen=True)
class SchemaViolation:
    """One reason a body does not validate: where, what, and the Discord-style error code."""

    path: tuple[str | int, ...]
    message: str
    keyword: str

    @property
    def code(self) -> str:
        return _DISCORD_ERROR_CODES.get(self.keyword, f"SCHEMA_{self.keyword.upper()}")

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<body>"
        return f"{where}: {self.message}"


def _is_discriminator_failure(error: ValidationError) -> bool:
    """True when a union branch failed because it is the wrong branch, not a bad value."""
    path = list(error.relative_path)
    if not path and error.validator == "type":
        return True
    return path == ["type"] and error.validator in ("enum", "const")


def _leaf_errors(error: ValidationError) -> Iterator[tuple[ValidationError, str | None]]:
    """Descend through anyOf/oneOf into the branch the payload was meant for.

    Discord's unions are discriminated by a `type` field (or null vs object), so a branch that
    fails on the discriminator is simply not the payload's branch; the remaining branch's
    errors are the real ones. Yields (error, message override).
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield error, None
        return
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    candidates = [
        errors for errors in branches.values() if not any(map(_is_discriminator_failure, errors))
    ]
    if len(candidates) == 1:
        for sub in candidates[0]:
            yield from _leaf_errors(sub)
        return
    root_types = [
        sub.validator_value
        for errors in branches.values()
        for sub in errors
        if not sub.relative_path and sub.validator == "type"
    ]
    if not candidates and len(root_types) == len(branches):
        # e.g. `oneOf: [null, snowflake]` given an integer: say what would have been accepted.
        names = [t if isinstance(t, str) else "/".join(t) for t in root_types]
        yield error, f"{error.instance!r} is not of type {' or '.join(repr(n) for n in names)}"
        return
    best = best_match(error.context)
    if best is None or best is error:
        yield error, None
    else:
        yield from _leaf_errors(best)


def _describe(error: ValidationError) -> str:
    """A short sentence in Discord's words where it has them; never the whole (huge) value."""
    limit, instance = error.validator_value, error.instance
    if error.validator in ("maxLength", "maxItems") and hasattr(instance, "__len__"):
        return f"Must be {limit} or fewer in length (got {len(instance)})."
    if error.validator in ("minLength", "minItems") and hasattr(instance, "__len__"):
        return f"Must be {limit} or more in length (got {len(instance)})."
    if error.validator == "maximum":
        return f"int value should be less than or equal to {limit} (got {instance})."
    if error.validator == "minimum":
        return f"int value should be greater than or equal to {limit} (got {instance})."
    message = error.message
    return message if len(message) <= 300 else message[:140] + " … " + message[-140:]


class OpenAPISpec:
    """Route lookup and request-body validation against one parsed OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _SPEC_URI, DRAFT202012.create_resource(document)
        )
        routes = []
        for template, item in document["paths"].items():
            for method in item:
                if method in ("get", "put", "post", "patch", "delete"):
                    literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
                    routes.append(
                        _Route(method.upper(), template, _compile_template(template), literal)
                    )
        # `/messages/@original` must win over `/messages/{message_id}`: most literal first.
        routes.sort(key=lambda r: -r.literal_segments)
        self._routes = routes
        self._validators: dict[str, Draft202012Validator | None] = {}

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The spec route for `method path` (path relative to /api/v10), or None."""
        method = method.upper()
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return RouteMatch(method, route.template, found.groupdict())
        return None

    def path_exists(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self._routes)

    def body_required(self, route: RouteMatch) -> bool:
        operation = self.document["paths"][route.template][route.method.lower()]
        return bool(operation.get("requestBody", {}).get("required", False))

    def validator_for(self, route: RouteMatch) -> Draft202012Validator | None:
        """The compiled validator for the route's JSON request body (None if it takes none)."""
        key = route.key
        if key not in self._validators:
            operation = self.document["paths"][route.template][route.method.lower()]
            content = operation.get("requestBody", {}).get("content", {})
            media = next(
                (m for m in ("application/json", "multipart/form-data") if m in content), None
            )
            if media is None:
                self._validators[key] = None
            else:
                pointer = _pointer(
                    "paths",
                    route.template,
                    route.method.lower(),
                    "requestBody",
                    "content",
                    media,
                    "schema",
                )
                self._validators[key] = Draft202012Validator(
                    {"$ref": _SPEC_URI + pointer}, registry=self._registry
                )
        return self._validators[key]

    def validate(
        self,
        route: RouteMatch,
        body: Any,
        discrepancies: Iterable[Discrepancy] = KNOWN_DISCREPANCIES,
    ) -> list[SchemaViolation]:
        """Violations of the route's request schema, after the known discrepancies are normalised."""
        validator = self.validator_for(route)
        if validator is None:
            return []
        normalised = normalise(route.key, body, discrepancies)
        violations = []
        for error in validator.iter_errors(normalised):
            for leaf, message in _leaf_errors(error):
                violations.append(
                    SchemaViolation(
                        tuple(leaf.absolute_path), message or _describe(leaf), str(leaf.validator)
                    )
                )
        return violations


def discord_form_errors(violations: Iterable[SchemaViolation]) -> dict[str, Any]:
    """Discord's nested `errors` object for a 50035 Invalid Form Body answer."""
    tree: dict[str, Any] = {}
    for violation in violations:
        node = tree
        for part in violation.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append(
            {"code": violation.code, "message": violation.message}
        )
    return tree


@functools.cache
def load_spec(path: str | None = None) -> OpenAPISpec:
    """Parse the spec once per process (the suite shares it across tests)."""
    chosen = Path(path or os.environ.get("DISCORD_OPENAPI_SPEC") or DEFAULT_SPEC_PATH)
    with chosen.open(encoding="utf-8") as handle:
        return OpenAPISpec(json.load(handle))


__all__ = [
    "KNOWN_DISCREPANCIES",
    "Discrepancy",
    "OpenAPISpec",
    "RouteMatch",
    "SchemaViolation",
    "discord_form_errors",
    "load_spec",
    "normalise",
]
