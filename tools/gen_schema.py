#!/usr/bin/env python3
"""Generate src/schema/tables.rs from the Autumn API spec.

Usage (from the repository root):

    python3 tools/gen_schema.py            # reads spec/autumn-api-2.x.yml
    python3 tools/gen_schema.py SPEC.yml   # another copy of the spec

Requires Python 3.11 and PyYAML (`pip install pyyaml`).

The spec describes the snake_case wire format. For every operation the browser protocol
reaches we emit one request tree and one response tree of nodes: objects (fields with their
camelCase and snake_case names, default, required and nullable flags), arrays, records
(user-keyed maps whose keys are never renamed), free-form values, scalars, enums and unions.
Identical subtrees are shared, so the table stays small.

autumn-js 1.3.13 bundles an SDK generated from a slightly newer spec (API 2.4.0); where its
behaviour differs from this spec, the OVERRIDES below say so and autumn-js wins.

`--flat FILE` also writes a one-line-per-field listing of both sides of every operation (name
mapping, required, nullable, default, kind; array, record and union member kinds). The overrides
were written by comparing that listing with the same listing taken from the SDK inside the
published autumn-js 1.3.13 package until the two agreed line for line, and by sending random
bodies through autumn-js and through our engine (see src/schema/tests.rs for the fixtures).

    python3 tools/gen_schema.py --flat /tmp/ours.txt
"""

from __future__ import annotations

import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(ROOT, "spec", "autumn-api-2.x.yml")
OUT = os.path.join(ROOT, "src", "schema", "tables.rs")

# (Rust variant, path) in the order of the `Op` enum.
# (Op variant, path) of the operations the browser routes call, in the order of the route table of
# src/routes/current.rs (`route("rpcName", Op::Variant, ...)`), paths from the operation table of
# tools/gen_ops.py. Filled by `main`; the `Op` enum is generated from it too.
OPS: list = []

# ---------------------------------------------------------------------------------------------
# Overrides: where autumn-js 1.3.13 (its bundled SDK, API 2.4.0) behaves differently from the
# committed 2.3.0 spec. Each was found by running autumn-js against a fake upstream and by
# comparing `--flat` listings. A pattern (`*` spans anything, the rest is literal) is matched against
# "<req|resp> <op path> <field path>", the field path written in snake_case with `[]` for array
# items, `{}` for record values and `|N` for the N-th member of a union. A patch is merged into
# the spec schema at that point; "+properties" adds fields, "+required" / "-required" edit the
# required list, "-properties" removes fields, "-null" makes a nullable schema non-nullable, "-keys" removes keywords (like "default") and
# "=" replaces the schema.
# ---------------------------------------------------------------------------------------------
# Building blocks for the overrides, in the spec's own vocabulary.
NUM = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
ANY: dict = {}


def obj(props: dict, required: tuple = ()) -> dict:
    return {"type": "object", "properties": props, "required": list(required)}


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def rec(values: dict) -> dict:
    return {"type": "object", "additionalProperties": values}


def nullable(s: dict) -> dict:
    return {"anyOf": [s, {"type": "null"}]}


def enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def const(value: str) -> dict:
    return {"const": value}


def any_of(*options: dict) -> dict:
    return {"anyOf": list(options)}


