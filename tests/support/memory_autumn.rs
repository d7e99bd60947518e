//! An in-memory Autumn for the oneshot service tests (no sockets): records every request it gets and
//! answers each path with a scripted [`Fault`], or normally: 200 with its default JSON.
//!
//! It hands over whole responses, so [`Fault::ResetMidBody`] and [`Fault::CutShort`] cannot be expressed
//! and panic.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::fault::{Fault, RATE_LIMITED_BODY};

/// The future of one call.
pub type UpFuture = Pin<
    Box<dyn std::future::Future<Output = Result<Response<Full<Bytes>>, std::io::Error>> + Send>,
>;

/// One request the in-memory Autumn saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    /// Path and query, as sent.
    pub target: String,
    pub headers: http::HeaderMap,
    /// The body as JSON (`None` when empty).
    pub body: Option<Value>,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The body, `null` when there was none.
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }
}

#[derive(Clone)]
pub struct MemoryAutumn {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<HashMap<String, Fault>>>,
    default: Value,
}

impl MemoryAutumn {
    /// Answers 200 with `default` wherever nothing else is scripted.
    pub fn new(default: Value) -> Self {
        MemoryAutumn {
            seen: Arc::default(),
            answers: Arc::default(),
            default,
        }
    }

    /// Answers `path` with `answer` from now on.
    pub fn answer(&self, path: &str, answer: Fault) {
        self.answers.lock().unwrap().insert(path.to_owned(), answer);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests seen so far, forgetting them.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    pub fn transport(
        &self,
    ) -> impl tower::Service<
        Request<Full<Bytes>>,
        Response = Response<Full<Bytes>>,
        Error = std::io::Error,
        Future = UpFuture,
    > + Clone
           + Send
           + Sync
           + 'static {
        let this = self.clone();
        tower::service_fn(move |req: Request<Full<Bytes>>| {
            let this = this.clone();
            Box::pin(async move {
                let (parts, body) = req.into_parts();
                let bytes = body.collect().await.unwrap().to_bytes();
                let target = parts
                    .uri
                    .path_and_query()
                    .map(|pq| pq.as_str().to_owned())
                    .unwrap_or_default();
                let path = parts.uri.path().to_owned();
                this.seen.lock().unwrap().push(Seen {
                    method: parts.method.clone(),
                    target,
                    headers: parts.headers,
                    body: (!bytes.is_empty())
                        .then(|| serde_json::from_slice(&bytes).expect("upstream bodies are JSON")),
                });
                let answer = this
                    .answers
                    .lock()
                    .unwrap()
                    .get(&path)
                    .cloned()
                    .unwrap_or(Fault::Ok);
                let normal = || this.default.to_string();
                let respond = |status: u16, content_type: Option<&str>, body: Bytes| {
                    let mut response = Response::builder().status(status);
                    if let Some(ct) = content_type {
                        response = response.header("content-type", ct);
                    }
                    Ok(response.body(Full::new(body)).unwrap())
                };
                match answer {
                    Fault::Ok => respond(200, Some("application/json"), normal().into()),
                    Fault::Status { status, body } => {
                        respond(status, Some("application/json"), body.to_string().into())
                    }
                    Fault::Raw {
                        status,
                        body,
                        content_type,
                    } => respond(status, content_type.as_deref(), body.into()),
                    Fault::Mislabelled { content_type } => {
                        respond(200, Some(content_type.as_str()), normal().into())
                    }
                    Fault::RateLimited { retry_after } => Ok(Response::builder()
                        .status(429)
                        .header("content-type", "application/json")
                        .header("retry-after", retry_after)
                        .body(Full::new(Bytes::from_static(RATE_LIMITED_BODY.as_bytes())))
                        .unwrap()),
                    Fault::Delay { ms } => {
                        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                        respond(200, Some("application/json"), normal().into())
                    }
                    Fault::Hang => {
                        std::future::pending::<()>().await;
                        unreachable!()
                    }
                    Fault::Reset => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "reset by peer",
                    )),
                    Fault::Close => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "closed without an answer",
                    )),
                    Fault::Huge { bytes, .. } => {
                        respond(200, Some("application/json"), Fault::filler(bytes).into())
                    }
                    fault @ (Fault::ResetMidBody | Fault::CutShort) => panic!(
                        "the in-memory Autumn answers whole bodies: {fault:?} needs FakeAutumn or the fault_server"
                    ),
                }
            }) as UpFuture
        })
    }
}
