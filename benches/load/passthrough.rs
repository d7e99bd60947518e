//! The pass-through proxy of the load comparison: the least any server in the crate's position can do.
//! Every request goes to the fixed upstream with the same method, path, headers and body; the answer
//! comes back as it is. Nothing is parsed, nothing is buffered: both bodies stream through.
//!
//! ```text
//! passthrough <listen addr> <upstream base URL, e.g. http://127.0.0.1:18401>
//! ```
//!
//! The upstream connections come from hyper-util's pooled client with its defaults (keep-alive, no cap
//! on idle connections), TCP_NODELAY set and a 20 s idle timeout. Prints
//! `passthrough listening on http://ADDR` once bound.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{header, Request, Response, StatusCode, Uri};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;

type Body = UnsyncBoxBody<Bytes, hyper::Error>;
type Pool = Client<HttpConnector, Incoming>;

async fn forward(
    req: Request<Incoming>,
    pool: Pool,
    authority: Authority,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let Ok(uri) = Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(authority)
        .path_and_query(path)
        .build()
    else {
        return Ok(bad_gateway());
    };
    parts.uri = uri;
    parts.headers.remove(header::HOST);
    match pool.request(Request::from_parts(parts, body)).await {
        Ok(resp) => Ok(resp.map(BodyExt::boxed_unsync)),
        Err(_) => Ok(bad_gateway()),
    }
}

fn bad_gateway() -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(b"upstream failed"))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: passthrough <listen addr> <upstream base URL>";
    let listen: SocketAddr = args.next().expect(usage).parse().expect(usage);
    let upstream: Uri = args.next().expect(usage).parse().expect(usage);
    let authority = upstream.authority().expect(usage).clone();

    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let pool: Pool = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(20))
        .build(connector);

    let listener = TcpListener::bind(listen).await.expect("bind listen addr");
    println!(
        "passthrough listening on http://{} -> {upstream}",
        listener.local_addr().unwrap()
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let pool = pool.clone();
        let authority = authority.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| forward(req, pool.clone(), authority.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
