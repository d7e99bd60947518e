//! Differential conformance with autumn-js 1.3.13, the reference implementation.
//!
//! `differential_against_autumn_js` starts the fake Autumn API (`support::fake_autumn`) in
//! process, starts our quickstart example (`examples/quickstart.rs`, built into the same
//! `target/<profile>` first) against it, and runs `tests/js/differential.mjs`: every case goes through
//! autumn-js's own browser client to our server and to autumn-js's own backend
//! (`tests/js/reference-server.mjs`), and the client-visible results and the requests the fake
//! received must be the same, except for the deliberate differences listed in
//! `tests/js/allowlist.json`.
//!
//! Needs Node.js 20+ and npm on `PATH`; without them the tests fail (they do not skip).
//! `tests/js/node_modules` is installed with `npm ci` on first use.
//!
//! ```text
//! cargo test --test conformance
//! ```

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

#[path = "support/quickstart.rs"]
mod quickstart;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use quickstart::{ensure_node_modules as ensure_node_modules_in, profile_dir, Guard};
use support::fake_autumn::{response_violations, spec_paths};
use support::FakeAutumn;

/// The secret key our server is started with (the fake only checks its shape).
const SECRET_KEY: &str = "am_sk_test_conformance";

/// `tests/js`, where the Node side lives.
fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// `tests/js`'s packages (autumn-js).
fn ensure_node_modules() {
    ensure_node_modules_in(&js_dir(), "autumn-js/package.json");
}

/// Starts our quickstart example against `upstream`; returns it and its base URL.
async fn start_quickstart(upstream: &str) -> (Guard, String) {
    start_quickstart_with(upstream, &[]).await
}

/// [`start_quickstart`] with extra environment variables.
async fn start_quickstart_with(upstream: &str, env: &[(&str, &str)]) -> (Guard, String) {
    let log = format!(
        "conformance-quickstart-{}.log",
        upstream.rsplit(':').next().unwrap_or("0")
    );
    quickstart::start_quickstart(upstream, SECRET_KEY, env, &log).await
}

/// Runs the differential driver; returns its combined output, failing the test if it fails.
async fn run_driver(ours: &str, fake: &FakeAutumn) -> String {
    quickstart::run_node(
        &js_dir(),
        "differential.mjs",
        &[
            ("OURS_URL", ours),
            ("FAKE_URL", &fake.url()),
            ("AUTUMN_SECRET_KEY", SECRET_KEY),
        ],
        &["REFERENCE_URL"],
        "the differential suite",
    )
    .await
}

/// Our server against autumn-js's backend, case by case (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_against_autumn_js() {
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .expect("npm ci");
    let fake = FakeAutumn::start().await;
    let (_ours, ours_url) = start_quickstart(&fake.url()).await;
    let report = run_driver(&ours_url, &fake).await;
    println!("{report}");
}

/// The harness against itself: two autumn-js backends must agree on every case, so a
/// difference the suite reports is the servers', not the harness's (nondeterminism, leaks
/// between cases, a fake that answers differently twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_agrees_with_itself() {
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .expect("npm ci");
    let fake = FakeAutumn::start().await;
    let report = run_driver("reference", &fake).await;
    assert!(report.contains(" 0 failed"), "{report}");
}