# A property filter value (usage limits and alerts, credit dimensions).
MATCH_VALUE = any_of(STR, NUM, BOOL)
EXPIRY = obj({"duration": enum("day", "week", "month", "year"), "length": NUM}, ("duration", "length"))
THRESHOLD_BILLING = nullable(obj({"threshold": NUM}, ("threshold",)))
CREDIT_TIER = obj({"to": any_of(NUM, const("inf")), "credit_cost": NUM}, ("to", "credit_cost"))
DIMENSION = any_of(
    obj(
        {"match": rec(MATCH_VALUE), "priority": INT, "tier_behavior": const("graduated"), "tiers": arr(CREDIT_TIER)},
        ("match", "tier_behavior", "tiers"),
    ),
    obj({"match": rec(MATCH_VALUE), "priority": INT, "credit_cost": NUM}, ("match", "credit_cost")),
)
MULTIPLIER = obj({"match": rec(MATCH_VALUE), "factor": NUM, "add": NUM}, ("match",))
CREDIT_SCHEMA_ITEM = any_of(
    obj(
        {
            "metered_feature_id": STR,
            "tier_behavior": const("graduated"),
            "tiers": arr(CREDIT_TIER),
            "billing_units": NUM,
            "dimensions": rec(DIMENSION),
            "multipliers": rec(MULTIPLIER),
        },
        ("metered_feature_id", "tier_behavior", "tiers"),
    ),
    obj(
        {
            "metered_feature_id": STR,
            "credit_cost": NUM,
            "billing_units": NUM,
            "dimensions": rec(DIMENSION),
            "multipliers": rec(MULTIPLIER),
        },
        ("metered_feature_id", "credit_cost"),
    ),
)
MARKUPS = obj(
    {
        "default_markup": NUM,
        "model_markups": nullable(rec(obj({"input_cost": NUM, "output_cost": NUM, "markup": NUM}))),
        "provider_markups": nullable(rec(obj({"markup": NUM}, ("markup",)))),
    }
)
FEATURE_OVERRIDE = obj({"credit_schema": arr(CREDIT_SCHEMA_ITEM), "markups": MARKUPS})
FREE_TRIAL_PARAMS = nullable(
    obj(
        {
            "duration_length": NUM,
            "duration_type": {**enum("day", "month", "year"), "default": "month"},
            "card_required": {**BOOL, "default": False},
            "on_end": {**enum("bill", "revert"), "default": "bill"},
        },
        ("duration_length",),
    )
)
# The operations whose request takes a single plan with `customize`.
PLAN_OPS = [
    "/v1/billing.attach",
    "/v1/billing.preview_attach",
    "/v1/billing.update",
    "/v1/billing.preview_update",
    "/v1/billing.setup_payment",
]

