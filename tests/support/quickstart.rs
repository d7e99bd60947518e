//! Running the real programs a differential suite compares: the quickstart example (built into this
//! test binary's `target/<profile>` first), Node scripts that print the URL they listen on, and
//! `npm ci` for a Node package directory.
//!
//! Used by `tests/conformance.rs`, `tests/legacy_conformance.rs` and `tests/load_faults.rs`
//! (`#[path = "support/quickstart.rs"] mod quickstart;`).

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `target/<profile>`: a test binary lives in `target/<profile>/deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is not in target/<profile>/deps")
        .to_path_buf()
}

/// Fails unless `node` and `npm` run; then runs `npm ci` in `dir` unless `node_modules/<marker>`
/// exists. Missing Node is a failure, never a skip.
pub fn ensure_node_modules(dir: &Path, marker: &str) {
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
            "`{tool}` is not on PATH: the differential suites need Node.js 20+ and npm \
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

/// A child process, killed when dropped (a failing test leaves nothing behind).
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// Builds `examples/quickstart.rs` into this test binary's `target/<profile>` (once per process).
///
/// `cargo test --test <name>` does not build examples, and a stale binary would test old code.
/// Cargo does not hold its build lock while tests run, so a nested `cargo build` is safe; when the
/// binary is fresh it only checks timestamps.
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
        Some("debug") | None => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(other) => {
            cargo.args(["--profile", other]);
        }
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

/// Waits (30 s at most) until `child`'s stdout has shown every needle; returns, for each, the URL that
/// follows it (up to a space or `)`), and keeps draining stdout so the child never blocks on a full pipe.
async fn banner(child: &mut Child, needles: &[&str], what: &str) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut found: Vec<Option<String>> = vec![None; needles.len()];
    let complete = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            for (needle, slot) in needles.iter().zip(found.iter_mut()) {
                if let Some((_, rest)) = line.split_once(needle) {
                    let url = rest.split([' ', ')']).next().unwrap_or_default();
                    *slot = Some(url.trim().to_owned());
                }
            }
            if found.iter().all(Option::is_some) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(complete, "{what} did not print {needles:?} within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found.into_iter().flatten().collect()
}

/// The quickstart binary, built first.
pub async fn quickstart_binary() -> PathBuf {
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
    binary
}

/// Starts the quickstart on `127.0.0.1:0` with `env` (its stderr, the tracing log, goes to
/// `target/<profile>/<log_name>`); returns it and the URLs after `needles` in its start-up lines.
async fn start(
    env: &[(&str, &str)],
    remove: &[&str],
    log_name: &str,
    needles: &[&str],
) -> (Guard, Vec<String>) {
    let binary = quickstart_binary().await;
    let log_path = profile_dir().join(log_name);
    let log = std::fs::File::create(&log_path).expect("create the quickstart log");
    let mut command = Command::new(&binary);
    command
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "warn");
    for name in remove {
        command.env_remove(name);
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let what = format!("the quickstart (log: {})", log_path.display());
    let urls = banner(&mut child, needles, &what).await;
    (Guard(child), urls)
}

/// The quickstart without a key, on the embedded offline Autumn, with `env` (e.g. its catalogue);
/// returns it, its base URL and the URL of the offline Autumn it serves (API and checkout pages).
pub async fn start_offline_quickstart(
    env: &[(&str, &str)],
    log_name: &str,
) -> (Guard, String, String) {
    let (guard, urls) = start(
        env,
        &["AUTUMN_SECRET_KEY", "AUTUMN_API_URL", "AUTUMN_PROTOCOL"],
        log_name,
        &["autumn quickstart listening on ", "checkout pages at "],
    )
    .await;
    let [url, api] = <[String; 2]>::try_from(urls).expect("two URLs");
    (guard, url, api)
}

/// Starts the quickstart example on `127.0.0.1:0` with `AUTUMN_SECRET_KEY=secret`,
/// `AUTUMN_API_URL=upstream` and `env`; returns it and its base URL. Its stderr (the tracing log)
/// goes to `target/<profile>/<log_name>`.
pub async fn start_quickstart(
    upstream: &str,
    secret: &str,
    env: &[(&str, &str)],
    log_name: &str,
) -> (Guard, String) {
    let mut all = vec![("AUTUMN_SECRET_KEY", secret), ("AUTUMN_API_URL", upstream)];
    all.extend_from_slice(env);
    let (guard, mut urls) = start(&all, &[], log_name, &["autumn quickstart listening on "]).await;
    (guard, urls.remove(0))
}

/// Starts `node <script>` in `dir` with `env`; returns it and the URL from its
/// `<prefix>http://...` line. Its stderr is inherited (it shows in the test's output on failure).
pub async fn start_node(
    dir: &Path,
    script: &str,
    env: &[(&str, &str)],
    prefix: &str,
) -> (Guard, String) {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start node {script}: {e}"));
    let mut urls = banner(&mut child, &[prefix], &format!("node {script}")).await;
    (Guard(child), urls.remove(0))
}

/// Runs `node <script>` in `dir` with `env` set and `remove` unset, to the end; returns its stdout
/// and stderr, failing the test (with that output) when it fails.
pub async fn run_node(
    dir: &Path,
    script: &str,
    env: &[(&str, &str)],
    remove: &[&str],
    what: &str,
) -> String {
    let mut command = Command::new("node");
    for name in remove {
        command.env_remove(name);
    }
    let output = command
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run node {script}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{text}",
        output.status
    );
    text
}
