"""Check request bodies the way LINE's Messaging API would, from LINE's own published spec.

The spec is ``tests/data/line-openapi/messaging-api.yml`` (OpenAPI 3.0, vendored from
github.com/line/line-openapi; see the README there). ``validate_request(method, path, body)``
returns a list of readable errors, empty when LINE would accept the body; ``check_request``
returns the same as ``Problem`` objects carrying LINE's ``property`` notation
(``messages[0].text``), which the fake in ``tests/line_fake.py`` puts in its 400 answers.

Why not hand the spec to a JSON Schema validator as it is: three things differ.

* ``discriminator``. ``Message``, ``Action``, ``FlexComponent``, ``FlexContainer``... are base
  schemas whose ``discriminator.mapping`` names the concrete schema for each ``type`` value, and
  each concrete schema includes its base through ``allOf: [$ref base]``. JSON Schema has no such
  keyword: validating against ``Message`` would only check ``type`` is a string. So each
  discriminated schema is rewritten into a dispatch (``type`` must be one of the mapping's keys;
  ``if type == k then $ref mapped``), the concrete schemas' ``allOf`` point at an untouched copy
  of the base (``Name__base``: rewriting the base in place would loop), and each concrete schema
  is pinned to its own ``type`` values, so a carousel's ``contents`` (declared as ``FlexBubble``
  items, not through the dispatch) still refuse ``"type": "carousel"``.
* ``nullable: true`` becomes ``type: [T, "null"]``; boolean ``exclusiveMinimum/Maximum`` (3.0)
  become the numeric form. The messaging spec uses neither in request bodies today.
* ``format`` is an annotation in JSON Schema; the formats that matter in bodies are checked
  here (``int32``/``int64`` ranges, ``uri`` must be absolute). Others are left alone on purpose:
  ``binary`` (blob bodies, not JSON), ``double`` (``type: number`` covers it), ``uuid`` (headers
  only), and one path parameter whose author wrote a regex in ``format`` instead of ``pattern``.

LINE counts characters in UTF-16 code units, except a documented list of properties counted in
grapheme clusters (https://developers.line.biz/en/docs/messaging-api/text-character-count/).
So ``maxLength``/``minLength`` count UTF-16 units here, and the grapheme-counted properties use
``maxGraphemes``/``minGraphemes`` (the spec's own ``maxLength`` on them is converted). For the
kana, kanji and ASCII the bot sends, both equal ``len()`` of the Python str; they differ for
emoji and characters outside the BMP (🍎 is 2 UTF-16 units, 1 grapheme).

The spec omits many limits LINE documents (text ≤ 5,000, carousel ≤ 12 bubbles, labels...).
Those are ``EXTRA_RULES`` below, each with its source; ``FLEX_JSON_LIMITS`` covers the one limit
JSON Schema cannot say (the size of a Flex container's JSON).
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import regex
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

SPEC_PATH = Path(__file__).resolve().parent / "data" / "line-openapi" / "messaging-api.yml"
REF_PREFIX = "#/components/schemas/"
BASE_SUFFIX = "__base"  # the untouched copy of a discriminated base schema

TEXT_COUNT_DOC = "https://developers.line.biz/en/docs/messaging-api/text-character-count/"
REFERENCE = "https://developers.line.biz/en/reference/messaging-api/"


@dataclass(frozen=True)
class Problem:
    """One reason LINE would refuse a body: where (LINE's notation) and why."""

    property: str
    message: str

    def __str__(self) -> str:
        return f"{self.property or '(body)'}: {self.message}"


@dataclass(frozen=True)
class Rule:
    """A limit LINE documents but the spec does not state.

    ``constraint`` is a JSON Schema fragment added to the named component schema as one more
    ``allOf`` member, so it applies wherever that schema is used. ``source`` says where LINE
    documents the limit; remove the rule when the spec starts stating it.
    """

    schema: str
    constraint: dict
    source: str


def _max(prop: str, limit: int, keyword: str = "maxLength") -> dict:
    return {"properties": {prop: {keyword: limit}}}


def _action_label(prop: str, limit: int, *, items: bool = False) -> dict:
    """A label limit on the action(s) held in ``prop`` (an action, or an array of them)."""
    label = {"properties": {"label": {"maxGraphemes": limit}}}
    return {"properties": {prop: {"items": label} if items else label}}


# Where each number was checked when this was written: "docs" on LINE's own pages
# (developers.line.biz); "reference" in the Messaging API reference's wording as LINE's own
# line-bot-sdk-nodejs quotes it (lib/types.ts doc comments); "unverified" for the reference's
# values as commonly cited, which no stored copy at hand showed: re-check those first.
EXTRA_RULES: tuple[Rule, ...] = (
    # Text message: at most 5,000 characters (reference). The reference's own example error
    # answer shows an empty text refused: "May not be empty", property messages[0].text.
    Rule("TextMessage", {"properties": {"text": {"minLength": 1, "maxLength": 5000}}}, REFERENCE + "#text-message"),
    # Flex message altText: at most 1,500 characters (unverified).
    Rule("FlexMessage", _max("altText", 1500), REFERENCE + "#flex-message"),
    # Carousel container: at most 12 bubbles (reference).
    Rule("FlexCarousel", _max("contents", 12, "maxItems"), REFERENCE + "#f-carousel"),
    # Template and imagemap altText: at most 400 characters (reference).
    Rule("TemplateMessage", _max("altText", 400), REFERENCE + "#template-messages"),
    Rule("ImagemapMessage", _max("altText", 400), REFERENCE + "#imagemap-message"),
    # Location message title and address: at most 100 characters each (reference).
    Rule(
        "LocationMessage",
        {"properties": {"title": {"maxLength": 100}, "address": {"maxLength": 100}}},
        REFERENCE + "#location-message",
    ),
    # Action objects (reference). Postback: data ≤ 300 is in the spec; displayText, text and
    # fillInText ≤ 300. Message action: text ≤ 300. URI action: uri ≤ 1000.
    Rule(
        "PostbackAction",
        {
            "properties": {
                "displayText": {"maxGraphemes": 300},
                "text": {"maxGraphemes": 300},
                "fillInText": {"maxGraphemes": 300},
            }
        },
        REFERENCE + "#postback-action",
    ),
    Rule("MessageAction", _max("text", 300, "maxGraphemes"), REFERENCE + "#message-action"),
    Rule("URIAction", _max("uri", 1000), REFERENCE + "#uri-action"),
    # An action's label limit depends on where the action sits: 20 for quick reply buttons
    # and for buttons/confirm/carousel templates, 12 for image carousel columns (unverified;
    # LINE WORKS, LINE's sister API, documents the same 20/12), 20 for rich menu areas (read
    # by accessibility features; reference), 40 for a Flex button (unverified). Labels count
    # grapheme clusters (docs: TEXT_COUNT_DOC).
    Rule("QuickReplyItem", _action_label("action", 20), REFERENCE + "#quick-reply-button-object"),
    Rule("ButtonsTemplate", _action_label("actions", 20, items=True), REFERENCE + "#buttons"),
    Rule("ConfirmTemplate", _action_label("actions", 20, items=True), REFERENCE + "#confirm"),
    Rule("CarouselColumn", _action_label("actions", 20, items=True), REFERENCE + "#column-object-for-carousel"),
    Rule("ImageCarouselColumn", _action_label("action", 12), REFERENCE + "#column-object-for-image-carousel"),
    Rule("RichMenuArea", _action_label("action", 20), REFERENCE + "#area-object"),
    Rule("FlexButton", _action_label("action", 40), REFERENCE + "#button"),
    # Templates: counts and lengths (reference).
    Rule(
        "ButtonsTemplate",
        {"properties": {"title": {"maxGraphemes": 40}, "text": {"maxGraphemes": 160}, "actions": {"maxItems": 4}}},
        REFERENCE + "#buttons",
    ),
    Rule(
        "ConfirmTemplate",
        {"properties": {"text": {"maxGraphemes": 240}, "actions": {"minItems": 2, "maxItems": 2}}},
        REFERENCE + "#confirm",
    ),
    Rule("CarouselTemplate", _max("columns", 10, "maxItems"), REFERENCE + "#carousel"),
    Rule(
        "CarouselColumn",
        {"properties": {"title": {"maxGraphemes": 40}, "text": {"maxGraphemes": 120}, "actions": {"maxItems": 3}}},
        REFERENCE + "#column-object-for-carousel",
    ),
    Rule("ImageCarouselTemplate", _max("columns", 10, "maxItems"), REFERENCE + "#image-carousel"),
    # Rich menu object: every property is required and there are at most 20 areas (reference);
    # the spec's request schema marks none required and states the 20 only on the response.
    Rule(
        "RichMenuRequest",
        {"required": ["size", "selected", "name", "chatBarText", "areas"], "properties": {"areas": {"maxItems": 20}}},
        REFERENCE + "#rich-menu-object",
    ),
    Rule("RichMenuSize", {"required": ["width", "height"]}, REFERENCE + "#size-object"),
    Rule("RichMenuArea", {"required": ["bounds", "action"]}, REFERENCE + "#area-object"),
    Rule("RichMenuBounds", {"required": ["x", "y", "width", "height"]}, REFERENCE + "#bounds-object"),
)

# Properties LINE counts in grapheme clusters rather than UTF-16 code units (docs:
# TEXT_COUNT_DOC, "the properties listed below are counted in grapheme cluster units").
GRAPHEME_COUNTED: dict[str, tuple[str, ...]] = {
    "Action": ("label",),
    "PostbackAction": ("displayText", "fillInText", "label", "text"),
    "MessageAction": ("label", "text"),
    "ButtonsTemplate": ("text", "title"),
    "ConfirmTemplate": ("text",),
    "CarouselColumn": ("text", "title"),
    "RichMenuRequest": ("chatBarText", "name"),
}

# Size of a Flex container's JSON: 30 KB for a bubble, 50 KB for a carousel (unverified).
# Measured as the compact UTF-8 JSON of ``contents`` (LINE does not say how it measures); a
# kilobyte is taken as 1,000 bytes, the stricter of the two readings.
FLEX_JSON_LIMITS = {"bubble": 30_000, "carousel": 50_000}


# --- the spec -------------------------------------------------------------------------------


@cache
def load_spec() -> dict:
    """The vendored spec, parsed once."""
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: enough to route a request and find its schemas."""

    method: str
    template: str  # the spec's path, e.g. /v2/bot/richmenu/{richMenuId}
    operation_id: str
    request_schema: str | None  # component name of the JSON body, None when it takes none
    responses: dict[str, str | None]  # status -> component name of the JSON answer
    header_params: tuple[str, ...]  # request headers the operation declares, e.g. X-Line-Retry-Key
    pattern: re.Pattern

    def params(self, path: str) -> dict[str, str]:
        """The path parameters of ``path``, which must match this operation."""
        match = self.pattern.fullmatch(path)
        return match.groupdict() if match else {}

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.template.split("/") if part and not part.startswith("{"))


def _json_schema_name(content: dict | None) -> str | None:
    schema = ((content or {}).get("application/json") or {}).get("schema") or {}
    ref = schema.get("$ref", "")
    return ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else None


def _path_pattern(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    )


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation the spec describes."""
    found = []
    for template, item in load_spec()["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "delete", "patch"}:
                continue
            responses = {
                status: _json_schema_name(answer.get("content")) for status, answer in op.get("responses", {}).items()
            }
            found.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op["operationId"],
                    request_schema=_json_schema_name((op.get("requestBody") or {}).get("content")),
                    responses=responses,
                    pattern=_path_pattern(template),
                    header_params=tuple(p["name"] for p in op.get("parameters", []) if p.get("in") == "header"),
                )
            )
    return tuple(found)


