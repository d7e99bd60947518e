//! [`MeterLayer`]: the configuration, and the calls to Autumn around one request.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::request::Parts;
use http::{Response, StatusCode};
use tower::Layer;

use super::admit::{Admit, BoxFuture, Outcome, Ticket, Verdict};
use super::cache::{is_boolean, BooleanCache};
use super::service::Meter;
use super::{CheckSource, FailurePolicy, Metered};
use crate::body::ResponseBody;
use crate::client::balances::log_fail_open;
use crate::client::Client;
use crate::error::Error;
use crate::identify::Identify;
use crate::models::{BalanceLock, CheckParams, FinalizeParams, TrackParams};
use crate::routes::{error, json};
use crate::transport::{HttpTransport, Transport};

/// The default time a reservation holds its units when the request never finishes (5 minutes).
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(300);

type PartsFn<R> = Arc<dyn Fn(&Parts) -> R + Send + Sync>;

/// A value fixed at configuration, or computed from each request.
enum Source<R> {
    Fixed(R),
    From(PartsFn<R>),
}

impl<R: Clone> Source<R> {
    fn get(&self, parts: &Parts) -> R {
        match self {
            Source::Fixed(v) => v.clone(),
            Source::From(f) => f(parts),
        }
    }
}

impl<R: Clone> Clone for Source<R> {
    fn clone(&self) -> Self {
        match self {
            Source::Fixed(v) => Source::Fixed(v.clone()),
            Source::From(f) => Source::From(f.clone()),
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for Source<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Fixed(v) => v.fmt(f),
            Source::From(_) => f.write_str("<from the request>"),
        }
    }
}

/// Meters the routes it wraps: `check` before the inner service, `track` (or a reservation's
/// `finalize`) after it answered 2xx. See the [module docs](super).
///
/// Small and cheap to clone; every [`Meter`] it makes shares the client, the identify hook and
/// the cache.
pub struct MeterLayer<I, T = Transport> {
    client: Client<T>,
    identify: Arc<I>,
    feature: Source<String>,
    amount: Source<f64>,
    entity: Option<PartsFn<Option<String>>>,
    reserve: bool,
    lock_ttl: Duration,
    policy: FailurePolicy,
    with_preview: bool,
    cache: Option<Arc<BooleanCache>>,
}

impl<I, T> Clone for MeterLayer<I, T> {
    fn clone(&self) -> Self {
        MeterLayer {
            client: self.client.clone(),
            identify: self.identify.clone(),
            feature: self.feature.clone(),
            amount: self.amount.clone(),
            entity: self.entity.clone(),
            reserve: self.reserve,
            lock_ttl: self.lock_ttl,
            policy: self.policy,
            with_preview: self.with_preview,
            cache: self.cache.clone(),
        }
    }
}

impl<I, T> fmt::Debug for MeterLayer<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeterLayer")
            .field("feature", &self.feature)
            .field("amount", &self.amount)
            .field(
                "entity",
                &self.entity.as_ref().map(|_| "<from the request>"),
            )
            .field("reserve", &self.reserve)
            .field("lock_ttl", &self.lock_ttl)
            .field("policy", &self.policy)
            .field("with_preview", &self.with_preview)
            .field("cache", &self.cache)
            .field("client", &self.client)
            .finish()
    }
}

impl<I: Identify, T: HttpTransport> MeterLayer<I, T> {
    /// Meters `feature_id`, one unit per request, for the customer `identify` names, through
    /// `client`. Fails open (see [`FailurePolicy`]), tracks after the fact (no reservation), caches
    /// nothing.
    pub fn new(client: Client<T>, identify: I, feature_id: impl Into<String>) -> Self {
        MeterLayer {
            client,
            identify: Arc::new(identify),
            feature: Source::Fixed(feature_id.into()),
            amount: Source::Fixed(1.0),
            entity: None,
            reserve: false,
            lock_ttl: DEFAULT_LOCK_TTL,
            policy: FailurePolicy::FailOpen,
            with_preview: false,
            cache: None,
        }
    }
}

