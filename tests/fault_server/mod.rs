//! A fake Autumn API written on raw TCP, so that it can misbehave in ways an HTTP library will not let a
//! server misbehave: reset the connection before or in the middle of an answer, promise more bytes than
//! it sends, answer far too slowly, or send 50 MB.
//!
//! It speaks just enough HTTP/1.1 for hyper's client (requests with `content-length`, keep-alive), records
//! every request it reads, and asks a policy what to do with each one: a [`Fault`] of the kit's one
//! vocabulary (`tests/support/fault.rs`, included from here), which it speaks in full. Used by
//! `tests/client.rs`, `tests/faults.rs`, `tests/load_faults.rs`, `tests/secrets.rs` and `tests/shutdown.rs`.
#![allow(dead_code)]

#[path = "../support/fault.rs"]
mod fault;
pub use fault::Fault;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request the server read.
#[derive(Clone, Debug)]
pub struct Seen {
    /// When it was read.
    pub at: Instant,
    /// Request method.
    pub method: String,
    /// Request target (path and query).
    pub path: String,
    /// Header lines, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, parsed (`Null` if it is not JSON).
    pub body: Value,
    /// The raw head and body bytes as received.
    pub raw: Vec<u8>,
}

impl Seen {
    /// The request line and headers as received, up to and including the blank line.
    pub fn head(&self) -> String {
        let end = find(&self.raw, b"\r\n\r\n").map_or(self.raw.len(), |i| i + 4);
        String::from_utf8_lossy(&self.raw[..end]).into_owned()
    }

    /// The value of a header, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Policy = Box<dyn Fn(&Seen) -> Fault + Send + Sync>;

struct State {
    policy: Mutex<Policy>,
    seen: Mutex<Vec<Seen>>,
    /// Keep every request in `seen` (the load test only keeps writes, to bound memory).
    record: Box<dyn Fn(&Seen) -> bool + Send + Sync>,
    requests: AtomicUsize,
    connections: AtomicUsize,
    open: Conns,
}

/// The running server. Dropping it stops accepting (open connections end with their tasks).
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

/// Open connections, so that [`FaultServer::stop_listening`] can close them too.
type Conns = Arc<Mutex<Vec<JoinHandle<()>>>>;

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(h) = self.accept.lock().unwrap().take() {
            h.abort();
        }
    }
}

impl FaultServer {
    /// Starts a server on 127.0.0.1 that answers every request normally until told otherwise.
    pub async fn start() -> FaultServer {
        Self::start_with(|_| true).await
    }

    /// Like [`start`](Self::start), keeping only the requests `record` selects.
    pub async fn start_with(record: impl Fn(&Seen) -> bool + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            policy: Mutex::new(Box::new(|_| Fault::Ok)),
            seen: Mutex::new(Vec::new()),
            record: Box::new(record),
            requests: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            open: Arc::default(),
        });
        let server = FaultServer {
            addr,
            state,
            accept: Mutex::new(None),
        };
        server.spawn_accept(listener);
        server
    }

    fn spawn_accept(&self, listener: TcpListener) {
        let state = self.state.clone();
        let handle = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                state.connections.fetch_add(1, Ordering::Relaxed);
                let task_state = state.clone();
                let task = tokio::spawn(async move {
                    let _ = serve_connection(stream, task_state).await;
                });
                let mut open = state.open.lock().unwrap();
                open.retain(|t| !t.is_finished());
                open.push(task);
            }
        });
        *self.accept.lock().unwrap() = Some(handle);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request gets `fault` from now on.
    pub fn set(&self, fault: Fault) {
        self.set_policy(move |_| fault.clone());
    }

    /// The n-th request from now gets `steps[n]`; the last step repeats.
    pub fn set_steps(&self, steps: Vec<Fault>) {
        assert!(!steps.is_empty(), "set_steps needs at least one step");
        let next = AtomicUsize::new(0);
        self.set_policy(move |_| {
            let n = next.fetch_add(1, Ordering::SeqCst);
            steps[n.min(steps.len() - 1)].clone()
        });
    }

    /// Decides per request.
    pub fn set_policy(&self, policy: impl Fn(&Seen) -> Fault + Send + Sync + 'static) {
        *self.state.policy.lock().unwrap() = Box::new(policy);
    }

    /// Closes the listening socket and every open connection: new connections are refused until
    /// [`listen_again`](Self::listen_again).
    pub fn stop_listening(&self) {
        if let Some(h) = self.accept.lock().unwrap().take() {
            h.abort();
        }
        for t in self.state.open.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same address.
    pub async fn listen_again(&self) {
        if let Some(h) = self.accept.lock().unwrap().take() {
            h.abort();
        }
        // The aborted task drops its listener at its next poll; retry the bind until the port is free.
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if started.elapsed() < Duration::from_secs(5) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => panic!("could not listen on {} again: {e}", self.addr),
            }
        };
        self.spawn_accept(listener);
    }

    /// The recorded requests.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.state.seen.lock().unwrap().clear();
    }

    /// How many requests were read in all (recorded or not).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }
}

