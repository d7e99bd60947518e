#!/usr/bin/env python3
"""Generate the typed client's operation table and methods from the spec: the one description of each
operation of the Autumn API.

Usage (from the repository root):

    python3 tools/gen_ops.py            # reads spec/autumn-api-2.x.yml
    python3 tools/gen_ops.py SPEC.yml   # another copy of the spec
    python3 tools/gen_ops.py --check    # exits 1 if a generated file is not what it would write

Requires Python 3.11, PyYAML and rustfmt. Writes:

- src/client/generated.rs: `OPERATIONS` (path, resource, method, retry class, body kind, params and
  answer types, the browser routes that call it) with one constant per operation, the resource handles
  (`Client::customers()`, ...) and one async method per operation;
- src/blocking/generated.rs: the blocking mirror of every handle and method;
- tests/support/operations.rs: the case list of tests/all_operations.rs (every generated method, every
  paginated list), so a new operation is tested as soon as it is generated.

Every `POST` operation of the spec is in the table. What is decided here rather than read from the spec:

- the resource and method names: `/v1/<resource>.<method>`;
- the Rust names of the params and answer types (TYPES; an operation not listed gets
  `<OperationId>Params` and `<OperationId>Response`), shared with tools/gen_models.py, which generates
  the structs from the same list (`operations()`);
- the retry class (`retry_class()`): `*.list*`, `*.get*`, `balances.check`, `events.aggregate` and
  `customers.get_or_create` (a repeat finds what the first attempt created) are reads; `*.preview_*`
  are previews; the writes Autumn deduplicates by `Idempotency-Key` (KEYED) are keyed writes; every
  other operation is a write, never repeated once it may have reached Autumn;
- HAND: operations whose method is written by hand (a body that is not one params struct, another
  credential); the table still has them;
- the browser routes are read from the route table of src/routes/current.rs (`route("name", Op::X`).
"""

from __future__ import annotations

import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(ROOT, "spec", "autumn-api-2.x.yml")
OUT_CLIENT = os.path.join(ROOT, "src", "client", "generated.rs")
OUT_BLOCKING = os.path.join(ROOT, "src", "blocking", "generated.rs")
OUT_TESTS = os.path.join(ROOT, "tests", "support", "operations.rs")
ROUTES_FILE = os.path.join(ROOT, "src", "routes", "current.rs")