/// The fake's generated responses conform to the spec they come from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_responses_are_schema_valid() {
    let fake = FakeAutumn::start().await;
    let mut problems = Vec::new();
    let paths = spec_paths();
    assert!(
        paths.len() > 50,
        "the spec lists only {} paths",
        paths.len()
    );
    for path in paths {
        let body = fake
            .response_for(&path)
            .unwrap_or_else(|| panic!("no generated response for {path}"));
        problems.extend(response_violations(&path, &body));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One HTTP/1.1 exchange over a fresh connection: `(status, body)`, or the I/O error (a reset).
async fn raw_post(
    addr: std::net::SocketAddr,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: fake\r\nauthorization: Bearer {SECRET_KEY}\r\n\
         x-api-version: 2.4.0\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
    Ok((status, body.to_owned()))
}

/// The fake records, validates, answers from the spec and injects each scripted fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_records_validates_and_injects_faults() {
    use support::Fault;
    let fake = FakeAutumn::start().await;
    let addr = fake.addr();
    let attach = "/v1/billing.attach";

    let (status, body) = raw_post(addr, attach, r#"{"customer_id":"c","plan_id":"pro"}"#)
        .await
        .expect("a normal answer");
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(Some(body), fake.response_for(attach));
    fake.assert_no_violations();

    raw_post(addr, attach, r#"{"plan_id":42}"#)
        .await
        .expect("an answer");
    let violations = fake.violations();
    assert!(
        violations.iter().any(|v| v.contains("customer_id"))
            && violations.iter().any(|v| v.contains("plan_id")),
        "{violations:?}"
    );
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].header("x-api-version"), Some("2.4.0"));
    assert_eq!(recorded[1].body, Some(serde_json::json!({"plan_id": 42})));

    fake.reset();
    assert!(fake.requests().is_empty() && fake.connections() == 0);
    let valid = r#"{"customer_id":"c","plan_id":"pro"}"#;

    let error = serde_json::json!({"message": "nope", "code": "payment_required"});
    fake.script(
        attach,
        Fault::Status {
            status: 402,
            body: error.clone(),
        },
    );
    let (status, body) = raw_post(addr, attach, valid).await.expect("an answer");
    assert_eq!(
        (
            status,
            serde_json::from_str::<serde_json::Value>(&body).ok()
        ),
        (402, Some(error))
    );

    fake.script("*", Fault::raw(200, "text/html", "<html>"));
    let (status, body) = raw_post(addr, "/v1/plans.list", "{}")
        .await
        .expect("an answer");
    assert_eq!((status, body.as_str()), (200, "<html>"));

    fake.script(attach, Fault::Reset);
    let outcome = raw_post(addr, attach, valid).await;
    assert!(
        outcome
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "a reset, not {outcome:?}"
    );

    fake.script(attach, Fault::ResetMidBody);
    let outcome = raw_post(addr, attach, valid).await;
    assert!(
        outcome
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "a reset in the body, not {outcome:?}"
    );

    fake.script(attach, Fault::Delay { ms: 300 });
    let started = std::time::Instant::now();
    let (status, _) = raw_post(addr, attach, valid).await.expect("an answer");
    assert!(status == 200 && started.elapsed() >= Duration::from_millis(300));

    let unavailable = serde_json::json!({"message": "busy", "code": "unavailable"});
    fake.script_times(
        attach,
        Fault::Status {
            status: 503,
            body: unavailable,
        },
        1,
    );
    let first = raw_post(addr, attach, valid).await.expect("an answer");
    let second = raw_post(addr, attach, valid).await.expect("an answer");
    assert_eq!((first.0, second.0), (503, 200), "the fault applies once");

    assert_eq!(fake.connections(), 7);
    assert_eq!(fake.requests().len(), 7);
}

/// Which backend the browser test's page talks to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    /// Our quickstart example.
    Ours,
    /// autumn-js's own backend (`tests/js/reference-server.mjs`) with an app-level CORS answer.
    Reference,
}