OVERRIDES: list[tuple[str, dict]] = [
    # A price tier ends at a number or at any string (the spec says "inf" or leaves it open).
    ("* * *.price.tiers[].to", {"=": any_of(NUM, STR)}),
    # A balance reset's interval is a known interval or any other string (the spec: "multiple").
    (
        "resp * *.breakdown[].reset.interval",
        {"=": any_of(enum("one_off", "minute", "hour", "day", "week", "month", "quarter", "semi_annual", "year"), STR)},
    ),
    (
        "resp * *.deductions[].reset.interval",
        {"=": any_of(enum("one_off", "minute", "hour", "day", "week", "month", "quarter", "semi_annual", "year"), STR)},
    ),
    # Free trials: autumn-js sends card_required false (the spec says true) and on_end "bill".
    ("req * *.free_trial.card_required", {"default": False}),
    ("req * *.free_trial.on_end", {"default": "bill"}),
    ("resp * *.customize.free_trial.card_required", {"default": False}),
    ("resp * *.customize.free_trial.on_end", {"default": "bill"}),
    # Prices and resets count their interval once unless told otherwise.
    ("req * *.price.interval_count", {"default": 1}),
    ("req * *.reset.interval_count", {"default": 1}),
    ("resp * *.customize.price.interval_count", {"default": 1}),
    ("resp * *.customize.*.reset.interval_count", {"default": 1}),
    ("resp * *.customize.*.price.interval_count", {"default": 1}),
    # Plan items gained an expiry, per-item feature overrides (credit schemas, AI markups) and
    # threshold billing; removed items can name an included amount.
    ("* * *.items[]", {"+properties": {"expiry": EXPIRY, "feature_override": FEATURE_OVERRIDE, "threshold_billing": THRESHOLD_BILLING}}),
    ("* * *.add_items[]", {"+properties": {"expiry": EXPIRY, "feature_override": FEATURE_OVERRIDE, "threshold_billing": THRESHOLD_BILLING}}),
    ("* * *.remove_items[]", {"+properties": {"included": NUM}}),
    ("req * *.tiers[]", {"+required": ["to"]}),
    ("* * *.tiers[].additional_currencies[]", {"=": obj({"currency": STR, "amount": NUM, "flat_amount": NUM}, ("currency",))}),
    ("* * *.upsert_licenses[]", {"+properties": {"version_slug": STR}}),
    # Usage alerts gained a basis (default "balance") and a property filter.
    (
        "* * *.usage_alerts[]",
        {
            "+properties": {
                "basis": {**enum("balance", "included", "recurring", "usage_limit"), "default": "balance"},
                "filter": obj({"properties": rec(MATCH_VALUE)}, ("properties",)),
            }
        },
    ),
]
OVERRIDES += [
    # Invoice lines may come without discounts (the spec fills an empty list).
    ("resp * *line_items[]", {"-required": ["discounts"]}),
    ("resp * *line_items[].discounts", {"-keys": ["default"]}),
]
# Responses: plans, features and previews of API 2.4.0.
FEATURE_CREDIT_SCHEMA = any_of(
    CREDIT_SCHEMA_ITEM["anyOf"][0],
    CREDIT_SCHEMA_ITEM["anyOf"][1],
    # (a credit cost without a metered feature)
    obj(
        {"metered_feature_id": const(""), "credit_cost": NUM, "billing_units": NUM, "dimensions": rec(DIMENSION), "multipliers": rec(MULTIPLIER)},
        ("metered_feature_id", "credit_cost"),
    ),
)
PRICE_PROCESSORS = obj({"stripe": nullable(obj({"price_id": STR}, ("price_id",)))})
PLAN_PROCESSORS = obj(
    {
        "stripe": nullable(obj({"product_id": STR, "additional_product_ids": arr(STR)}, ("product_id",))),
        "revenuecat": nullable(
            obj(
                {
                    "products": arr(
                        obj(
                            {"product_id": STR, "feature_quantities": arr(obj({"feature_id": STR, "quantity": NUM}, ("feature_id",)))},
                            ("product_id",),
                        )
                    )
                },
                ("products",),
            )
        ),
    }
)
# Customizations as plans echo them back: a variant's is the plan's own variant customization, a
# license's is the one a request's `upsert_licenses` item takes.
ATTACH_PARAMS = "#/paths/~1v1~1billing.attach/post/requestBody/content/application~1json/schema"
VARIANT_CUSTOMIZE = {"$ref": "#/components/schemas/Plan/properties/variant_details/properties/customize"}
LICENSE_CUSTOMIZE = {"$ref": ATTACH_PARAMS + "/properties/customize/properties/upsert_licenses/items/properties/customize"}
PLAN = {"$ref": "#/components/schemas/Plan"}
PLAN_EXTRAS = {"active": BOOL, "version_slug": nullable(STR), "processors": PLAN_PROCESSORS}
LICENSE = obj(
    {
        "license_plan_id": STR,
        "included": NUM,
        "prepaid_only": BOOL,
        "version": NUM,
        "version_slug": STR,
        "metadata": rec(ANY),
        "customize": LICENSE_CUSTOMIZE,
        "plan": PLAN,
    },
    ("license_plan_id", "included", "prepaid_only", "version"),
)
VARIANT = obj(
    {"variant_plan_id": STR, "name": STR, "customize": VARIANT_CUSTOMIZE, "plan": PLAN},
    ("variant_plan_id", "name"),
)
OVERRIDES += [
    # Property filters and credit dimension matches read back as strings.
    ("resp * *.filter.properties", {"=": rec(STR)}),
    ("resp * *.match", {"=": rec(STR)}),
    # Features of balances and flags (not those inside plan items) gained credit dimensions,
    # multipliers and processor ids.
    ("resp * .balances{}.feature.credit_schema", {"=": arr(FEATURE_CREDIT_SCHEMA)}),
    ("resp * .flags{}.feature.credit_schema", {"=": arr(FEATURE_CREDIT_SCHEMA)}),
    ("resp * .balances{}.feature", {"+properties": {"processors": obj({"stripe": obj({"meter_id": STR, "product_id": STR})})}}),
    ("resp * .flags{}.feature", {"+properties": {"processors": obj({"stripe": obj({"meter_id": STR, "product_id": STR})})}}),
    # Plan prices carry their Stripe price id.
    ("resp * *plan.price", {"+properties": {"processors": PRICE_PROCESSORS}}),
    ("resp * *plan.items[].price", {"+properties": {"processors": PRICE_PROCESSORS}}),
    ("resp /v1/plans.list .list[].price", {"+properties": {"processors": PRICE_PROCESSORS}}),
    ("resp /v1/plans.list .list[].items[].price", {"+properties": {"processors": PRICE_PROCESSORS}}),
    (
        "resp * *variant_details.customize",
        {
            "+properties": {
                "remove_licenses": arr(obj({"license_plan_id": STR}, ("license_plan_id",))),
                "upsert_licenses": {"$ref": ATTACH_PARAMS + "/properties/customize/properties/upsert_licenses"},
            }
        },
    ),
    (
        "resp * *variants[].customize",
        {
            "+properties": {
                "remove_licenses": arr(obj({"license_plan_id": STR}, ("license_plan_id",))),
                "upsert_licenses": {"$ref": ATTACH_PARAMS + "/properties/customize/properties/upsert_licenses"},
            }
        },
    ),
    ("resp * *.customize.add_items[].price.tiers[]", {"+required": ["to", "amount"]}),
    ("resp /v1/plans.list .list[].licenses[].customize", {"-null": True}),
    # (one spot where the SDK reads a credit tier's bound as any value, and optionally)
    (
        "resp /v1/plans.list .list[].variants[].customize.upsert_licenses[].customize.add_items[].feature_override.credit_schema[]|*.dimensions{}|0.tiers[]",
        {"-required": ["to"]},
    ),
    (
        "resp /v1/plans.list .list[].variants[].customize.upsert_licenses[].customize.add_items[].feature_override.credit_schema[]|*.dimensions{}|0.tiers[].to",
        {"=": ANY},
    ),
    # Items of a plan (not of a customization) may carry a null expiry.
    ("resp * *.plan.items[]", {"+properties": {"expiry": nullable(EXPIRY)}}),
    ("resp /v1/plans.list .list[].items[]", {"+properties": {"expiry": nullable(EXPIRY)}}),
    # Plans gained an active flag, a version slug and processor ids; listed plans also show
    # their variants and licenses (whose own plans show neither).
    ("resp /v1/plans.list .list[]", {"+properties": {**PLAN_EXTRAS, "licenses": arr(LICENSE), "variants": arr(VARIANT)}}),
    ("resp * *.plan", {"+properties": PLAN_EXTRAS}),
    ("resp * *.variants[].plan", {"-properties": ["variant_details"]}),
    # Previews say whether usage resets and how much invoice credit applies.
    ("resp * .invoice_credits", {"+properties": {"applied": NUM}}),
]
for _op in ["/v1/billing.preview_attach", "/v1/billing.preview_update", "/v1/billing.preview_multi_attach"]:
    OVERRIDES.append(("resp %s " % _op, {"+properties": {"resets_usage": BOOL}}))
