//! Every operation of the API spec through the typed client, async and blocking, against the
//! spec-driven fake Autumn on 127.0.0.1 (`tests/support`).
//!
//! For each operation the fake builds the fullest spec-valid request body (every optional field and
//! nested object present); it is decoded into the operation's params type (every field typed: nothing
//! in `extra`) and sent by the typed method. The request must be exactly `POST <path>` with that body,
//! pass the fake's schema validation, and the fake's generated answer (every field populated) must decode
//! with no field left in `extra` and write back the same JSON. Plus: the pages of every cursor-paginated
//! list, as a `Stream` and as a blocking iterator.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

mod support;

use std::future::poll_fn;
use std::pin::Pin;

use autumn_tower::models::*;
use autumn_tower::Client;
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::fake_autumn::{client_builder, generated_request, spec_paths};
use support::{numbers_as_f64, FakeAutumn, Fault};

const KEY: &str = "am_sk_test_all_operations";

fn client(url: &str) -> Client {
    client_builder(url, KEY).build().unwrap()
}

fn blocking(url: &str) -> autumn_tower::blocking::Client {
    autumn_tower::blocking::Client::from_builder(client_builder(url, KEY)).unwrap()
}

/// The params of `path` from the fake's fullest request (`{}` for an operation without a body), and
/// the body the client must send (`None`: no body at all).
fn params<P: DeserializeOwned + UnknownFields>(path: &str) -> (P, Option<Value>) {
    let body = generated_request(path);
    let params: P = serde_json::from_value(body.clone().unwrap_or_else(|| json!({})))
        .unwrap_or_else(|e| panic!("{path}: the spec's request does not decode: {e}"));
    assert_eq!(
        params.unknown_fields(),
        Vec::<String>::new(),
        "{path}: every request field is typed"
    );
    (params, body)
}

/// The unknown fields that are not the fake's keys of a user-keyed map: an object whose schema has
/// `additionalProperties` besides its fields (`platform.get_revenuecat_keys`' `api_keys[]`) keeps
/// those keys in `extra`, where they belong.
fn declared_fields_only(unknown: Vec<String>) -> Vec<String> {
    unknown
        .into_iter()
        .filter(|p| !p.ends_with(".camelCaseKey") && !p.ends_with(".snake_key"))
        .collect()
}

/// The one request the fake saw, and the typed answer.
fn check<R: Serialize + UnknownFields>(
    fake: &FakeAutumn,
    path: &str,
    body: Option<Value>,
    answer: &R,
) {
    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "{path}: one request");
    let req = &seen[0];
    assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", path));
    assert_eq!(req.query, None, "{path}: no query string");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("x-api-version"), Some("2.4.0"), "{path}");
    match body {
        None => assert_eq!(req.raw_body, "", "{path}: no body"),
        Some(body) => assert_eq!(
            req.body.clone().map(numbers_as_f64),
            Some(numbers_as_f64(body)),
            "{path}: the body sent is the spec's request"
        ),
    }
    fake.assert_no_violations();
    assert_eq!(
        declared_fields_only(answer.unknown_fields()),
        Vec::<String>::new(),
        "{path}: every answer field is typed"
    );
    assert_eq!(
        numbers_as_f64(serde_json::to_value(answer).unwrap()),
        numbers_as_f64(fake.response_for(path).unwrap()),
        "{path}: the typed answer writes back what was received"
    );
}

macro_rules! operations {
    ($($name:ident: $resource:ident . $method:ident ($P:ty) -> $R:ty;)*) => {
        /// The operations tested by the macro (the hand-written methods are tested below).
        const PATHS: &[&str] = &[$(concat!("/v1/", stringify!($resource), ".", stringify!($method))),*];

        $(
            mod $name {
                use super::*;

                const PATH: &str = concat!("/v1/", stringify!($resource), ".", stringify!($method));

                #[tokio::test]
                async fn async_client() {
                    let fake = FakeAutumn::start().await;
                    let (params, body) = params::<$P>(PATH);
                    let answer: $R = client(&fake.url())
                        .$resource()
                        .$method(&params)
                        .await
                        .unwrap_or_else(|e| panic!("{PATH}: {e:?}"));
                    check(&fake, PATH, body, &answer);
                }

                #[test]
                fn blocking_client() {
                    let rt = tokio::runtime::Runtime::new().unwrap();
                    let fake = rt.block_on(FakeAutumn::start());
                    let (params, body) = params::<$P>(PATH);
                    let answer: $R = blocking(&fake.url())
                        .$resource()
                        .$method(&params)
                        .unwrap_or_else(|e| panic!("{PATH}: {e:?}"));
                    check(&fake, PATH, body, &answer);
                }
            }
        )*
    };
}

