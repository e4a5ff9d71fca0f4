//! A small cache of recent point reads (secret by name or ARN, version by label), valid only
//! while nothing has been committed since the read.
//!
//! Why: GetSecretValue and DescribeSecret are read-mostly, and their store reads (two read
//! transactions, four statements) were a fifth of the server's CPU under load. What is cached
//! is what the store returns: metadata and *sealed* values, never plaintext.
//!
//! Correctness rests on one counter, the commit generation. The writer bumps it after every
//! commit and before acknowledging any write of the batch. A reader notes the generation
//! *before* it opens its read transaction and tags what it read with it; an entry is served
//! only while the generation is still the one it was tagged with. So an entry is never older
//! than the last acknowledged write: once a write is acknowledged, the bump that preceded the
//! acknowledgement has made every earlier entry invalid. (An entry filled from a snapshot that
//! already contains a commit whose bump came later is merely invalidated early.) The cost is
//! that any commit invalidates everything, which is fine for read-mostly loads and harmless
//! otherwise. It assumes the store's process is the only writer of the database, which holds
//! for a data directory served by one `strongbox serve`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Entries kept per cache before it is emptied and refilled (bounds memory: a few MB).
const CAPACITY: usize = 16_384;

/// The commit generation shared by the writer (which bumps it) and the caches (which read it).
#[derive(Debug, Default, Clone)]
pub(super) struct Generation(Arc<AtomicU64>);

impl Generation {
    /// The current generation; read before starting a read transaction whose result is cached.
    pub(super) fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Called by the writer after a commit, before acknowledging it.
    pub(super) fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Values read at a known generation.
pub(super) struct ReadCache<K, V> {
    generation: Generation,
    entries: RwLock<(u64, HashMap<K, V>)>,
}

impl<K: Eq + Hash, V: Clone> ReadCache<K, V> {
    /// An empty cache validated by `generation`.
    pub(super) fn new(generation: Generation) -> Self {
        Self {
            generation,
            entries: RwLock::new((0, HashMap::new())),
        }
    }

    /// The current commit generation (read it before the read transaction that fills an entry).
    pub(super) fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The value cached for `key`, if nothing has committed since it was read.
    pub(super) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let now = self.generation.current();
        let entries = self.entries.read().ok()?;
        if entries.0 != now {
            return None;
        }
        entries.1.get(key).cloned()
    }

    /// Records `value`, read in a transaction that began at generation `read_at`.
    pub(super) fn put(&self, read_at: u64, key: K, value: V) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        let now = self.generation.current();
        if read_at != now {
            // Something committed since the read began: the value may already be stale.
            return;
        }
        if entries.0 != now || entries.1.len() >= CAPACITY {
            entries.1.clear();
            entries.0 = now;
        }
        entries.1.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_invalidates_earlier_reads() {
        let generation = Generation::default();
        let cache: ReadCache<String, u32> = ReadCache::new(generation.clone());
        let at = generation.current();
        cache.put(at, "a".into(), 1);
        assert_eq!(cache.get("a"), Some(1));
        generation.bump();
        assert_eq!(cache.get("a"), None);
        // A read that began before the commit is not cached after it.
        cache.put(at, "a".into(), 1);
        assert_eq!(cache.get("a"), None);
        let at = generation.current();
        cache.put(at, "a".into(), 2);
        assert_eq!(cache.get("a"), Some(2));
    }
}