# path -> (params type, answer type). Operations sharing a name share one struct. The order is the order
# in which tools/gen_models.py meets the structs (the first 30 are the client's first operations).
TYPES = {
    "/v1/customers.get_or_create": ("GetOrCreateCustomerParams", "Customer"),
    "/v1/customers.get": ("GetCustomerParams", "Customer"),
    "/v1/customers.list": ("ListCustomersParams", "CustomerList"),
    "/v1/customers.update": ("UpdateCustomerParams", "Customer"),
    "/v1/customers.delete": ("DeleteCustomerParams", "DeleteResponse"),
    "/v1/entities.create": ("CreateEntityParams", "Entity"),
    "/v1/entities.get": ("GetEntityParams", "Entity"),
    "/v1/entities.list": ("ListEntitiesParams", "EntityList"),
    "/v1/entities.update": ("UpdateEntityParams", "Entity"),
    "/v1/entities.delete": ("DeleteEntityParams", "DeleteResponse"),
    "/v1/plans.list": ("ListPlansParams", "PlanList"),
    "/v1/plans.get": ("GetPlanParams", "Plan"),
    "/v1/features.list": ("ListFeaturesParams", "FeatureList"),
    "/v1/features.get": ("GetFeatureParams", "Feature"),
    "/v1/billing.attach": ("AttachParams", "BillingResponse"),
    "/v1/billing.preview_attach": ("AttachParams", "BillingPreview"),
    "/v1/billing.update": ("UpdateSubscriptionParams", "BillingResponse"),
    "/v1/billing.preview_update": ("UpdateSubscriptionParams", "BillingPreview"),
    "/v1/billing.multi_attach": ("MultiAttachParams", "BillingResponse"),
    "/v1/billing.preview_multi_attach": ("MultiAttachParams", "BillingPreview"),
    "/v1/billing.setup_payment": ("SetupPaymentParams", "SetupPaymentResponse"),
    "/v1/billing.open_customer_portal": ("OpenCustomerPortalParams", "CustomerPortal"),
    "/v1/balances.check": ("CheckParams", "CheckResponse"),
    "/v1/balances.track": ("TrackParams", "TrackResponse"),
    # (the request is an array of track bodies: the client sends `&[TrackParams]`)
    "/v1/balances.batch_track": ("TrackParams", "BatchTrackResponse"),
    "/v1/balances.finalize": ("FinalizeParams", "FinalizeResponse"),
    "/v1/events.list": ("ListEventsParams", "EventList"),
    "/v1/events.aggregate": ("AggregateEventsParams", "EventAggregate"),
    "/v1/referrals.create_code": ("CreateReferralCodeParams", "ReferralCode"),
    "/v1/referrals.redeem_code": ("RedeemReferralCodeParams", "ReferralRedemption"),
    "/v1/plans.create": ("CreatePlanParams", "Plan"),
    "/v1/plans.update": ("UpdatePlanParams", "Plan"),
    "/v1/plans.delete": ("DeletePlanParams", "DeleteResponse"),
    "/v1/features.create": ("CreateFeatureParams", "Feature"),
    "/v1/features.update": ("UpdateFeatureParams", "Feature"),
    "/v1/features.delete": ("DeleteFeatureParams", "DeleteResponse"),
    "/v1/billing.multi_update": ("MultiUpdateParams", "BillingResponse"),
    "/v1/billing.preview_multi_update": ("MultiUpdateParams", "MultiUpdatePreview"),
    "/v1/billing.create_schedule": ("CreateScheduleParams", "ScheduleResponse"),
    "/v1/billing.import": ("ImportParams", "ImportResponse"),
    "/v1/balances.track_tokens": ("TrackTokensParams", "TrackResponse"),
    "/v1/balances.create": ("CreateBalanceParams", "SuccessResponse"),
    "/v1/balances.update": ("UpdateBalanceParams", "SuccessResponse"),
    "/v1/balances.delete": ("DeleteBalanceParams", "DeleteResponse"),
    "/v1/invoices.insert": ("InsertInvoicesParams", "InsertInvoicesResponse"),
    "/v1/invoices.list": ("ListInvoicesParams", "InvoiceList"),
    "/v1/licenses.attach": ("AttachLicenseParams", "SuccessResponse"),
    "/v1/licenses.release": ("ReleaseLicenseParams", "SuccessResponse"),
    "/v1/licenses.list_assignments": ("ListLicenseAssignmentsParams", "LicenseAssignmentList"),
    "/v1/licenses.list": ("ListLicensesParams", "LicenseList"),
    "/v1/referral_programs.create": ("CreateReferralProgramParams", "ReferralProgram"),
    "/v1/referral_programs.list": ("ListReferralProgramsParams", "ReferralProgramList"),
    "/v1/referral_programs.get": ("GetReferralProgramParams", "ReferralProgram"),
    "/v1/referral_programs.update": ("UpdateReferralProgramParams", "ReferralProgram"),
    "/v1/referral_programs.delete": ("DeleteReferralProgramParams", "DeleteResponse"),
    "/v1/rewards.create": ("CreateRewardParams", "Reward"),
    "/v1/rewards.list": ("ListRewardsParams", "RewardList"),
    "/v1/rewards.get": ("GetRewardParams", "Reward"),
    "/v1/rewards.update": ("UpdateRewardParams", "Reward"),
    "/v1/rewards.delete": ("DeleteRewardParams", "DeleteResponse"),
    "/v1/rewards.redeem": ("RedeemRewardParams", "RewardRedemption"),
    "/v1/platform.link_revenuecat": ("LinkRevenueCatParams", "RevenueCatLink"),
    "/v1/platform.sync_revenuecat": ("SyncRevenueCatParams", "RevenueCatSync"),
    "/v1/platform.get_revenuecat_keys": ("GetRevenueCatKeysParams", "RevenueCatKeys"),
    "/v1/keys.mint": ("MintKeyParams", "CustomerToken"),
    "/v1/keys.refresh": ("RefreshKeyParams", "CustomerToken"),
    "/v1/keys.revoke": ("RevokeKeyParams", "RevokedTokens"),
}

# Writes Autumn deduplicates by their `Idempotency-Key` header (the spec does not say which: these are
# the ones autumn-js and Autumn's SDKs send a key with).
KEYED = {"/v1/balances.track", "/v1/balances.batch_track"}
# Not a get/list by name, but repeating them is harmless.
READS = {"/v1/balances.check", "/v1/events.aggregate", "/v1/customers.get_or_create"}

# Methods written by hand (the table still describes them): batch_track's body is an array of
# `TrackParams` plus a key; keys.refresh authenticates with the refresh token, not the secret key.
HAND = {"/v1/balances.batch_track", "/v1/keys.refresh"}