/// The answer Autumn would give on success: enough to pass the response schemas of the routes the tests use.
pub fn ok_body(path: &str, request: &Value) -> Vec<u8> {
    let customer = request
        .get("customer_id")
        .cloned()
        .unwrap_or(Value::String("cus_unknown".into()));
    let v = match path {
        "/v1/plans.list" => serde_json::json!({"list": []}),
        "/v1/billing.attach" | "/v1/billing.update" | "/v1/billing.multi_attach" => {
            serde_json::json!({"customer_id": customer, "payment_url": null})
        }
        _ => serde_json::json!({}),
    };
    serde_json::to_vec(&v).unwrap()
}

const MAX_HEAD: usize = 64 * 1024;

/// Reads one request; `None` at a clean end of the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Seen>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("head too large"));
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let raw: Vec<u8> = buf.drain(..head_end + len).collect();
    let body = serde_json::from_slice(&raw[head_end..]).unwrap_or(Value::Null);
    Ok(Some(Seen {
        at: Instant::now(),
        method,
        path,
        headers,
        body,
        raw,
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A response head; `content_type` `None`: no such header.
fn head(status: u16, content_type: Option<&str>, length: Option<usize>, extra: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    };
    let length = match length {
        Some(n) => format!("content-length: {n}\r\n"),
        None => "transfer-encoding: chunked\r\n".to_owned(),
    };
    let content_type = content_type.map_or(String::new(), |ct| format!("content-type: {ct}\r\n"));
    format!(
        "HTTP/1.1 {status} {reason}\r\n{content_type}{length}{extra}\
         set-cookie: upstream_session=should-not-reach-the-browser\r\n\r\n"
    )
    .into_bytes()
}

async fn answer(
    stream: &mut TcpStream,
    status: u16,
    ct: &str,
    body: &[u8],
    extra: &str,
) -> std::io::Result<()> {
    let mut out = head(status, Some(ct), Some(body.len()), extra);
    out.extend_from_slice(body);
    stream.write_all(&out).await
}

fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn serve_connection(mut stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(seen) = read_request(&mut stream, &mut buf).await? {
        state.requests.fetch_add(1, Ordering::Relaxed);
        let fault = (state.policy.lock().unwrap())(&seen);
        let ok = ok_body(seen.path.split('?').next().unwrap_or(""), &seen.body);
        if (state.record)(&seen) {
            state.seen.lock().unwrap().push(seen);
        }
        match fault {
            Fault::Ok => answer(&mut stream, 200, "application/json", &ok, "").await?,
            Fault::Status { status, body } => {
                let body = body.to_string();
                answer(&mut stream, status, "application/json", body.as_bytes(), "").await?;
            }
            Fault::Raw {
                status,
                body,
                content_type,
            } => {
                let mut out = head(status, content_type.as_deref(), Some(body.len()), "");
                out.extend_from_slice(body.as_bytes());
                stream.write_all(&out).await?;
            }
            Fault::Mislabelled { content_type } => {
                answer(&mut stream, 200, &content_type, &ok, "").await?;
            }
            Fault::RateLimited { retry_after } => {
                let extra = format!("retry-after: {retry_after}\r\n");
                let body = fault::RATE_LIMITED_BODY.as_bytes();
                answer(&mut stream, 429, "application/json", body, &extra).await?;
            }
            Fault::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                answer(&mut stream, 200, "application/json", &ok, "").await?;
            }
            Fault::Hang => {
                std::future::pending::<()>().await;
            }
            Fault::Reset => {
                reset(stream);
                return Ok(());
            }
            Fault::ResetMidBody => {
                let mut out = head(200, Some("application/json"), Some(ok.len() + 100), "");
                out.extend_from_slice(&ok[..ok.len() / 2]);
                stream.write_all(&out).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                reset(stream);
                return Ok(());
            }
            Fault::Close => {
                stream.shutdown().await?;
                return Ok(());
            }
            Fault::CutShort => {
                let mut out = head(200, Some("application/json"), Some(ok.len() + 500), "");
                out.extend_from_slice(&ok);
                stream.write_all(&out).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Fault::Huge { bytes, chunked } => {
                let length = (!chunked).then_some(bytes);
                stream
                    .write_all(&head(200, Some("application/json"), length, ""))
                    .await?;
                write_filler(&mut stream, bytes, chunked).await?;
            }
        }
    }
    Ok(())
}

/// Writes `n` bytes of a JSON array of zeros (`[0,0,...`), chunked or not; stops when the reader hangs up.
async fn write_filler(stream: &mut TcpStream, n: usize, chunked: bool) -> std::io::Result<()> {
    for block in Fault::filler_blocks(n, 64 * 1024) {
        if chunked {
            stream
                .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                .await?;
        }
        stream.write_all(&block).await?;
        if chunked {
            stream.write_all(b"\r\n").await?;
        }
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}
