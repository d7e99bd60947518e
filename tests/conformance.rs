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

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use support::fake_autumn::{response_violations, spec_paths};
use support::FakeAutumn;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The secret key our server is started with (the fake only checks its shape).
const SECRET_KEY: &str = "am_sk_test_conformance";

/// `tests/js`, where the Node side lives.
fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// `target/<profile>`: this test binary lives in `target/<profile>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is not in target/<profile>/deps")
        .to_path_buf()
}

/// Runs `npm ci` in `dir` unless its `node_modules` has `marker`; fails if node or npm is missing.
fn ensure_node_modules_in(dir: &Path, marker: &str) {
    static ONCE: Mutex<()> = Mutex::new(());
    let _guard = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    for tool in ["node", "npm"] {
        let found = std::process::Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "`{tool}` is not on PATH: the conformance tests need Node.js 20+ and npm \
             (they run autumn-js, the reference implementation)"
        );
    }
    if dir.join("node_modules").join(marker).exists() {
        return;
    }
    let output = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .expect("run npm ci");
    assert!(
        output.status.success(),
        "`npm ci` in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `tests/js`'s packages (autumn-js).
fn ensure_node_modules() {
    ensure_node_modules_in(&js_dir(), "autumn-js/package.json");
}

/// A child process killed when dropped (so a failing test leaves nothing behind).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// Builds `examples/quickstart.rs` into this test binary's `target/<profile>` (once per process).
///
/// A plain `cargo test` builds the examples already, but `cargo test --test conformance` does
/// not, and a stale binary would test old code. Cargo does not hold its build lock while tests
/// run, so a nested `cargo build` is safe; when it is fresh it only checks timestamps.
fn build_quickstart() {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if *built {
        return;
    }
    let profile = profile_dir();
    let target_dir = profile.parent().expect("target/<profile> has a parent");
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--example",
            "quickstart",
            "--target-dir",
        ])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(other) => {
            cargo.args(["--profile", other]);
        }
        None => {}
    }
    let output = cargo
        .output()
        .expect("run cargo build --example quickstart");
    assert!(
        output.status.success(),
        "`cargo build --example quickstart` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    *built = true;
}

/// Starts our quickstart example against `upstream`; returns it and its base URL.
async fn start_quickstart(upstream: &str) -> (Guard, String) {
    start_quickstart_with(upstream, &[]).await
}

/// [`start_quickstart`] with extra environment variables.
async fn start_quickstart_with(upstream: &str, extra_env: &[(&str, &str)]) -> (Guard, String) {
    tokio::task::spawn_blocking(build_quickstart)
        .await
        .expect("build the quickstart");
    let binary = profile_dir()
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing after `cargo build --example quickstart`",
        binary.display()
    );
    let log_path = profile_dir().join(format!(
        "conformance-quickstart-{}.log",
        upstream.rsplit(':').next().unwrap_or("0")
    ));
    let log = std::fs::File::create(&log_path).expect("create the quickstart log");
    let mut child = Command::new(&binary)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("AUTUMN_SECRET_KEY", SECRET_KEY)
        .env("AUTUMN_API_URL", upstream)
        .env("RUST_LOG", "warn")
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read quickstart stdout") {
            if let Some(url) = line.strip_prefix("autumn quickstart listening on ") {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| {
        panic!(
            "the quickstart did not print `autumn quickstart listening on http://...` within 30 s; \
             its log: {}",
            log_path.display()
        )
    });
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (Guard(child), url)
}

/// Runs the differential driver; returns its combined output, failing the test if it fails.
async fn run_driver(ours: &str, fake: &FakeAutumn) -> String {
    let output = Command::new("node")
        .arg("differential.mjs")
        .current_dir(js_dir())
        .env("OURS_URL", ours)
        .env("FAKE_URL", fake.url())
        .env("AUTUMN_SECRET_KEY", SECRET_KEY)
        .env_remove("REFERENCE_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node tests/js/differential.mjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the differential suite failed ({}):\n{text}",
        output.status
    );
    text
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

    fake.script(
        "*",
        Fault::Raw {
            status: 200,
            body: "<html>".into(),
            content_type: None,
        },
    );
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
    let output = Command::new("node")
        .arg("e2e.mjs")
        .current_dir(&browser_dir)
        .env("BACKEND_URL", &backend_url)
        .env("FAKE_URL", fake.url())
        .env("PAGE_PORT", page_port.to_string())
        .env("ARTIFACT_DIR", &artifacts)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node tests/js/browser/e2e.mjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the browser end-to-end test against {backend:?} failed ({}):\n{text}",
        output.status
    );
    println!("{text}");
}