# Resource handle docs (the struct and the `Client` accessor).
RESOURCE_DOCS = {
    "customers": "Customer operations",
    "entities": "Entity operations (seats, workspaces, ... of a customer)",
    "plans": "The plan catalogue",
    "features": "The feature catalogue",
    "billing": "Billing operations: attach plans, change subscriptions, payment setup, the customer portal",
    "balances": "Balance operations: check access, record usage, grant and adjust balances",
    "events": "Usage event queries",
    "invoices": "Invoices",
    "licenses": "Licenses (seat pools) and their assignments",
    "referrals": "Referral codes",
    "referral_programs": "Referral programs",
    "rewards": "Rewards: coupons and feature grants",
    "platform": "Platform integrations (RevenueCat)",
    "keys": "Per-customer tokens",
}

# Method docs where the spec's first sentence is not the whole story.
METHOD_DOCS = {
    "/v1/customers.get_or_create": "The customer, created on first sight (a repeat finds the customer the first attempt created).",
    "/v1/balances.track": "Records usage. Always sent with an `Idempotency-Key` (the params' one, or one generated before the first attempt), so a lost answer can be retried without counting twice.",
    "/v1/features.list": "The features. The operation takes no parameters: the request has no body unless `params.extra` has fields.",
}

RETRY_DOCS = {
    "Read": "Retried like a read.",
    "Preview": "Changes nothing; retried like a read.",
    "KeyedWrite": "Sent with an `Idempotency-Key`; retried like a read.",
    "Write": "Never retried once it may have reached Autumn.",
}


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", name) if p)


def retry_class(path: str) -> str:
    method = path.rsplit(".", 1)[1]
    if path in KEYED:
        return "KeyedWrite"
    if method.startswith("preview_"):
        return "Preview"
    if path in READS or method.startswith(("get", "list")):
        return "Read"
    return "Write"


def resolve(spec, s):
    while isinstance(s, dict) and "$ref" in s:
        cur = spec
        for part in s["$ref"][2:].split("/"):
            cur = cur[part.replace("~1", "/").replace("~0", "~")]
        s = {**cur, **{k: v for k, v in s.items() if k != "$ref"}}
    return s


class Op:
    def __init__(self, spec, path, body):
        self.path = path
        self.resource, self.method = path[len("/v1/") :].split(".", 1)
        self.const = ("%s_%s" % (self.resource, self.method)).upper()
        self.op_id = body.get("operationId") or camel(self.resource + "_" + self.method)
        default = (camel(self.op_id) + "Params", camel(self.op_id) + "Response")
        self.params, self.answer = TYPES.get(path, default)
        self.retry = retry_class(path)
        rb = body.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        rb = resolve(spec, rb) if rb is not None else None
        if rb is None:
            self.body = "None"
        elif rb.get("type") == "array":
            self.body = "Array"
        else:
            self.body = "Object"
        self.request_schema = rb
        responses = body["responses"]
        code = "200" if "200" in responses else sorted(c for c in responses if c.startswith("2"))[0]
        self.response_schema = responses[code]["content"]["application/json"]["schema"]
        rprops = resolve(spec, self.response_schema).get("properties") or {}
        qprops = (rb or {}).get("properties") or {}
        self.paginated = "start_cursor" in qprops and "next_cursor" in rprops
        self.description = body.get("description") or body.get("summary") or ""
        self.hand = path in HAND
        self.routes = []


def operations(spec):
    """Every POST operation of the spec, in the spec's order."""
    ops = []
    for path, item in spec["paths"].items():
        if "post" in item and path.startswith("/v1/"):
            ops.append(Op(spec, path, item["post"]))
    return ops


def load_spec(path=DEFAULT_SPEC):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def attach_routes(ops):
    """Reads `route("rpcName", Op::Variant, ...)` lines of the browser route table."""
    with open(ROUTES_FILE, encoding="utf-8") as f:
        text = f.read()
    by_variant = {camel(o.resource) + camel(o.method): o for o in ops}
    for name, variant in re.findall(r'route\(\s*"([A-Za-z]+)",\s*Op::([A-Za-z]+)', text):
        op = by_variant.get(variant)
        if op is None:
            raise SystemExit("%s: route %s names Op::%s, which is no operation of the spec" % (ROUTES_FILE, name, variant))
        op.routes.append(name)


def routed_operations(spec):
    """(Op variant, path) of the operations the browser routes call, in the order the route table of
    src/routes/current.rs first names them: the `Op` enum of src/schema (tools/gen_schema.py)."""
    ops = operations(spec)
    by_variant = {camel(o.resource) + camel(o.method): o for o in ops}
    with open(ROUTES_FILE, encoding="utf-8") as f:
        text = f.read()
    order = []
    for name, variant in re.findall(r'route\(\s*"([A-Za-z]+)",\s*Op::([A-Za-z]+)', text):
        if variant not in by_variant:
            raise SystemExit("%s: route %s names Op::%s, which is no operation of the spec" % (ROUTES_FILE, name, variant))
        if variant not in order:
            order.append(variant)
    return [(v, by_variant[v].path) for v in order]