def find_operation(method: str, path: str) -> Operation | None:
    """The operation ``method path`` calls. A literal segment beats a parameter, as in
    /v2/bot/richmenu/list versus /v2/bot/richmenu/{richMenuId}."""
    candidates = [op for op in operations() if op.method == method.upper() and op.pattern.fullmatch(path)]
    return max(candidates, key=lambda op: op.literal_segments, default=None)


def operation_by_id(operation_id: str) -> Operation:
    return next(op for op in operations() if op.operation_id == operation_id)


# --- the spec as JSON Schema -----------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict]:
    """Every dict in a JSON-like tree, parents before children."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _openapi_keywords(schemas: dict) -> None:
    """Rewrite OpenAPI 3.0's own keyword forms into their JSON Schema equivalents."""
    for node in _walk(schemas):
        if node.pop("nullable", False) is True and "type" in node:
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if node.get(exclusive) is True and bound in node:
                node[exclusive] = node.pop(bound)
            elif node.get(exclusive) is False:
                del node[exclusive]


def _ref(name: str) -> dict:
    return {"$ref": REF_PREFIX + name}


def _dispatch(prop: str, mapping: dict[str, str]) -> dict:
    """The schema that stands for a discriminated base wherever the spec refers to it."""
    return {
        "type": "object",
        "required": [prop],
        "properties": {prop: {"type": "string", "enum": list(mapping)}},
        "allOf": [
            {"if": {"properties": {prop: {"const": value}}, "required": [prop]}, "then": {"$ref": ref}}
            for value, ref in mapping.items()
        ],
    }