/// Every operation of the spec is tested: by the macro, or by hand below.
#[test]
fn every_operation_of_the_spec_is_tested() {
    let mut tested: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
    // The hand-written methods, each with a test of its own below.
    assert_eq!(
        HAND_WRITTEN,
        ["/v1/balances.batch_track", "/v1/keys.refresh"]
    );
    tested.extend(HAND_WRITTEN.iter().map(|p| p.to_string()));
    tested.sort();
    let mut spec = spec_paths();
    spec.sort();
    assert_eq!(tested, spec);
}

/// `balances.batch_track`: the body is the array of the spec's track requests, with the key given.
#[tokio::test]
async fn balances_batch_track_sends_the_array_with_the_idempotency_key() {
    let path = "/v1/balances.batch_track";
    let fake = FakeAutumn::start().await;
    let body = generated_request(path).unwrap();
    let events: Vec<TrackParams> = serde_json::from_value(body.clone()).unwrap();
    assert!(events.iter().all(|e| e.unknown_fields().is_empty()));
    let answer = client(&fake.url())
        .balances()
        .batch_track(&events, Some("batch_1"))
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].header("idempotency-key"),
        Some("batch_1")
    );
    check(&fake, path, Some(body.clone()), &answer);

    fake.reset();
    let answer = tokio::task::spawn_blocking({
        let url = fake.url();
        move || {
            // (a thread of its own: spawn_blocking threads count as inside the runtime)
            std::thread::spawn(move || blocking(&url).balances().batch_track(&events, None))
                .join()
                .unwrap()
        }
    })
    .await
    .unwrap()
    .unwrap();
    assert!(fake.requests()[0].header("idempotency-key").is_some());
    check(&fake, path, Some(body), &answer);
}

/// `keys.refresh` is sent with the refresh token as its Bearer credential, not the secret key.
#[tokio::test]
async fn keys_refresh_sends_the_refresh_token_as_the_bearer() {
    let path = "/v1/keys.refresh";
    let fake = FakeAutumn::start().await;
    let (params, body) = params::<RefreshKeyParams>(path);
    let answer = client(&fake.url())
        .keys()
        .refresh(&params, "am_rt_refresh_1")
        .await
        .unwrap();
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, path);
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer am_rt_refresh_1")
    );
    assert_eq!(
        seen[0].body.clone().map(numbers_as_f64),
        body.map(numbers_as_f64)
    );
    fake.assert_no_violations();
    assert!(answer.unknown_fields().is_empty());
    assert_eq!(
        numbers_as_f64(serde_json::to_value(&answer).unwrap()),
        numbers_as_f64(fake.response_for(path).unwrap())
    );
}

// ---------------------------------------------------------------------------------------------
// pages

/// The fake answers `path` with a page whose `next_cursor` is `cursor_2`, then (any path) with a
/// last page whose `next_cursor` is null.
fn script_two_pages(fake: &FakeAutumn, path: &str) -> (Value, Value) {
    let mut first = fake.response_for(path).unwrap();
    first["next_cursor"] = json!("cursor_2");
    let mut last = fake.response_for(path).unwrap();
    last["next_cursor"] = Value::Null;
    last["list"] = json!([]);
    fake.script_times(
        path,
        Fault::Status {
            status: 200,
            body: first.clone(),
        },
        1,
    );
    fake.script(
        "*",
        Fault::Status {
            status: 200,
            body: last.clone(),
        },
    );
    (first, last)
}