def doc_for(op, clean_doc):
    text = METHOD_DOCS.get(op.path)
    if text is None:
        text = clean_doc(op.description) if op.description else "`%s.%s`." % (op.resource, op.method)
    return "%s (`POST %s`). %s" % (text.rstrip("."), op.path, RETRY_DOCS[op.retry])


def render_client(ops, clean_doc):
    out = []
    w = out.append
    w("// @generated by tools/gen_ops.py from the Autumn API spec; do not edit by hand.")
    w("// Regenerate with `python3 tools/gen_ops.py`.")
    w("")
    w("use super::pages::{CursorPage, CursorParams, Pages};")
    w("use super::{resource, BodyKind, Client, OperationInfo, RetryClass};")
    w("use crate::error::Error;")
    w("use crate::models::*;")
    w("use crate::transport::HttpTransport;")
    w("")
    w("/// Every operation of the API spec, in the spec's order.")
    w("#[allow(dead_code)]")
    w("pub(crate) const OPERATIONS: &[OperationInfo] = &[")
    for o in ops:
        w("    OperationInfo {")
        w('        path: "%s",' % o.path)
        w('        resource: "%s",' % o.resource)
        w('        method: "%s",' % o.method)
        w("        retry: RetryClass::%s," % o.retry)
        w("        body: BodyKind::%s," % o.body)
        w('        params: "%s",' % o.params)
        w('        answer: "%s",' % o.answer)
        w("        routes: &[%s]," % ", ".join('"%s"' % r for r in o.routes))
        w("    },")
    w("];")
    w("")
    for i, o in enumerate(ops):
        w("/// `%s`." % o.path)
        w("#[allow(dead_code)]")
        w("pub(crate) const %s: &OperationInfo = &OPERATIONS[%d];" % (o.const, i))
    w("")
    resources = []
    for o in ops:
        if o.resource not in resources:
            resources.append(o.resource)
    for r in resources:
        rops = [o for o in ops if o.resource == r]
        w("resource! {")
        w("    /// %s. Get one with [`Client::%s`](crate::Client::%s)." % (RESOURCE_DOCS.get(r, camel(r)), r, r))
        w("    %s" % camel(r))
        w("}")
        w("")
    w("impl<T: HttpTransport> Client<T> {")
    for r in resources:
        rops = [o for o in ops if o.resource == r]
        w("    /// %s: %s." % (RESOURCE_DOCS.get(r, camel(r)), ", ".join("`%s`" % o.method for o in rops)))
        w("    pub fn %s(&self) -> %s<'_, T> {" % (r, camel(r)))
        w("        %s::new(self)" % camel(r))
        w("    }")
        w("")
    w("}")
    w("")
    for r in resources:
        rops = [o for o in ops if o.resource == r and not o.hand]
        if not rops:
            continue
        w("impl<T: HttpTransport> %s<'_, T> {" % camel(r))
        for o in rops:
            w("    /// %s" % doc_for(o, clean_doc))
            w("    pub async fn %s(&self, params: &%s) -> Result<%s, Error> {" % (o.method, o.params, o.answer))
            key = "params.idempotency_key.as_deref()" if o.params == "TrackParams" else "None"
            if o.body == "None":
                w("        self.client.call_params(%s.operation(), params, params.extra.is_empty()).await" % o.const)
            else:
                w("        self.client.call(%s.operation(), params, %s).await" % (o.const, key))
            w("    }")
            w("")
            if o.paginated:
                w("    /// Every page of [`%s`](Self::%s), one call per page: starts at `params.start_cursor`" % (o.method, o.method))
                w("    /// and passes each answer's `next_cursor` back until there is none. Ends after the first error.")
                w("    pub fn %s_pages(&self, params: &%s) -> Pages<T, %s, %s> {" % (o.method, o.params, o.params, o.answer))
                w("        Pages::new(self.client.clone(), params.clone(), |c, p| {")
                w("            Box::pin(async move {")
                w("                let r = c.%s().%s(&p).await;" % (o.resource, o.method))
                w("                (p, r)")
                w("            })")
                w("        })")
                w("    }")
                w("")
        w("}")
        w("")
    for o in ops:
        if not o.paginated:
            continue
        w("impl CursorParams for %s {" % o.params)
        w("    fn set_start_cursor(&mut self, cursor: String) {")
        w("        self.start_cursor = Some(cursor);")
        w("    }")
        w("}")
        w("")
        w("impl CursorPage for %s {" % o.answer)
        w("    fn next_cursor(&self) -> Option<&str> {")
        w("        self.next_cursor.as_deref()")
        w("    }")
        w("}")
        w("")
    return "\n".join(out)