def _expand_discriminators(schemas: dict) -> None:
    """Make ``discriminator`` mean what OpenAPI says it means (see the module docstring)."""
    discriminated = {name: schema for name, schema in schemas.items() if "discriminator" in schema}
    for name, schema in discriminated.items():
        disc = schema["discriminator"]
        schemas[name + BASE_SUFFIX] = {k: v for k, v in schema.items() if k != "discriminator"}
        schemas[name] = _dispatch(disc["propertyName"], disc["mapping"])
    for name, schema in discriminated.items():
        disc = schema["discriminator"]
        values_of: dict[str, list[str]] = defaultdict(list)
        for value, ref in disc["mapping"].items():
            values_of[ref[len(REF_PREFIX) :]].append(value)
        for target_name, values in values_of.items():
            target = schemas[target_name]
            assert target_name not in discriminated, f"{target_name}: nested discriminators are not handled"
            for member in target.get("allOf", []):
                if member.get("$ref") == REF_PREFIX + name:
                    member["$ref"] = REF_PREFIX + name + BASE_SUFFIX
            target.setdefault("allOf", []).append({"properties": {disc["propertyName"]: {"enum": values}}})


def _property_schemas(schema: dict, prop: str) -> Iterator[dict]:
    """The subschemas that describe ``prop`` in ``schema``, its own or in its ``allOf``."""
    for holder in (schema, *schema.get("allOf", [])):
        if prop in holder.get("properties", {}):
            yield holder["properties"][prop]