impl<I, T> MeterLayer<I, T> {
    /// The feature, computed from each request (method, URI, headers, extensions) instead.
    pub fn feature_from<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> String + Send + Sync + 'static,
    {
        self.feature = Source::From(Arc::new(f));
        self
    }

    /// Units one request costs (default 1): checked as `required_balance` and tracked after
    /// success. The handler may track another amount with a [`Usage`](super::Usage) response
    /// extension.
    pub fn amount(mut self, amount: f64) -> Self {
        self.amount = Source::Fixed(amount);
        self
    }

    /// Units one request costs, computed from the request. A negative or non-finite amount answers
    /// 500 `invalid_amount` without calling Autumn or the inner service.
    pub fn amount_from<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> f64 + Send + Sync + 'static,
    {
        self.amount = Source::From(Arc::new(f));
        self
    }

    /// The entity (seat, workspace, ...) whose balance pays, read from the request; `None` bills
    /// the customer. Check and track use the same level.
    pub fn entity_from<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.entity = Some(Arc::new(f));
        self
    }

    /// Reserves the units: the check holds them with a lock (so concurrent requests cannot spend the
    /// same last units), and `balances.finalize` confirms them after a 2xx answer (the
    /// [`Usage`](super::Usage) amount, when the handler sets one) or releases them after an error,
    /// a non-2xx answer, a panic, or when the request is dropped before it finishes.
    pub fn reserve(mut self) -> Self {
        self.reserve = true;
        self
    }

    /// How long a reservation lasts if it is never finalized (default [`DEFAULT_LOCK_TTL`]):
    /// Autumn releases it then. Keep it above your slowest handler.
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// Refuses requests with 503 `autumn_unavailable` when the check cannot reach Autumn, instead
    /// of letting them through. Shorthand for `failure_policy(FailurePolicy::FailClosed)`.
    pub fn fail_closed(self) -> Self {
        self.failure_policy(FailurePolicy::FailClosed)
    }

    /// What a check does when Autumn is unavailable (default [`FailurePolicy::FailOpen`]).
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Asks the check for Autumn's upgrade preview (`with_preview`) and puts it in the 402 body as
    /// `preview` (the plans that would grant the feature, a title and a message for a paywall).
    pub fn with_preview(mut self) -> Self {
        self.with_preview = true;
        self
    }

    /// Remembers allowed checks of *boolean* features (an answer with a flag and no balance) per
    /// customer, entity and feature for `ttl`, keeping at most `max_entries`: a cached request
    /// makes no call to Autumn. Metered features are never cached. Off by default; a plan change
    /// takes up to `ttl` to show.
    pub fn cache_boolean_features(mut self, max_entries: usize, ttl: Duration) -> Self {
        self.cache = Some(Arc::new(BooleanCache::new(max_entries, ttl)));
        self
    }
}

impl<S, I: Identify, T: HttpTransport> Layer<S> for MeterLayer<I, T> {
    type Service = Meter<S>;

    fn layer(&self, inner: S) -> Meter<S> {
        let shared: Arc<dyn Admit> = Arc::new(Shared {
            client: self.client.clone(),
            identify: self.identify.clone(),
            feature: self.feature.clone(),
            amount: self.amount.clone(),
            entity: self.entity.clone(),
            reserve: self.reserve,
            lock_ttl: self.lock_ttl,
            policy: self.policy,
            with_preview: self.with_preview,
            cache: self.cache.clone(),
        });
        Meter::new(inner, shared)
    }
}

