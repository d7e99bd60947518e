//! Differential conformance of `Protocol::Legacy` with autumn-js 0.1.85, the last release of the legacy
//! protocol.
//!
//! `legacy_differential_against_autumn_js_0_1_85` starts the fake Autumn API v1.2
//! (`tests/js/legacy/fake-autumn.mjs`, which records every request and answers fixed, realistic JSON),
//! our quickstart example with `AUTUMN_PROTOCOL=legacy` against it (built into this test's
//! `target/<profile>` first), and the Node driver `tests/js/legacy/differential.mjs`. The driver starts
//! autumn-js 0.1.85's own backend (its hono adapter, `reference-server.mjs`) on the same fake and sends
//! every case of `cases.mjs` to both servers: requests captured from autumn-js 0.1.85's real React
//! `AutumnClient`, and raw requests it cannot send (bad JSON, wrong methods, unknown routes, trailing
//! slashes, hostile queries). Status, media type, body and the upstream requests must be the same,
//! except for the deliberate differences in `tests/js/legacy/allowlist.json` (each with its reason and
//! the exact behaviour our side must show). On every case, whatever the allow-list says, no upstream
//! request from our server may name a customer other than the identified one.
//!
//! `legacy_harness_agrees_with_itself` runs the same cases against two reference servers: they must
//! agree exactly, so a reported difference is the servers', not the harness's.
//!
//! Needs Node.js 20+ and npm on `PATH`; without them the tests fail (they do not skip).
//! `tests/js/legacy/node_modules` is installed with `npm ci` on first use.
//!
//! ```text
//! cargo test --all-features --test legacy_conformance
//! ```

#[path = "support/quickstart.rs"]
mod quickstart;

use std::path::{Path, PathBuf};

use quickstart::{ensure_node_modules, start_node, start_quickstart, Guard};

/// The secret key both servers send; the fake flags any request without it.
const SECRET_KEY: &str = "am_sk_test_legacy_conformance";

/// `tests/js/legacy`, where the Node side lives.
fn legacy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/legacy")
}

/// Installs the Node packages (once) and starts the fake Autumn v1.2.
async fn start_fake() -> (Guard, String) {
    tokio::task::spawn_blocking(|| ensure_node_modules(&legacy_dir(), "autumn-js/package.json"))
        .await
        .expect("npm ci");
    start_node(
        &legacy_dir(),
        "fake-autumn.mjs",
        &[("AUTUMN_SECRET_KEY", SECRET_KEY)],
        "fake autumn listening on ",
    )
    .await
}

/// Runs the driver against `ours` (a URL, or `reference` for the self-check); returns its report,
/// failing the test with the whole report when any case fails.
async fn run_driver(ours: &str, fake: &str) -> String {
    quickstart::run_node(
        &legacy_dir(),
        "differential.mjs",
        &[
            ("OURS_URL", ours),
            ("FAKE_URL", fake),
            ("AUTUMN_SECRET_KEY", SECRET_KEY),
        ],
        &["CASES"],
        "the legacy differential suite",
    )
    .await
}

/// The number of cases in the driver's closing line, `legacy differential: N cases over ...`.
fn case_count(report: &str) -> usize {
    report
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("legacy differential: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no closing line in the report:\n{report}"))
}

/// Our legacy routes against autumn-js 0.1.85's backend, case by case (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_differential_against_autumn_js_0_1_85() {
    let (_fake, fake_url) = start_fake().await;
    let (_ours, ours_url) = start_quickstart(
        &fake_url,
        SECRET_KEY,
        &[("AUTUMN_PROTOCOL", "legacy")],
        "legacy-conformance-quickstart.log",
    )
    .await;
    let report = run_driver(&ours_url, &fake_url).await;
    println!("{report}");
    assert!(
        report.contains("over 19 of 19 legacy routes") && report.contains(" 0 failed"),
        "{report}"
    );
    assert!(case_count(&report) >= 35, "{report}");
}

/// The harness against itself: two autumn-js 0.1.85 backends agree on every case, with no
/// allow-list and no request the fake flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_harness_agrees_with_itself() {
    let (_fake, fake_url) = start_fake().await;
    let report = run_driver("reference", &fake_url).await;
    assert!(
        report.contains("(0 as allow-listed") && report.contains(" 0 failed"),
        "{report}"
    );
}
