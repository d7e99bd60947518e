//! A minimal closed-loop HTTP/1.1 load generator for the ladder (`benches/load/ladder.sh`), for
//! machines without wrk and for the callgrind runs, which need an exact request count.
//!
//! ```text
//! loadgen <url> <connections> (<duration, e.g. 10s> | <request count, e.g. 2000n>)
//! ```
//!
//! Each of `connections` keep-alive connections sends the same `POST` (body from `BODY`, default
//! `{"errorOnNotFound":false}`, and request.lua's identity headers) as soon as its previous answer has been
//! read whole. Prints wrk's `RESULT` line of `request.lua` (latencies are per request, in µs; a non-2xx
//! answer counts as `err_status`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Default)]
struct Errors {
    connect: AtomicU64,
    read: AtomicU64,
    status: AtomicU64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: loadgen <url> <connections> <duration like 10s | count like 2000n>";
    let uri: Uri = args.next().expect(usage).parse().expect(usage);
    let conns: usize = args.next().expect(usage).parse().expect(usage);
    let limit = args.next().expect(usage);
    let (deadline, budget) = if let Some(n) = limit.strip_suffix('n') {
        (None, n.parse::<u64>().expect(usage))
    } else {
        let secs: f64 = limit.trim_end_matches('s').parse().expect(usage);
        (Some(Duration::from_secs_f64(secs)), u64::MAX)
    };
    let body = Bytes::from(
        std::env::var("BODY").unwrap_or_else(|_| r#"{"errorOnNotFound":false}"#.into()),
    );
    let authority = uri.authority().expect(usage).clone();
    let left = Arc::new(AtomicU64::new(budget));
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Errors::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (uri, body, authority) = (uri.clone(), body.clone(), authority.clone());
        let (left, bytes, errors) = (left.clone(), bytes.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::new();
            let Ok(stream) = TcpStream::connect(authority.as_str()).await else {
                errors.connect.fetch_add(1, Relaxed);
                return lat;
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut send, conn)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                errors.connect.fetch_add(1, Relaxed);
                return lat;
            };
            tokio::spawn(conn);
            loop {
                if deadline.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                if left
                    .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
                    .is_err()
                {
                    break;
                }
                let req = Request::post(uri.clone())
                    .header("host", authority.as_str())
                    .header("content-type", "application/json")
                    .header("x-customer-id", "cus_load_0001")
                    .header("x-customer-name", "Ada Lovelace")
                    .header("x-customer-email", "ada@example.com")
                    .body(Full::new(body.clone()))
                    .unwrap();
                let t = Instant::now();
                let Ok(resp) = send.send_request(req).await else {
                    errors.read.fetch_add(1, Relaxed);
                    break;
                };
                let ok = resp.status().is_success();
                match resp.into_body().collect().await {
                    Ok(b) => {
                        bytes.fetch_add(b.to_bytes().len() as u64, Relaxed);
                    }
                    Err(_) => {
                        errors.read.fetch_add(1, Relaxed);
                        break;
                    }
                }
                lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if !ok {
                    errors.status.fetch_add(1, Relaxed);
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let duration = started.elapsed();
    all.sort_unstable();
    let pct = |p: f64| -> u32 {
        if all.is_empty() {
            0
        } else {
            all[((all.len() as f64 * p / 100.0).ceil() as usize).clamp(1, all.len()) - 1]
        }
    };
    println!(
        "RESULT requests={} duration_us={} bytes={} p50_us={} p90_us={} p99_us={} max_us={} \
         err_connect={} err_read={} err_write=0 err_status={} err_timeout=0",
        all.len(),
        duration.as_micros(),
        bytes.load(Relaxed),
        pct(50.0),
        pct(90.0),
        pct(99.0),
        all.last().copied().unwrap_or(0),
        errors.connect.load(Relaxed),
        errors.read.load(Relaxed),
        errors.status.load(Relaxed),
    );
}