struct Shared<I, T> {
    client: Client<T>,
    identify: Arc<I>,
    feature: Source<String>,
    amount: Source<f64>,
    entity: Option<PartsFn<Option<String>>>,
    reserve: bool,
    lock_ttl: Duration,
    policy: FailurePolicy,
    with_preview: bool,
    cache: Option<Arc<BooleanCache>>,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

/// The 402 of a denied check: what ran out and how much was needed.
fn denied(
    feature_id: &str,
    amount: f64,
    answer: &crate::models::CheckResponse,
) -> Response<ResponseBody> {
    let remaining = answer.balance.as_ref().map(|b| b.remaining);
    let (code, message) = match &answer.balance {
        Some(_) => (
            "insufficient_balance",
            format!("Not enough {feature_id} left for this request"),
        ),
        None => (
            "feature_not_included",
            format!("Your plan does not include {feature_id}"),
        ),
    };
    let mut body = serde_json::json!({
        "message": message,
        "code": code,
        "statusCode": 402,
        "featureId": feature_id,
        "required": amount,
        "balance": remaining,
    });
    if let Some(preview) = &answer.preview {
        body["preview"] = serde_json::to_value(preview).unwrap_or_default();
    }
    json(
        StatusCode::PAYMENT_REQUIRED,
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    )
}

impl<I: Identify, T: HttpTransport> Shared<I, T> {
    async fn decide(&self, parts: &mut Parts, lock_id: Option<String>) -> Verdict {
        let identity = match self.identify.identify(parts).await {
            Ok(Some(identity)) if !identity.customer_id.is_empty() => identity,
            Ok(_) => {
                return Verdict::Reject(error(
                    StatusCode::UNAUTHORIZED,
                    "no_customer_id",
                    "sign in to use this feature",
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "the identify hook failed");
                return Verdict::Reject(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "identify_error",
                    "could not identify the caller",
                ));
            }
        };
        let customer_id = identity.customer_id;
        let feature_id = self.feature.get(parts);
        let amount = self.amount.get(parts);
        if !(amount.is_finite() && amount >= 0.0) || feature_id.is_empty() {
            tracing::error!(
                feature_id,
                amount,
                "the metering layer computed an empty feature id or an invalid amount"
            );
            return Verdict::Reject(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "invalid_amount",
                "this request's cost could not be computed",
            ));
        }
        let entity_id = self.entity.as_ref().and_then(|f| f(parts));
        let mut metered = Metered {
            customer_id,
            feature_id,
            entity_id,
            amount,
            source: CheckSource::Autumn,
            check: None,
            lock_id: None,
        };

        if let Some(cache) = &self.cache {
            if let Some(hit) = cache.get(
                &metered.customer_id,
                metered.entity_id.as_deref(),
                &metered.feature_id,
            ) {
                metered.source = CheckSource::Cache;
                metered.check = Some(hit);
                return self.proceed(parts, metered, false);
            }
        }

        let mut params = CheckParams::new(metered.customer_id.clone(), metered.feature_id.clone());
        params.entity_id = metered.entity_id.clone();
        if amount > 0.0 && amount != 1.0 {
            params.required_balance = Some(amount);
        }
        if self.with_preview {
            params.with_preview = Some(true);
        }
        if let Some(id) = &lock_id {
            params.lock = Some(
                BalanceLock::new(id.clone(), true)
                    .expires_at(now_ms() + self.lock_ttl.as_millis() as f64),
            );
        }
        match self.client.balances().check(&params).await {
            Ok(answer) => {
                let answer = Arc::new(answer);
                if !answer.allowed {
                    return Verdict::Reject(denied(&metered.feature_id, amount, &answer));
                }
                let boolean = is_boolean(&answer);
                if let (Some(cache), true) = (&self.cache, boolean) {
                    cache.put(
                        &metered.customer_id,
                        metered.entity_id.as_deref(),
                        &metered.feature_id,
                        &answer,
                    );
                }
                // A boolean feature holds nothing, so there is nothing to finalize.
                metered.lock_id = lock_id.filter(|_| !boolean && answer.balance.is_some());
                metered.check = Some(answer);
                self.proceed(parts, metered, !boolean)
            }
            Err(e) if e.is_unavailable() => match self.policy {
                FailurePolicy::FailOpen => {
                    log_fail_open("balances.check", &e);
                    metered.source = CheckSource::FailedOpen;
                    // Autumn is down: the request goes ahead untracked (the one error line says so),
                    // as Autumn's SDK drops the event rather than queue it.
                    self.proceed(parts, metered, false)
                }
                FailurePolicy::FailClosed => {
                    tracing::error!(
                        operation = "balances.check",
                        status = %e.unavailable_status(),
                        error = %e,
                        "Autumn is unavailable: failing closed (503)"
                    );
                    Verdict::Reject(error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "autumn_unavailable",
                        "billing is unavailable right now; try again shortly",
                    ))
                }
            },
            Err(e) => {
                tracing::error!(
                    operation = "balances.check",
                    status = %e.status().map_or(0, |s| s.as_u16()),
                    error = %e,
                    "Autumn rejected the usage check (502)"
                );
                let code = e.api().map_or("unknown", |a| a.code());
                Verdict::Reject(error(
                    StatusCode::BAD_GATEWAY,
                    "autumn_check_rejected",
                    &format!("the billing check failed ({code})"),
                ))
            }
        }
    }

    fn proceed(&self, parts: &mut Parts, metered: Metered, billable: bool) -> Verdict {
        let ticket = Ticket {
            customer_id: metered.customer_id.clone(),
            entity_id: metered.entity_id.clone(),
            feature_id: metered.feature_id.clone(),
            amount: metered.amount,
            lock_id: metered.lock_id.clone(),
            billable,
        };
        parts.extensions.insert(metered);
        Verdict::Proceed(ticket)
    }
}

