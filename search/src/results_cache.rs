//! Recent search results, kept while they are still exactly what a new
//! search would answer.
//!
//! A search that matches most of 100,000 records spends most of its time
//! on work proportional to the matches (scoring, counting facets, keeping
//! the best), and people search for the same few things: the same topics,
//! the first page, the browse page with no text. So the last
//! [`ResultsCache::DEFAULT_ENTRIES`] results are kept, and one is served
//! again only while nothing it was made of can have changed:
//!
//! * **the catalogue**: every change to it (a record in, replaced,
//!   retracted, expired or purged, an organisation card, a block) goes
//!   through [`crate::Search`]'s write lock, which counts a revision; a
//!   result is made under the read lock with the revision of that moment,
//!   and serves only while the revision is the same;
//! * **the index**: a record the index does not cover yet is matched by
//!   substring and scored differently (see [`crate::catalogue::TextFilter`]),
//!   so the generation the index covered is part of a result too;
//! * **time**: a result serves until the first of its matches expires
//!   (an expired record never matches), and for at most
//!   [`ResultsCache::MAX_AGE_SECS`], because freshness weighs in the age of
//!   each record (a half-life of 90 days: a minute moves no score by more
//!   than a millionth).
//!
//! The key is the whole query (text, every filter, the page), so a result
//! is never served for a query it was not made for; results are not per
//! person (a search shows the same to every one of our people).
//!
//! The map is `lru`'s least-recently-used map: bounded, with no clock of
//! its own, and already in the dependency tree.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use skillmesh_search_types::{SearchQuery, SearchResults};

/// What a result was made from, to tell whether it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Made {
    /// The catalogue's revision (see [`crate::Search`]).
    pub revision: u64,
    /// The generation the index covered (0 without an index).
    pub covered: u64,
}

struct Entry {
    results: Arc<SearchResults>,
    made: Made,
    /// Serves while `from <= now < until`: from the time it was made (a
    /// clock set back must not see matches that expired in its future)
    /// until the first of its matches expires, or it is too old.
    from: i64,
    until: i64,
}

/// The last results made, by query.
pub(crate) struct ResultsCache {
    entries: Option<Mutex<LruCache<SearchQuery, Entry>>>,
}

impl ResultsCache {
    /// Results kept by default: a result of a page of 20 with its facets
    /// is about 30 kB, so about 8 MB at most.
    pub const DEFAULT_ENTRIES: usize = 256;
    /// The longest a result serves.
    pub const MAX_AGE_SECS: i64 = 60;

    /// A cache of at most `entries` results; 0 keeps none.
    pub fn new(entries: usize) -> ResultsCache {
        ResultsCache {
            entries: NonZeroUsize::new(entries).map(|n| Mutex::new(LruCache::new(n))),
        }
    }

    /// The key of `query`: pages 0 and 1 are the same page.
    pub fn key(query: &SearchQuery) -> SearchQuery {
        SearchQuery {
            page: query.page(),
            ..query.clone()
        }
    }

    /// The results kept for `key`, if they were made from `made` and
    /// still hold at `now`.
    pub fn get(&self, key: &SearchQuery, made: Made, now: i64) -> Option<Arc<SearchResults>> {
        let mut entries = self
            .entries
            .as_ref()?
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(key)?;
        if entry.made == made && (entry.from..entry.until).contains(&now) {
            return Some(entry.results.clone());
        }
        entries.pop(key);
        None
    }

    /// Keeps `results` for `key`, made from `made` at `now`, until the
    /// first expiry among their matches (`expires`, if any).
    pub fn put(
        &self,
        key: SearchQuery,
        results: Arc<SearchResults>,
        made: Made,
        now: i64,
        expires: Option<i64>,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        let until = now
            .saturating_add(Self::MAX_AGE_SECS)
            .min(expires.unwrap_or(i64::MAX));
        entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(
                key,
                Entry {
                    results,
                    made,
                    from: now,
                    until,
                },
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(total: usize) -> Arc<SearchResults> {
        Arc::new(SearchResults {
            total,
            page: 1,
            per_page: SearchQuery::PER_PAGE,
            hits: Vec::new(),
            facets: Vec::new(),
        })
    }

    fn query(q: &str) -> SearchQuery {
        SearchQuery {
            q: q.to_string(),
            ..SearchQuery::default()
        }
    }

    const MADE: Made = Made {
        revision: 7,
        covered: 3,
    };

    #[test]
    fn serves_only_what_was_made_from_the_same_state_and_time() {
        let cache = ResultsCache::new(4);
        let key = ResultsCache::key(&query("rust"));
        cache.put(key.clone(), results(5), MADE, 1_000, Some(1_030));
        assert_eq!(cache.get(&key, MADE, 1_000).map(|r| r.total), Some(5));
        assert_eq!(cache.get(&key, MADE, 1_029).map(|r| r.total), Some(5));
        assert!(cache.get(&key, MADE, 999).is_none(), "the clock went back");
        // The first match expired: gone, and stays gone.
        assert!(cache.get(&key, MADE, 1_030).is_none());
        assert!(cache.get(&key, MADE, 1_000).is_none());
        // Made after the expiry, with no match: not for a time before.
        cache.put(key.clone(), results(0), MADE, 1_030, None);
        assert!(cache.get(&key, MADE, 1_000).is_none());

        cache.put(key.clone(), results(5), MADE, 1_000, None);
        let changed = Made {
            revision: 8,
            ..MADE
        };
        assert!(cache.get(&key, changed, 1_000).is_none());
        cache.put(key.clone(), results(5), MADE, 1_000, None);
        let indexed = Made { covered: 4, ..MADE };
        assert!(cache.get(&key, indexed, 1_000).is_none());
        cache.put(key.clone(), results(5), MADE, 1_000, None);
        assert!(
            cache
                .get(&key, MADE, 1_000 + ResultsCache::MAX_AGE_SECS)
                .is_none()
        );
    }

    #[test]
    fn every_part_of_the_query_is_the_key_and_page_zero_is_page_one() {
        let cache = ResultsCache::new(8);
        cache.put(ResultsCache::key(&query("rust")), results(1), MADE, 0, None);
        let other_filter = SearchQuery {
            kind: "event".into(),
            ..query("rust")
        };
        let other_page = SearchQuery {
            page: 2,
            ..query("rust")
        };
        assert!(
            cache
                .get(&ResultsCache::key(&other_filter), MADE, 0)
                .is_none()
        );
        assert!(
            cache
                .get(&ResultsCache::key(&other_page), MADE, 0)
                .is_none()
        );
        let page_one = SearchQuery {
            page: 1,
            ..query("rust")
        };
        assert!(cache.get(&ResultsCache::key(&page_one), MADE, 0).is_some());
    }

    #[test]
    fn holds_no_more_than_its_size_and_none_when_off() {
        let cache = ResultsCache::new(2);
        for q in ["a", "b", "c"] {
            cache.put(ResultsCache::key(&query(q)), results(1), MADE, 0, None);
        }
        assert!(
            cache
                .get(&ResultsCache::key(&query("a")), MADE, 0)
                .is_none()
        );
        assert!(
            cache
                .get(&ResultsCache::key(&query("c")), MADE, 0)
                .is_some()
        );

        let off = ResultsCache::new(0);
        off.put(ResultsCache::key(&query("a")), results(1), MADE, 0, None);
        assert!(off.get(&ResultsCache::key(&query("a")), MADE, 0).is_none());
    }
}
