//! The quickstart's demo page (`examples/quickstart/index.html`, served at `/`) clicked through in
//! headless Chromium by `tests/js/browser/demo.mjs` (playwright-core), against the quickstart on the
//! embedded offline Autumn (no `AUTUMN_SECRET_KEY`): free plan and 100 messages, the paywall naming
//! `messages` at the 101st, Upgrade to Pro, pay on the offline checkout page, back on the page with Pro,
//! and one more message.
//!
//! Screenshots land in `target/artifacts/`: `paywall.png` (the paywall state), `upgraded.png` (after
//! the upgrade) and `demo-failure.png` when a step fails.
//!
//! Needs Node.js 20+, npm and Chromium (`/usr/bin/chromium`, or `CHROMIUM`): without them the test
//! fails, it never skips. `tests/js/browser/node_modules` is installed with `npm ci` on first use.
//!
//! ```text
//! cargo test --all-features --test demo_page
//! ```

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

#[path = "support/quickstart.rs"]
mod quickstart;

use std::path::{Path, PathBuf};

use quickstart::{ensure_node_modules, profile_dir};

/// `target/artifacts`, where the screenshots go.
fn artifact_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("target/<profile> has a parent")
        .join("artifacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_page_walks_through_the_paywall_and_the_upgrade() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: the demo page test needs Chromium \
         (`apt-get install chromium`, or set CHROMIUM)"
    );
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/browser");
    {
        let dir = browser_dir.clone();
        tokio::task::spawn_blocking(move || {
            ensure_node_modules(&dir, "playwright-core/package.json")
        })
        .await
        .expect("npm ci");
    }
    // The bundled catalogue: free gives 100 messages a month, pro 2,000.
    let (_quickstart, url, _offline) =
        quickstart::start_offline_quickstart(&[], "demo-page-quickstart.log").await;
    let artifacts = artifact_dir();
    let text = quickstart::run_node(
        &browser_dir,
        "demo.mjs",
        &[
            ("QUICKSTART_URL", url.as_str()),
            ("ARTIFACT_DIR", artifacts.to_str().expect("a UTF-8 path")),
            ("CHROMIUM", chromium.as_str()),
        ],
        &[],
        "the demo page in Chromium",
    )
    .await;
    println!("{text}");
    let paywall = artifacts.join("paywall.png");
    assert!(
        paywall.exists(),
        "{} was not written:\n{text}",
        paywall.display()
    );
}