/// Starts autumn-js's backend (`tests/js/reference-server.mjs`) against `upstream`, answering
/// CORS for `cors_origin`; returns it and its base URL.
async fn start_reference(upstream: &str, cors_origin: &str) -> (Guard, String) {
    let mut child = Command::new("node")
        .arg("reference-server.mjs")
        .current_dir(js_dir())
        .env("PORT", "0")
        .env("AUTUMN_SECRET_KEY", SECRET_KEY)
        .env("AUTUMN_API_URL", upstream)
        .env("CORS_ORIGIN", cors_origin)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node tests/js/reference-server.mjs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read reference stdout") {
            if let Some(url) = line.strip_prefix("autumn reference listening on ") {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the reference server did not start within 30 s");
    (Guard(child), url)
}

/// The React page in `tests/js/browser` (autumn-js's `AutumnProvider`, `useCustomer`,
/// `useListPlans` and `attach`), built with Vite and opened in headless Chromium, against our
/// quickstart and the fake Autumn API: the customer and its balances render, the plans render,
/// attach lands on the fake's checkout page, and an anonymous visitor gets `no_customer_id`.
/// Screenshots of failures go to `target/<profile>/browser-e2e/`.
///
/// Needs Chromium (`/usr/bin/chromium`, or `CHROMIUM`); fails without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_end_to_end() {
    browser_e2e(Backend::Ours).await;
}

/// The same browser scenarios against autumn-js's own backend: they pass there, so a failure of
/// [`browser_end_to_end`] is our server's, not the page's or the harness's.
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
    let output = Command::new("node")
        .arg("fake-parse.mjs")
        .current_dir(js_dir())
        .env("FAKE_URL", fake.url())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node tests/js/fake-parse.mjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "autumn-js rejects answers of the fake ({}):\n{text}",
        output.status
    );
    println!("{text}");
}

/// Our quickstart with no key (on the embedded offline Autumn, selling `tests/js/offline-catalog.json`);
/// returns it, its base URL and the URL of the offline Autumn it serves.
async fn start_offline_quickstart() -> (Guard, String, String) {
    tokio::task::spawn_blocking(build_quickstart)
        .await
        .expect("build the quickstart");
    let binary = profile_dir()
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    let mut child = Command::new(&binary)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env_remove("AUTUMN_SECRET_KEY")
        .env_remove("AUTUMN_PROTOCOL")
        .env(
            "AUTUMN_OFFLINE_CATALOG",
            js_dir().join("offline-catalog.json"),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (url, api) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut url = None;
        while let Some(line) = lines.next_line().await.expect("read quickstart stdout") {
            if let Some(u) = line.strip_prefix("autumn quickstart listening on ") {
                url = Some(u.trim().to_owned());
            } else if let Some((_, rest)) = line.split_once("checkout pages at ") {
                let api = rest.split(')').next().unwrap_or_default().to_owned();
                return url.map(|u| (u, api));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the quickstart printed its address and the offline Autumn's within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (Guard(child), url, api)
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
    let (_offline, offline_url, offline_api) = start_offline_quickstart().await;
    let output = Command::new("node")
        .arg("offline.mjs")
        .current_dir(js_dir())
        .env("OURS_URL", &ours_url)
        .env("FAKE_URL", fake.url())
        .env("OFFLINE_URL", &offline_url)
        .env("OFFLINE_API", &offline_api)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node tests/js/offline.mjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "client cases on the offline Autumn failed ({}):\n{text}",
        output.status
    );
    println!("{text}");
}
