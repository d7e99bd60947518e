//! The offline Autumn over HTTP: the API under `/v1/`, plus the fake checkout, setup and portal
//! pages its URLs point at.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::state::CheckoutPage;
use super::{OfflineAutumn, PageError};

/// The largest request body the server reads.
const BODY_LIMIT: usize = 1 << 20;

/// An [`OfflineAutumn`] served on a TCP port. Dropping it (or [`shutdown`](OfflineServer::shutdown))
/// stops accepting connections.
pub struct OfflineServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for OfflineServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl OfflineServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (`http://127.0.0.1:PORT`): give it to a client as the Autumn API URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end (open connections finish
    /// the request they are on).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for OfflineServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Which addresses [`serve`] may bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Exposure {
    /// Only loopback addresses (`OfflineAutumn::serve`).
    LoopbackOnly,
    /// Any address (`OfflineAutumn::serve_exposed`).
    AnyAddress,
}

pub(super) async fn serve(
    offline: OfflineAutumn,
    addr: impl tokio::net::ToSocketAddrs,
    exposure: Exposure,
) -> std::io::Result<OfflineServer> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
    if addrs.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        ));
    }
    if exposure == Exposure::LoopbackOnly {
        if let Some(outside) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the offline Autumn serves on loopback only ({outside} is not): use \
                     OfflineAutumn::serve_exposed to listen on other interfaces"
                ),
            ));
        }
    }
    let listener = TcpListener::bind(&addrs[..]).await?;
    let addr = listener.local_addr()?;
    offline.set_pages_url(format!("http://{addr}"));
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::debug!(error = %e, "offline Autumn: accept failed");
                        continue;
                    }
                },
                _ = stopped.changed() => break,
            };
            let offline = offline.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let offline = offline.clone();
                    async move { Ok::<_, Infallible>(route(&offline, req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(OfflineServer {
        addr,
        stop,
        task: Some(task),
    })
}

async fn route(offline: &OfflineAutumn, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The body is too large or was cut off",
            )
        }
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with("/v1/") {
        return offline.answer(&parts, &body);
    }
    let mut segments = path.trim_matches('/').splitn(2, '/');
    match (
        &parts.method,
        segments.next().unwrap_or(""),
        segments.next(),
    ) {
        (&Method::GET, "checkout" | "setup", Some(id)) => match offline.describe_checkout(id) {
            Some(checkout) => checkout_page(&checkout),
            None => page(
                StatusCode::NOT_FOUND,
                "Checkout not found",
                "<p>This checkout does not exist or was already completed.</p>",
            ),
        },
        (&Method::POST, "checkout" | "setup", Some(id)) => match offline
            .complete_checkout_page(id, form_field(&body, "token").unwrap_or_default())
        {
            Err(PageError::Forbidden) => page(
                StatusCode::FORBIDDEN,
                "Checkout not completed",
                "<p>This form did not come from the checkout page: open the checkout URL and \
                 pay there.</p>",
            ),
            Ok(Some(success_url)) => Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, success_url)
                .body(Full::new(Bytes::new()))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
            Ok(None) => page(
                StatusCode::OK,
                "Payment complete",
                "<p>The offline Autumn recorded the payment. You can close this tab.</p>",
            ),
            Err(PageError::NotFound(e)) => page(
                StatusCode::NOT_FOUND,
                "Checkout not completed",
                &format!(
                    "<p>{}</p>",
                    escape(&format!("cannot complete the checkout: {e}"))
                ),
            ),
        },
        (&Method::GET, "portal", Some(customer)) => page(
            StatusCode::OK,
            "Billing portal",
            &format!(
                "<p>The offline Autumn has no billing portal; this page stands in for the one \
                 Stripe shows customer <code>{}</code>.</p>",
                escape(customer)
            ),
        ),
        _ => json_error(
            StatusCode::NOT_IMPLEMENTED,
            &format!(
                "The offline Autumn does not implement {} {path}",
                parts.method
            ),
        ),
    }
}

fn json_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let code = if status == StatusCode::NOT_IMPLEMENTED {
        "not_implemented"
    } else {
        "invalid_request"
    };
    let body = serde_json::json!({ "message": message, "code": code });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} - offline Autumn</title>\
         </head><body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto\">\
         <h1>{title}</h1>{body}<p><small>Offline Autumn: no card is charged.</small></p></body></html>",
        title = escape(title),
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(html)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The raw value of `name` in an `application/x-www-form-urlencoded` body (the token is hex, so it
/// needs no decoding; a value that is not UTF-8 counts as absent).
fn form_field<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

fn checkout_page(checkout: &CheckoutPage) -> Response<Full<Bytes>> {
    let plans = &checkout.plans;
    let items: String = plans
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p)))
        .collect();
    let what = if plans.is_empty() {
        "<p>Add a payment method.</p>".to_owned()
    } else {
        format!("<ul>{items}</ul>")
    };
    page(
        StatusCode::OK,
        "Checkout",
        &format!(
            "<p>Customer <code>{}</code></p>{what}<form method=\"post\" action=\"{}\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <button type=\"submit\">Pay</button></form>",
            escape(&checkout.customer_id),
            escape(&checkout.path),
            escape(&checkout.token)
        ),
    )
}
