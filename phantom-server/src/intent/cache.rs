//! A bounded memory keyed by text, for what the engine derives from a
//! mission or an action and would otherwise derive again on every call.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::IntentError;

/// Values by text, at most `capacity` of them; the oldest goes first when
/// it is full. Missions are analysed and embedded once, not once per call;
/// actions repeat too (an agent re-reads the same listing, retries the same
/// call), and a repeated action costs nothing the second time.
#[derive(Debug)]
pub struct TextCache<V> {
    capacity: usize,
    inner: Mutex<Slots<V>>,
}

/// Values by text, and the order they were added (oldest first).
type Slots<V> = (HashMap<String, V>, VecDeque<String>);

impl<V: Clone> TextCache<V> {
    /// A cache holding at most `capacity` texts (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// The cached value for `text`, or the one `make` computes (then kept).
    ///
    /// # Errors
    /// Whatever `make` returns; nothing is kept then.
    pub fn get_or_try_insert(
        &self,
        text: &str,
        make: impl FnOnce(&str) -> Result<V, IntentError>,
    ) -> Result<V, IntentError> {
        if let Some(v) = self.get(text) {
            return Ok(v);
        }
        // Computed outside the lock: two threads may compute the same text
        // at once, which costs time but never gives a wrong answer.
        let value = make(text)?;
        self.keep(text, &value);
        Ok(value)
    }

    /// The cached value for `text`, or the one `make` computes (then kept).
    pub fn get_or_insert(&self, text: &str, make: impl FnOnce(&str) -> V) -> V {
        if let Some(v) = self.get(text) {
            return v;
        }
        let value = make(text);
        self.keep(text, &value);
        value
    }

    fn get(&self, text: &str) -> Option<V> {
        if self.capacity == 0 {
            return None;
        }
        self.inner.lock().ok()?.0.get(text).cloned()
    }

    fn keep(&self, text: &str, value: &V) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let (map, order) = &mut *guard;
        if map.contains_key(text) {
            return;
        }
        if map.len() >= self.capacity
            && let Some(oldest) = order.pop_front()
        {
            map.remove(&oldest);
        }
        map.insert(text.to_owned(), value.clone());
        order.push_back(text.to_owned());
    }

    /// Number of texts held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `text` is held.
    pub fn contains(&self, text: &str) -> bool {
        self.inner.lock().is_ok_and(|g| g.0.contains_key(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_oldest_first() {
        let cache = TextCache::new(2);
        cache.get_or_insert("a", |_| 1);
        cache.get_or_insert("b", |_| 2);
        cache.get_or_insert("c", |_| 3);
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains("a"));
        assert!(cache.contains("b") && cache.contains("c"));
        // A hit is not recomputed.
        assert_eq!(cache.get_or_insert("c", |_| 99), 3);
    }

    #[test]
    fn failures_are_not_kept() {
        let cache: TextCache<u8> = TextCache::new(4);
        let failed = cache.get_or_try_insert("x", |_| Err(IntentError::Model("no".into())));
        assert!(failed.is_err());
        assert!(cache.is_empty());
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let cache = TextCache::new(0);
        assert_eq!(cache.get_or_insert("a", |_| 1), 1);
        assert!(cache.is_empty());
    }
}