def _count_in_graphemes(schemas: dict) -> None:
    """Turn the spec's ``maxLength``/``minLength`` into grapheme counts where LINE counts so."""
    for name, props in GRAPHEME_COUNTED.items():
        schema = schemas.get(name + BASE_SUFFIX, schemas[name])
        for prop in props:
            for sub in _property_schemas(schema, prop):
                for length, graphemes in (("maxLength", "maxGraphemes"), ("minLength", "minGraphemes")):
                    if length in sub:
                        sub[graphemes] = sub.pop(length)


def _apply_extra_rules(schemas: dict) -> None:
    for rule in EXTRA_RULES:
        schemas[rule.schema].setdefault("allOf", []).append(rule.constraint)


@cache
def schema_document() -> dict:
    """The spec's component schemas rewritten into plain JSON Schema (2020-12) plus the extra rules."""
    schemas = copy.deepcopy(load_spec()["components"]["schemas"])
    _openapi_keywords(schemas)
    _expand_discriminators(schemas)
    _count_in_graphemes(schemas)
    _apply_extra_rules(schemas)
    return {"components": {"schemas": schemas}}


# --- counting and checking ----------------------------------------------------------------


def utf16_length(text: str) -> int:
    """Characters as LINE counts most text: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def grapheme_length(text: str) -> int:
    """Characters as LINE counts labels and a few other properties: grapheme clusters."""
    return len(regex.findall(r"\X", text))


def _length_keyword(measure: Callable[[str], int], unit: str, bound: str):
    """A ``maxLength``-like keyword that counts with ``measure``."""
    too_far = (lambda n, limit: n > limit) if bound == "max" else (lambda n, limit: n < limit)

    def keyword(validator, limit, instance, schema):
        if not validator.is_type(instance, "string"):
            return
        n = measure(instance)
        if not too_far(n, limit):
            return
        if bound == "min" and n == 0:
            yield ValidationError("May not be empty")
        else:
            most = "at most" if bound == "max" else "at least"
            yield ValidationError(f"Length must be {most} {limit} {unit} (it is {n})")

    return keyword


def _required(validator, required, instance, schema):
    """``required`` that reports the missing property's own path, as LINE does."""
    if not validator.is_type(instance, "object"):
        return
    for prop in required:
        if prop not in instance:
            yield ValidationError("Must be specified", path=[prop])


LineValidator = validators.extend(
    Draft202012Validator,
    {
        "maxLength": _length_keyword(utf16_length, "UTF-16 code units", "max"),
        "minLength": _length_keyword(utf16_length, "UTF-16 code units", "min"),
        "maxGraphemes": _length_keyword(grapheme_length, "characters", "max"),
        "minGraphemes": _length_keyword(grapheme_length, "characters", "min"),
        "required": _required,
    },
)