/// The requests' `start_cursor`s.
fn cursors(fake: &FakeAutumn, path: &str) -> Vec<Value> {
    let seen = fake.requests();
    assert!(seen.iter().all(|r| r.path == path));
    fake.assert_no_violations();
    seen.iter()
        .map(|r| r.body.as_ref().unwrap()["start_cursor"].clone())
        .collect()
}

macro_rules! pages {
    ($($name:ident: $resource:ident . $method:ident / $pages:ident ($P:ty);)*) => {
        $(
            /// Two pages as a `Stream`, then as a blocking iterator; the second request carries the
            /// first page's `next_cursor`, and the stream ends after the page without one.
            #[tokio::test]
            async fn $name() {
                let path = concat!("/v1/", stringify!($resource), ".", stringify!($method));
                let fake = FakeAutumn::start().await;
                let (first, last) = script_two_pages(&fake, path);
                let params = <$P>::default().start_cursor("cursor_1").limit(2);
                let c = client(&fake.url());
                let mut pages = c.$resource().$pages(&params);
                let mut got = Vec::new();
                while let Some(page) = poll_fn(|cx| Pin::new(&mut pages).poll_next(cx)).await {
                    got.push(numbers_as_f64(serde_json::to_value(page.unwrap()).unwrap()));
                }
                assert_eq!(got, [numbers_as_f64(first.clone()), numbers_as_f64(last.clone())]);
                assert_eq!(cursors(&fake, path), [json!("cursor_1"), json!("cursor_2")]);
                assert!(poll_fn(|cx| Pin::new(&mut pages).poll_next(cx)).await.is_none());

                fake.reset();
                script_two_pages(&fake, path);
                let url = fake.url();
                let got = tokio::task::spawn_blocking(move || {
                    std::thread::spawn(move || {
                        let c = blocking(&url);
                        c.$resource()
                            .$pages(&params)
                            .map(|p| numbers_as_f64(serde_json::to_value(p.unwrap()).unwrap()))
                            .collect::<Vec<_>>()
                    })
                    .join()
                    .unwrap()
                })
                .await
                .unwrap();
                assert_eq!(got, [numbers_as_f64(first), numbers_as_f64(last)]);
                assert_eq!(cursors(&fake, path), [json!("cursor_1"), json!("cursor_2")]);
            }
        )*
    };
}

/// An error ends the stream: it is the last item, and nothing more is asked.
#[tokio::test]
async fn pages_end_after_an_error() {
    let path = "/v1/customers.list";
    let fake = FakeAutumn::start().await;
    let mut first = fake.response_for(path).unwrap();
    first["next_cursor"] = json!("cursor_2");
    fake.script_times(
        path,
        Fault::Status {
            status: 200,
            body: first,
        },
        1,
    );
    fake.script(
        "*",
        Fault::Status {
            status: 500,
            body: json!({"code": "internal", "message": "boom"}),
        },
    );
    let c = client(&fake.url());
    let mut pages = c.customers().list_pages(&ListCustomersParams::new());
    let mut items = Vec::new();
    while let Some(page) = poll_fn(|cx| Pin::new(&mut pages).poll_next(cx)).await {
        items.push(page.map(|_| ()).map_err(|e| e.status().map(|s| s.as_u16())));
    }
    assert_eq!(items, [Ok(()), Err(Some(500))]);
    assert_eq!(fake.requests().len(), 2);
}

/// A page that answers the cursor it was asked for ends the stream instead of looping.
#[tokio::test]
async fn pages_stop_on_a_repeated_cursor() {
    let path = "/v1/events.list";
    let fake = FakeAutumn::start().await;
    let mut page = fake.response_for(path).unwrap();
    page["next_cursor"] = json!("same");
    fake.script(
        path,
        Fault::Status {
            status: 200,
            body: page,
        },
    );
    let c = client(&fake.url());
    let mut pages = c.events().list_pages(&ListEventsParams::new());
    let mut n = 0;
    while let Some(page) = poll_fn(|cx| Pin::new(&mut pages).poll_next(cx)).await {
        page.unwrap();
        n += 1;
    }
    assert_eq!(n, 2, "the first page, then the one that repeats its cursor");
}

// The case lists (`operations!`, `pages!`, `HAND_WRITTEN`), generated from the operation table by
// tools/gen_ops.py.
include!("support/operations.rs");