def render_blocking(ops, clean_doc):
    out = []
    w = out.append
    w("// @generated by tools/gen_ops.py from the Autumn API spec; do not edit by hand.")
    w("// Regenerate with `python3 tools/gen_ops.py`.")
    w("")
    w("use super::{Client, Pages};")
    w("use crate::error::Error;")
    w("use crate::models::*;")
    w("")
    resources = []
    for o in ops:
        if o.resource not in resources:
            resources.append(o.resource)
    w("impl Client {")
    for r in resources:
        rops = [o for o in ops if o.resource == r]
        w("    /// %s: %s." % (RESOURCE_DOCS.get(r, camel(r)), ", ".join("`%s`" % o.method for o in rops)))
        w("    pub fn %s(&self) -> %s<'_> {" % (r, camel(r)))
        w("        %s { client: self }" % camel(r))
        w("    }")
        w("")
    w("}")
    w("")
    for r in resources:
        w("/// Blocking %s; see [`crate::client::%s`]." % (RESOURCE_DOCS.get(r, camel(r)).lower()[:1] + RESOURCE_DOCS.get(r, camel(r))[1:], camel(r)))
        w("#[derive(Debug)]")
        w("pub struct %s<'a> {" % camel(r))
        w("    pub(super) client: &'a Client,")
        w("}")
        w("")
        rops = [o for o in ops if o.resource == r and not o.hand]
        if not rops:
            continue
        w("impl %s<'_> {" % camel(r))
        for o in rops:
            w("    /// %s" % doc_for(o, clean_doc))
            w("    pub fn %s(&self, params: &%s) -> Result<%s, Error> {" % (o.method, o.params, o.answer))
            w("        let params = params.clone();")
            w("        self.client.run(move |c| async move { c.%s().%s(&params).await })" % (o.resource, o.method))
            w("    }")
            w("")
            if o.paginated:
                w("    /// Every page of [`%s`](Self::%s), one call per `next()`; see" % (o.method, o.method))
                w("    /// [`crate::client::%s::%s_pages`]." % (camel(r), o.method))
                w("    pub fn %s_pages(&self, params: &%s) -> Pages<'_, %s, %s> {" % (o.method, o.params, o.params, o.answer))
                w("        Pages::new(self.client, params.clone(), |c, p| c.%s().%s(p))" % (o.resource, o.method))
                w("    }")
                w("")
        w("}")
        w("")
    return "\n".join(out)


def render_tests(ops):
    out = []
    w = out.append
    w("// @generated by tools/gen_ops.py from the Autumn API spec; do not edit by hand.")
    w("// Regenerate with `python3 tools/gen_ops.py`. Included by tests/all_operations.rs.")
    w("")
    w("operations! {")
    for o in ops:
        if not o.hand:
            w("    %s_%s: %s.%s(%s) -> %s;" % (o.resource, o.method, o.resource, o.method, o.params, o.answer))
    w("}")
    w("")
    w("pages! {")
    for o in ops:
        if o.paginated and not o.hand:
            w("    %s_%s_pages: %s.%s / %s_pages(%s);" % (o.resource, o.method, o.resource, o.method, o.method, o.params))
    w("}")
    w("")
    w("/// The methods written by hand (tested by hand in tests/all_operations.rs).")
    w("const HAND_WRITTEN: &[&str] = &[%s];" % ", ".join('"%s"' % o.path for o in ops if o.hand))
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    spec = load_spec(args[0] if args else DEFAULT_SPEC)
    ops = operations(spec)
    attach_routes(ops)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gen_models import clean_doc  # noqa: E402
    from gen_schema import rustfmt  # noqa: E402

    files = [
        (OUT_CLIENT, rustfmt(render_client(ops, clean_doc) + "\n")),
        (OUT_BLOCKING, rustfmt(render_blocking(ops, clean_doc) + "\n")),
        (OUT_TESTS, render_tests(ops) + "\n"),
    ]
    stale = False
    for path, text in files:
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                print("%s is out of date: run python3 tools/gen_ops.py" % path, file=sys.stderr)
                stale = True
            else:
                print("%s is up to date" % path, file=sys.stderr)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote %s: %d operations" % (path, len(ops)), file=sys.stderr)
    if stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