FORMATS = FormatChecker(formats=())


def _integer_range(bits: int):
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(instance) -> bool:
        return not isinstance(instance, int) or isinstance(instance, bool) or low <= instance <= high

    return check


FORMATS.checks("int32")(_integer_range(32))
FORMATS.checks("int64")(_integer_range(64))


@FORMATS.checks("uri")
def _absolute_uri(instance) -> bool:
    """An absolute URI: a scheme, something after it, and no whitespace."""
    if not isinstance(instance, str):
        return True
    if any(c.isspace() for c in instance):
        return False
    parts = urlsplit(instance)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme) and (parts.netloc or parts.path))


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    document = {"$ref": REF_PREFIX + schema_name, **schema_document()}
    return LineValidator(document, format_checker=FORMATS)


def line_property(path: Iterable[str | int]) -> str:
    """``['messages', 0, 'text']`` -> ``messages[0].text``, LINE's notation in error details."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(error: ValidationError) -> str:
    """A LINE-like sentence for a JSON Schema error (LINE says e.g. "Size must be between 1 and 5")."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "maxItems":
        return f"Size must be at most {value} (it has {len(instance)})"
    if kind == "minItems":
        return f"Size must be at least {value} (it has {len(instance)})"
    if kind == "enum":
        return f"Must be one of the following values: [{', '.join(map(str, value))}] (got {_short(instance)})"
    if kind == "const":
        return f"Must be {_short(value)} (got {_short(instance)})"
    if kind == "type":
        return f"Must be of type {value} (got {_short(instance)})"
    if kind in {"maximum", "minimum"}:
        return f"Must be {'at most' if kind == 'maximum' else 'at least'} {value} (got {instance})"
    if kind == "pattern":
        return f"Must match {value} (got {_short(instance)})"
    if kind == "format":
        return f"Must be a valid {value} (got {_short(instance)})"
    return error.message if len(error.message) <= 200 else error.message[:199] + "…"


def _flex_size_problems(body: Any) -> Iterator[Problem]:
    """The Flex containers among ``body['messages']`` whose JSON is over LINE's size limit."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for i, message in enumerate(messages if isinstance(messages, list) else []):
        if not (isinstance(message, dict) and message.get("type") == "flex"):
            continue
        contents = message.get("contents")
        limit = FLEX_JSON_LIMITS.get(contents.get("type")) if isinstance(contents, dict) else None
        if limit is None:
            continue
        size = len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > limit:
            yield Problem(
                line_property(["messages", i, "contents"]),
                f"A Flex {contents['type']} may be at most {limit:,} bytes of JSON (it is {size:,})",
            )


def check_body(schema_name: str, body: Any) -> list[Problem]:
    """Problems of ``body`` as an instance of the spec's component schema ``schema_name``."""
    problems = [
        Problem(line_property(e.absolute_path), _describe(e)) for e in _validator(schema_name).iter_errors(body)
    ]
    problems += _flex_size_problems(body)
    return list(dict.fromkeys(problems))  # one allOf branch can repeat another's finding


def check_request(method: str, path: str, body: Any) -> list[Problem]:
    """Problems LINE would find with this request; ``body`` is the parsed JSON, or None for
    a request without a JSON body (a GET, or an image upload)."""
    op = find_operation(method, path)
    if op is None:
        return [Problem("", f"{method.upper()} {path} is not an operation of the Messaging API spec")]
    if op.request_schema is None:
        return [] if body is None else [Problem("", f"{op.method} {op.template} takes no JSON body")]
    if body is None:
        return [Problem("", f"{op.method} {op.template} needs a JSON body ({op.request_schema})")]
    return check_body(op.request_schema, body)


def validate_request(method: str, path: str, body_json: Any) -> list[str]:
    """Errors LINE would answer for this request, as readable strings; empty means valid."""
    return [str(problem) for problem in check_request(method, path, body_json)]


def check_response(method: str, path: str, status: int, body: Any) -> list[Problem]:
    """Problems of an answer against the spec's response schema (used to keep the fake honest)."""
    op = find_operation(method, path)
    if op is None:
        return [Problem("", f"{method.upper()} {path} is not an operation of the Messaging API spec")]
    schema_name = op.responses.get(str(status))
    if schema_name is None:
        return []
    return check_body(schema_name, body)