/// Runs `tests/js/browser/e2e.mjs` against `backend`; fails the test with its report on failure.
async fn browser_e2e(backend: Backend) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: the browser test needs Chromium \
         (`apt-get install chromium`, or set CHROMIUM)"
    );
    let browser_dir = js_dir().join("browser");
    {
        let dir = browser_dir.clone();
        tokio::task::spawn_blocking(move || {
            ensure_node_modules();
            ensure_node_modules_in(&dir, "playwright-core/package.json");
        })
        .await
        .expect("npm ci");
    }
    let fake = FakeAutumn::start().await;
    // The page's origin must be known before the backend starts (its CORS allows one origin).
    let page_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("reserve a port")
        .port();
    let origin = format!("http://127.0.0.1:{page_port}");
    let (_backend, backend_url) = match backend {
        Backend::Ours => {
            start_quickstart_with(&fake.url(), &[("FRONTEND_ORIGIN", origin.as_str())]).await
        }
        Backend::Reference => start_reference(&fake.url(), &origin).await,
    };
    let artifacts = profile_dir().join(match backend {
        Backend::Ours => "browser-e2e",
        Backend::Reference => "browser-e2e-reference",
    });
    let page_port = page_port.to_string();
    let text = quickstart::run_node(
        &browser_dir,
        "e2e.mjs",
        &[
            ("BACKEND_URL", backend_url.as_str()),
            ("FAKE_URL", &fake.url()),
            ("PAGE_PORT", &page_port),
            ("ARTIFACT_DIR", artifacts.to_str().expect("a UTF-8 path")),
            ("CHROMIUM", chromium.as_str()),
        ],
        &[],
        &format!("the browser end-to-end test against {backend:?}"),
    )
    .await;
    println!("{text}");
}

/// Starts autumn-js's backend (`tests/js/reference-server.mjs`) against `upstream`, answering
/// CORS for `cors_origin`; returns it and its base URL.
async fn start_reference(upstream: &str, cors_origin: &str) -> (Guard, String) {
    quickstart::start_node(
        &js_dir(),
        "reference-server.mjs",
        &[
            ("PORT", "0"),
            ("AUTUMN_SECRET_KEY", SECRET_KEY),
            ("AUTUMN_API_URL", upstream),
            ("CORS_ORIGIN", cors_origin),
        ],
        "autumn reference listening on ",
    )
    .await
}

/// The React page in `tests/js/browser` (autumn-js's `AutumnProvider`, `useCustomer`,
/// `useListPlans` and `attach`), built with Vite and opened in headless Chromium, against our
/// quickstart and the fake Autumn API: the customer and its balances render, the plans render,
/// attach lands on the fake's checkout page, and an anonymous visitor gets `no_customer_id`.
/// Screenshots of failures go to `target/<profile>/browser-e2e/`.
///
/// Needs Chromium (`/usr/bin/chromium`, or `CHROMIUM`); fails without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_page_works_in_chromium_against_our_quickstart() {
    browser_e2e(Backend::Ours).await;
}

/// The same browser scenarios against autumn-js's own backend: they pass there, so a failure of
/// [`react_page_works_in_chromium_against_our_quickstart`] is our server's, not the page's or the
/// harness's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_harness_against_reference() {
    browser_e2e(Backend::Reference).await;
}

/// autumn-js's own response parsers accept the fake's generated answers, for every path the
/// SDK calls that the spec has (`tests/js/fake-parse.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_responses_parse_in_autumn_js() {
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .expect("npm ci");
    let fake = FakeAutumn::start().await;
    let text = quickstart::run_node(
        &js_dir(),
        "fake-parse.mjs",
        &[("FAKE_URL", &fake.url())],
        &[],
        "autumn-js rejects answers of the fake:",
    )
    .await;
    println!("{text}");
}

/// The client-side cases against the quickstart on the offline Autumn: each has the outcome it has
/// on the fake (see `tests/js/offline.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cases_on_the_offline_autumn() {
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .expect("npm ci");
    let fake = FakeAutumn::start().await;
    let (_ours, ours_url) = start_quickstart(&fake.url()).await;
    let catalog = js_dir().join("offline-catalog.json");
    let (_offline, offline_url, offline_api) = quickstart::start_offline_quickstart(
        &[(
            "AUTUMN_OFFLINE_CATALOG",
            catalog.to_str().expect("a UTF-8 path"),
        )],
        "conformance-quickstart-offline.log",
    )
    .await;
    let text = quickstart::run_node(
        &js_dir(),
        "offline.mjs",
        &[
            ("OURS_URL", &ours_url),
            ("FAKE_URL", &fake.url()),
            ("OFFLINE_URL", &offline_url),
            ("OFFLINE_API", &offline_api),
        ],
        &[],
        "client cases on the offline Autumn",
    )
    .await;
    println!("{text}");
}