for _op in PLAN_OPS:
    OVERRIDES += [
        # A free trial can be given at the top level too; the cycle anchor is any string or an
        # integer timestamp; licenses can be removed.
        ("req %s " % _op, {"+properties": {"free_trial": FREE_TRIAL_PARAMS, "billing_cycle_anchor": any_of(STR, INT)}}),
        ("req %s .customize" % _op, {"+properties": {"remove_licenses": arr(obj({"license_plan_id": STR}, ("license_plan_id",)))}}),
    ]
for _op in ["/v1/billing.multi_attach", "/v1/billing.preview_multi_attach"]:
    OVERRIDES.append(("req %s " % _op, {"+properties": {"billing_cycle_anchor": const("now")}}))
for _op in ["/v1/billing.update", "/v1/billing.preview_update"]:
    # Subscription updates take extra invoice lines and Stripe subscription parameters (user data).
    OVERRIDES.append(
        (
            "req %s " % _op,
            {
                "+properties": {
                    "custom_line_items": arr(obj({"amount": NUM, "description": STR}, ("amount", "description"))),
                    "subscription_params": rec(ANY),
                }
            },
        )
    )


def glob_match(pattern: str, text: str) -> bool:
    """`*` matches any run of characters; everything else is literal."""
    rx = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(rx, text) is not None


