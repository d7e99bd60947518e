//! The optional cache of positive checks of boolean features.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::models::CheckResponse;

/// Who asked about what: customer, entity, feature.
type Key = (String, Option<String>, String);

/// Allowed checks of boolean features, per customer (and entity) and feature, for a TTL; at most
/// `max_entries` of them. Metered answers are never put here (see [`is_boolean`]).
#[derive(Debug)]
pub(crate) struct BooleanCache {
    max_entries: usize,
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Instant, Arc<CheckResponse>)>>,
}

/// True when a check answer is about a boolean feature: a flag and no balance. Metered features
/// (even unlimited ones) answer with a balance, and their usage must be tracked every time.
pub(crate) fn is_boolean(answer: &CheckResponse) -> bool {
    answer.balance.is_none() && answer.flag.is_some()
}

impl BooleanCache {
    pub(crate) fn new(max_entries: usize, ttl: Duration) -> Self {
        BooleanCache {
            max_entries,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, Arc<CheckResponse>)>> {
        // Entries are whole values: a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached answer, if there is one and it has not expired.
    pub(crate) fn get(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
        feature_id: &str,
    ) -> Option<Arc<CheckResponse>> {
        let key = (
            customer_id.to_owned(),
            entity_id.map(str::to_owned),
            feature_id.to_owned(),
        );
        let mut entries = self.entries();
        match entries.get(&key) {
            Some((expires, answer)) if *expires > Instant::now() => Some(answer.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers an allowed check of a boolean feature; anything else is ignored. When full, expired
    /// entries go first, then the one closest to expiry.
    pub(crate) fn put(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
        feature_id: &str,
        answer: &Arc<CheckResponse>,
    ) {
        if self.max_entries == 0 || !answer.allowed || !is_boolean(answer) {
            return;
        }
        let key = (
            customer_id.to_owned(),
            entity_id.map(str::to_owned),
            feature_id.to_owned(),
        );
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= self.max_entries {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (expires, _))| *expires)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key, (now + self.ttl, answer.clone()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Balance, Flag};

    fn flag() -> Arc<CheckResponse> {
        Arc::new(CheckResponse {
            allowed: true,
            flag: Some(Flag::default()),
            ..CheckResponse::default()
        })
    }

    /// Only a flag without a balance is boolean: an answer that carries a balance is metered even when
    /// it also has a flag (its usage must be checked every time), and one with neither is no feature.
    #[test]
    fn only_a_flag_without_a_balance_is_boolean() {
        let answer = |balance: bool, flag: bool| CheckResponse {
            allowed: true,
            balance: balance.then(Balance::default),
            flag: flag.then(Flag::default),
            ..CheckResponse::default()
        };
        assert!(is_boolean(&answer(false, true)));
        assert!(!is_boolean(&answer(true, true)));
        assert!(!is_boolean(&answer(true, false)));
        assert!(!is_boolean(&answer(false, false)));
    }

    /// Refreshing a key already held never evicts another, even when the cache is full.
    #[tokio::test(start_paused = true)]
    async fn refreshing_a_held_key_evicts_nothing() {
        let cache = BooleanCache::new(2, Duration::from_secs(10));
        cache.put("a", None, "sso", &flag());
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.put("b", None, "sso", &flag());
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.put("b", None, "sso", &flag());
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a", None, "sso").is_some());
        assert!(cache.get("b", None, "sso").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_expiring_and_boolean_only() {
        let cache = BooleanCache::new(2, Duration::from_secs(10));
        cache.put("a", None, "sso", &flag());
        assert!(cache.get("a", None, "sso").is_some());
        assert!(
            cache.get("a", Some("seat"), "sso").is_none(),
            "entities are keyed apart"
        );
        // Metered answers and denials are never kept.
        let metered = Arc::new(CheckResponse {
            allowed: true,
            balance: Some(Balance::default()),
            ..CheckResponse::default()
        });
        cache.put("a", None, "messages", &metered);
        let denied = Arc::new(CheckResponse {
            allowed: false,
            flag: Some(Flag::default()),
            ..CheckResponse::default()
        });
        cache.put("a", None, "beta", &denied);
        assert_eq!(cache.len(), 1);
        // Bounded: a third key evicts the one closest to expiry.
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.put("b", None, "sso", &flag());
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.put("c", None, "sso", &flag());
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a", None, "sso").is_none());
        assert!(cache.get("c", None, "sso").is_some());
        // Expiry.
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(cache.get("c", None, "sso").is_none());
    }
}
