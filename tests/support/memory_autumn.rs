//! An in-memory Autumn for the oneshot service tests (no sockets): records every request it gets and
//! answers each path with a scripted [`Answer`], or with its default JSON.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

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

/// What the in-memory Autumn answers on a path.
#[derive(Clone)]
pub enum Answer {
    Json(u16, Value),
    Raw(u16, &'static str),
    /// The connection is reset.
    Fail,
    /// No answer, ever.
    Hang,
}

#[derive(Clone)]
pub struct MemoryAutumn {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
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

    pub fn answer(&self, path: &str, answer: Answer) {
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
                    .unwrap_or_else(|| Answer::Json(200, this.default.clone()));
                match answer {
                    Answer::Json(status, v) => Ok(Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(v.to_string())))
                        .unwrap()),
                    Answer::Raw(status, s) => Ok(Response::builder()
                        .status(status)
                        .body(Full::new(Bytes::from_static(s.as_bytes())))
                        .unwrap()),
                    Answer::Fail => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "reset by peer",
                    )),
                    Answer::Hang => {
                        std::future::pending::<()>().await;
                        unreachable!()
                    }
                }
            }) as UpFuture
        })
    }
}