def overrides_for(side: str, op: str, path: str) -> list[dict]:
    key = "%s %s %s" % (side, op, path)
    return [patch for pat, patch in OVERRIDES if glob_match(pat, key)]


def apply_patch(s: dict, patch: dict) -> dict:
    s = dict(s)
    for k, v in patch.items():
        if k == "+properties":
            s["properties"] = {**s.get("properties", {}), **v}
        elif k == "+required":
            s["required"] = list(dict.fromkeys(list(s.get("required", [])) + v))
        elif k == "-required":
            s["required"] = [r for r in s.get("required", []) if r not in v]
        elif k == "-properties":
            s["properties"] = {n: p for n, p in s.get("properties", {}).items() if n not in v}
        elif k == "-null":
            # not nullable after all
            if "anyOf" in s:
                s["anyOf"] = [o for o in s["anyOf"] if o.get("type") != "null"]
        elif k == "-keys":
            s = {n: p for n, p in s.items() if n not in v}
        else:
            s[k] = v
    return s


def camel(name: str) -> str:
    """snake_case -> camelCase, the way the SDK names properties."""
    parts = name.split("_")
    out = parts[0]
    for p in parts[1:]:
        if p:
            out += p[0].upper() + p[1:]
    return out


class Gen:
    """Turns spec schemas into shared nodes.

    A node is a tuple: ("any",), ("null",), ("str",), ("num",), ("int",), ("bool",),
    ("enum", values), ("const", value), ("arr", item), ("rec", value), ("union", members) or
    ("obj", fields) with fields (camel, snake, node, default JSON text or None, required, nullable).
    """

    def __init__(self, spec: dict):
        self.spec = spec
        self.nodes: list[tuple] = []
        self.index: dict[tuple, int] = {}

    def resolve(self, s: dict) -> dict:
        seen = 0
        while isinstance(s, dict) and "$ref" in s:
            ref = s["$ref"]
            assert ref.startswith("#/"), ref
            cur = self.spec
            for part in ref[2:].split("/"):
                cur = cur[part.replace("~1", "/").replace("~0", "~")]
            extra = {k: v for k, v in s.items() if k != "$ref"}
            s = {**cur, **extra}
            seen += 1
            assert seen < 50, "reference loop"
        return s

    def add(self, node: tuple) -> int:
        if node not in self.index:
            self.index[node] = len(self.nodes)
            self.nodes.append(node)
        return self.index[node]

    def nullable_of(self, i: int) -> int:
        return self.add(("union", (self.add(("null",)), i)))

    # Returns (node index, nullable, default JSON text or None)
    def conv(self, s: dict, side: str, op: str, path: str, pending: list | None = None) -> tuple[int, bool, str | None]:
        s = self.resolve(s)
        if pending is None:
            # Overrides apply once per path: a replacement first, then the edits. A nullable
            # wrapper (anyOf with null) hands the edits on to the schema it wraps.
            found = overrides_for(side, op, path)
            for patch in found:
                if "=" in patch:
                    s = self.resolve(patch["="])
            pending = [p for p in found if "=" not in p]
        for patch in pending:
            s = self.resolve(apply_patch(s, patch))
        default = json.dumps(s["default"], separators=(",", ":")) if "default" in s else None
        if "anyOf" in s:
            opts = [self.resolve(o) for o in s["anyOf"]]
            nullable = any(o.get("type") == "null" for o in opts)
            rest = [o for o in opts if o.get("type") != "null"]
            for o in rest:
                if "default" in o and default is None:
                    default = json.dumps(o["default"], separators=(",", ":"))
            if len(rest) == 1:
                idx, n2, d2 = self.conv(rest[0], side, op, path, pending)
                nullable = nullable or n2
                if default is None:
                    default = d2
            elif not rest:
                idx = self.add(("null",))
            else:
                members = []
                for k, o in enumerate(rest):
                    if "const" in o and isinstance(o["const"], str):
                        # The SDK reads a constant string among other shapes as a one-value enum
                        # (on responses: any string), not as a literal.
                        o = {**{x: y for x, y in o.items() if x != "const"}, "type": "string", "enum": [o["const"]]}
                    i, n2, _ = self.conv(o, side, op, "%s|%d" % (path, k))
                    if n2:
                        i = self.nullable_of(i)
                    members.append(i)
                idx = self.add(("union", tuple(members)))
            return idx, nullable, default
        t = s.get("type")
        nullable = False
        if isinstance(t, list):
            nullable = "null" in t
            t2 = [x for x in t if x != "null"]
            assert len(t2) <= 1, t
            t = t2[0] if t2 else "null"
        if "const" in s and isinstance(s["const"], str):
            idx = self.add(("const", s["const"]))
        elif "enum" in s and all(isinstance(v, str) for v in s["enum"]):
            idx = self.add(("enum", tuple(dict.fromkeys(s["enum"]))))
        elif t == "object" or "properties" in s:
            props = s.get("properties")
            if props:
                req = set(s.get("required", []))
                fields = []
                for name, ps in props.items():
                    i, n, d = self.conv(ps, side, op, path + "." + name)
                    fields.append((camel(name), name, i, d, name in req, n))
                # (the streaming conversion tracks an object's fields in a 64-bit set)
                assert len(fields) <= 64, "object with more than 64 fields at %s %s" % (op, path)
                idx = self.add(("obj", tuple(fields)))
            else:
                ap = s.get("additionalProperties", {})
                if ap is True or ap == {} or ap is None:
                    idx = self.add(("rec", self.add(("any",))))
                else:
                    i, n, _ = self.conv(ap, side, op, path + "{}")
                    idx = self.add(("rec", self.nullable_of(i) if n else i))
        elif t == "array":
            i, n, _ = self.conv(s.get("items", {}), side, op, path + "[]")
            idx = self.add(("arr", self.nullable_of(i) if n else i))
        elif t in ("string", "number", "integer", "boolean", "null"):
            idx = self.add(({"string": "str", "number": "num", "integer": "int", "boolean": "bool", "null": "null"}[t],))
        elif t is None:
            idx = self.add(("any",))
        else:
            raise SystemExit("unsupported schema at %s %s: %r" % (op, path, s))
        return idx, nullable, default

    def rust(self, node: tuple) -> str:
        k = node[0]
        if k in ("any", "null", "str", "num", "int", "bool"):
            return "Node::" + {"any": "Any", "null": "Null", "str": "Str", "num": "Num", "int": "Int", "bool": "Bool"}[k]
        if k == "enum":
            return "Node::Enum(&[%s])" % ", ".join(rs(v) for v in node[1])
        if k == "const":
            return "Node::Const(%s)" % rs(node[1])
        if k == "arr":
            return "Node::Array(%d)" % node[1]
        if k == "rec":
            return "Node::Record(%d)" % node[1]
        if k == "union":
            return "Node::Union(&[%s])" % ", ".join(str(m) for m in node[1])
        assert k == "obj"
        fields = [
            "Field { camel: %s, key: %s, snake: %s, node: %d, default: %s, required: %s, nullable: %s }"
            % (rs(c), rs(',"%s":' % c), rs(sn), i, rdef(d), rb(r), rb(n))
            for (c, sn, i, d, r, n) in node[1]
        ]
        return "Node::Object(&[%s])" % ", ".join(fields)

    def kind(self, i: int, side: str = "req") -> str:
        n = self.nodes[i]
        k = n[0]
        if k == "int" and side == "resp":
            return "num"
        if k == "enum":
            return "enum(%s)" % ",".join(n[1])
        if k == "const":
            return "const(%s)" % n[1]
        if k in ("arr", "rec"):
            return k
        if k == "union":
            return "union%d" % len(n[1])
        return k

    def ekind(self, i: int, side: str) -> str:
        n = self.nodes[i]
        null = self.index.get(("null",))
        if n[0] == "union" and len(n[1]) == 2 and null in n[1]:
            return "nullable " + self.kind([m for m in n[1] if m != null][0], side)
        return self.kind(i, side)

    def flatten(self, i: int, side: str, path: str, out: list[str], depth: int = 0) -> None:
        """Debug listing, one line per field, for comparing with what autumn-js does."""
        n = self.nodes[i]
        if depth > 40:
            return
        null = self.index.get(("null",))
        if n[0] == "union" and len(n[1]) == 2 and null in n[1]:
            # a nullable array item or record value
            self.flatten([m for m in n[1] if m != null][0], side, path, out, depth + 1)
        elif n[0] == "union":
            members = n[1]
            nonnull = [m for m in members if m != null]
            out.append("%s: union%d" % (path, len(nonnull)))
            for k, m in enumerate(nonnull):
                out.append("%s|%d kind %s" % (path, k, self.ekind(m, side)))
                self.flatten(m, side, "%s|%d" % (path, k), out, depth + 1)
        elif n[0] == "arr":
            out.append("%s[] kind %s" % (path, self.ekind(n[1], side)))
            self.flatten(n[1], side, path + "[]", out, depth + 1)
        elif n[0] == "rec":
            out.append("%s{} kind %s" % (path, self.ekind(n[1], side)))
            self.flatten(n[1], side, path + "{}", out, depth + 1)
        elif n[0] == "obj":
            for (c, sn, fi, d, r, nl) in n[1]:
                req = r or d is not None
                extra = ""
                if side == "resp" and nl and req and d is None:
                    extra = " missing->null"
                if side == "resp" and not nl and not req:
                    extra = " null->absent"
                out.append("%s.%s: camel=%s req=%s null=%s%s def=%s %s" % (path, sn, c, "true" if req else "false", "true" if nl else "false", extra, d if d is not None else "-", self.kind(fi, side)))
                self.flatten(fi, side, path + "." + sn, out, depth + 1)