/// Logs a failed settling call: one error line with the operation and the status.
fn log_settle_failure(operation: &'static str, e: &Error) {
    if e.is_unavailable() {
        log_fail_open(operation, e);
    } else {
        tracing::error!(
            operation,
            status = %e.status().map_or(0, |s| s.as_u16()),
            error = %e,
            "Autumn refused {operation}"
        );
    }
}

impl<I: Identify, T: HttpTransport> Admit for Shared<I, T> {
    fn admit(
        self: Arc<Self>,
        mut parts: Parts,
        lock_id: Option<String>,
    ) -> BoxFuture<(Parts, Verdict)> {
        Box::pin(async move {
            let verdict = self.decide(&mut parts, lock_id).await;
            (parts, verdict)
        })
    }

    fn settle(&self, ticket: Ticket, outcome: Outcome) -> BoxFuture<()> {
        let client = self.client.clone();
        Box::pin(async move {
            match (outcome, ticket.lock_id) {
                (Outcome::Succeeded(usage), Some(lock_id)) => {
                    let mut params = FinalizeParams::new(lock_id, "confirm");
                    params.override_value = usage.filter(|u| *u != ticket.amount);
                    if let Err(e) = client.balances().finalize(&params).await {
                        log_settle_failure("balances.finalize", &e);
                    }
                }
                (Outcome::Failed, Some(lock_id)) => {
                    let params = FinalizeParams::new(lock_id, "release");
                    if let Err(e) = client.balances().finalize(&params).await {
                        log_settle_failure("balances.finalize", &e);
                    }
                }
                (Outcome::Succeeded(usage), None) => {
                    let value = usage.unwrap_or(ticket.amount);
                    if !ticket.billable || value <= 0.0 {
                        return;
                    }
                    let mut params = TrackParams::new(ticket.customer_id, ticket.feature_id, value);
                    params.entity_id = ticket.entity_id;
                    params.idempotency_key = Some(uuid::Uuid::new_v4().to_string());
                    match client.balances().track(&params).await {
                        Ok(_) => {}
                        // An earlier attempt of this very call was counted.
                        Err(e) if e.is_already_applied() => {}
                        Err(e) => log_settle_failure("balances.track", &e),
                    }
                }
                (Outcome::Failed, None) => {}
            }
        })
    }

    fn release(&self, lock_id: String) -> BoxFuture<()> {
        let client = self.client.clone();
        Box::pin(async move {
            let params = FinalizeParams::new(lock_id, "release");
            match client.balances().finalize(&params).await {
                Ok(_) => {}
                // The check never took the lock (it was dropped before Autumn answered).
                Err(e) if e.api().is_some_and(|a| a.code() == "lock_not_found") => {}
                Err(e) => log_settle_failure("balances.finalize", &e),
            }
        })
    }

    fn reserves(&self) -> bool {
        self.reserve
    }
}