def rs(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def rb(b: bool) -> str:
    return "true" if b else "false"


def rdef(text: str | None) -> str:
    if text is None:
        return "Def::None"
    d = json.loads(text)
    if d is None:
        return "Def::None"
    if isinstance(d, bool):
        return "Def::Bool(%s)" % rb(d)
    if isinstance(d, int):
        return "Def::Int(%d)" % d
    if isinstance(d, float):
        return "Def::Float(%r)" % d
    if isinstance(d, str):
        return "Def::Str(%s)" % rs(d)
    return "Def::Json(%s)" % rs(json.dumps(d, separators=(",", ":")))


def main() -> None:
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    flat_out = None
    if "--flat" in args:
        k = args.index("--flat")
        flat_out = args[k + 1]
        del args[k : k + 2]
    spec_path = args[0] if args else DEFAULT_SPEC
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    from gen_ops import routed_operations

    OPS[:] = routed_operations(spec)
    g = Gen(spec)
    req_roots, resp_roots = [], []
    for _, path in OPS:
        op = spec["paths"][path]["post"]
        rq = op["requestBody"]["content"]["application/json"]["schema"]
        i, _, _ = g.conv(rq, "req", path, "")
        req_roots.append(i)
        rp = op["responses"]["200"]["content"]["application/json"]["schema"]
        i, _, _ = g.conv(rp, "resp", path, "")
        resp_roots.append(i)
    if flat_out:
        # `--flat FILE`: a one-line-per-field listing of both sides, for comparing with autumn-js.
        lines: list[str] = []
        for (_, path), rq, rp in zip(OPS, req_roots, resp_roots):
            g.flatten(rq, "req", "req %s " % path, lines)
            g.flatten(rp, "resp", "resp %s " % path, lines)
        with open(flat_out, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    assert len(g.nodes) < 65535
    out = [
        "// @generated by tools/gen_schema.py from spec/autumn-api-2.x.yml; do not edit by hand.",
        "// Regenerate from the repository root:",
        "//     python3 tools/gen_schema.py   (--check tells whether this file is current)",
        "",
        "use super::{Def, Field, Node};",
        "use crate::client::generated as ops;\nuse crate::client::OperationInfo;",
        "",
        "/// The upstream operations the browser routes call, in the order the route table of",
        "/// `src/routes/current.rs` first names them.",
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]",
        "pub(crate) enum Op {",
    ]
    out += ["    %s," % v for v, _ in OPS]
    out += [
        "}",
        "",
        "impl Op {",
        "    /// Every operation, in declaration order (the order of the root tables).",
        "    #[cfg(test)]",
        "    pub(crate) const ALL: [Op; %d] = [%s];" % (len(OPS), ", ".join("Op::%s" % v for v, _ in OPS)),
        "",
        "    /// The operation's entry in the client's operation table (`tools/gen_ops.py`): its path,",
        "    /// retry class and types.",
        "    pub(crate) fn info(self) -> &'static OperationInfo {",
        "        match self {",
    ]
    for v, path in OPS:
        const = path[len("/v1/"):].replace(".", "_").upper()
        out.append("            Op::%s => ops::%s," % (v, const))
    out += [
        "        }",
        "    }",
        "}",
        "",
        "/// Every schema node; nodes refer to each other by index.",
        "pub(super) static NODES: [Node; %d] = [" % len(g.nodes),
    ]
    for i, n in enumerate(g.nodes):
        out.append("    /* %d */ %s," % (i, g.rust(n)))
    out += [
        "];",
        "",
        "/// Request body root node of each `Op`, in declaration order.",
        "pub(super) static REQUEST_ROOTS: [u16; %d] = [%s];" % (len(OPS), ", ".join(map(str, req_roots))),
        "/// Response body root node of each `Op`, in declaration order.",
        "pub(super) static RESPONSE_ROOTS: [u16; %d] = [%s];" % (len(OPS), ", ".join(map(str, resp_roots))),
        "",
    ]
    text = rustfmt("\n".join(out))
    if check:
        with open(OUT, encoding="utf-8") as f:
            current = f.read()
        if current != text:
            print("%s is out of date: run python3 tools/gen_schema.py" % OUT, file=sys.stderr)
            sys.exit(1)
        print("%s is up to date" % OUT, file=sys.stderr)
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s: %d nodes" % (OUT, len(g.nodes)))


def rustfmt(text: str) -> str:
    """Formats like `cargo fmt` does (edition 2021)."""
    import subprocess

    out = subprocess.run(
        ["rustfmt", "--edition", "2021", "--emit", "stdout"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return out.stdout


if __name__ == "__main__":
    main()
