//! Search: the in-memory [`Catalogue`] and the tantivy index, kept current
//! together, and the query that uses both.
//!
//! # Who does what, and why
//!
//! The **catalogue** holds every searchable record (ours and federated,
//! never retracted ones, never a blocked organisation's) with its facet
//! values, interned, and the levels of its topics; it applies the filters,
//! counts the facets over every match, ranks, pages and renders results.
//! It changes in the same step as the store, under a lock, so a retraction,
//! an expiry or a block takes effect on the very next search.
//!
//! The **index** (tantivy, on disk under `<data_dir>/index/`) answers the
//! text part: which records match the words, and how well (BM25 over the
//! title, topics and other text, English stemming, phrases, synonyms,
//! typo tolerance, prefixes; see [`query`]). It is updated off the ingest
//! path by one thread fed through a channel, in batches committed within
//! [`index::COMMIT_AFTER`] of a change after a quiet spell and at most
//! every [`index::COMMIT_GAP`] under a stream of changes; the records
//! changed since its last commit are matched by substring over the
//! catalogue meanwhile, so a change is searchable at once and fully ranked
//! within a tenth of a second after a quiet spell, two seconds at most.
//!
//! Moving the facets into tantivy as well (fast fields and a facet
//! collector) was the alternative. Keeping them in the catalogue measured
//! faster where it matters most, for queries that match most records
//! (counting seven facet columns over 100,000 documents in tantivy took
//! 6.2–6.8 ms p50; the catalogue answers the whole query without text,
//! ranking and facets included, in 2.8–4.3 ms: docs/BENCHMARKS.md). It also
//! keeps what a person can see in step with the store rather than with the
//! last commit, and leaves the index holding only what matching needs (no
//! stored fields: 6.5 MB for 100,000 records).

pub mod analysis;
pub mod catalogue;
pub mod highlight;
pub mod index;
pub mod query;
mod results_cache;
pub mod synonyms;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

// What a search asks and answers: the `skillmesh-search-types` crate, so
// that the web crate can serve them without building tantivy.
use skillmesh_protocol::{OrgKey, Record};
pub use skillmesh_search_types::{
    Facet, FacetValue, Highlight, HighlightPart, SearchHit, SearchQuery, SearchResults,
};

use crate::catalogue::{Catalogue, Change, TextFilter};
use analysis::Analyzer;
use index::Op;
pub use index::{IndexError, IndexStats, Location, SearchIndex};
use query::{MatchedTerms, ParsedQuery};
use results_cache::{Made, ResultsCache};
use skillmesh_store::{Store, StoreError};
pub use synonyms::Synonyms;

/// The directory of the index inside a data directory.
pub const INDEX_DIR: &str = "index";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// How a node searches.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub location: Location,
    pub synonyms: Synonyms,
    /// How many recent results are kept to answer the same query again
    /// (0: none); see `results_cache.rs`.
    pub cached_results: usize,
}

impl Default for SearchOptions {
    /// An index in memory and the built-in synonyms (tests).
    fn default() -> Self {
        SearchOptions {
            location: Location::Memory,
            synonyms: Synonyms::builtin(),
            cached_results: ResultsCache::DEFAULT_ENTRIES,
        }
    }
}

impl SearchOptions {
    /// A node's: the index in `<data_dir>/index`, the built-in synonyms
    /// and those of `<data_dir>/synonyms.txt`.
    pub fn for_data_dir(data_dir: &Path) -> SearchOptions {
        SearchOptions {
            location: Location::Dir(data_dir.join(INDEX_DIR)),
            synonyms: Synonyms::for_data_dir(data_dir),
            cached_results: ResultsCache::DEFAULT_ENTRIES,
        }
    }
}

/// The catalogue and the index, kept current together.
pub struct Search {
    own: OrgKey,
    catalogue: RwLock<Catalogue>,
    index: Option<SearchIndex>,
    /// Per index segment: each document's catalogue slot (see
    /// [`Search::slots_of`]).
    slot_maps: Mutex<HashMap<tantivy::index::SegmentId, Arc<Vec<u32>>>>,
    synonyms: Synonyms,
    store: Arc<Store>,
    /// Counts every time the catalogue is locked for writing, so that a
    /// result made at one revision is known to hold while it is the same.
    revision: AtomicU64,
    results: ResultsCache,
}

impl Search {
    /// Builds the catalogue from the store and opens the index (creating
    /// or rebuilding it if need be); the index then catches up with the
    /// store in the background. Records of organisations `admits` says
    /// are not let in are not searchable (see [`Catalogue::build`]).
    pub fn open(
        own: OrgKey,
        store: Arc<Store>,
        options: SearchOptions,
        admits: &dyn Fn(&OrgKey) -> bool,
    ) -> Result<Search, SearchError> {
        let inside = catalogue::inside_records(own, &store)?;
        let mut catalogue = Catalogue::build(own, &store, &inside, admits)?;
        let index = SearchIndex::open(&options.location, store.clone())?;
        if let Some(ix) = &index {
            catalogue.track_changes();
            ix.send(Op::Reconcile {
                generation: catalogue.generation(),
                wanted: catalogue.held(),
                inside,
            });
        }
        Ok(Search {
            own,
            catalogue: RwLock::new(catalogue),
            index,
            slot_maps: Mutex::new(HashMap::new()),
            synonyms: options.synonyms,
            store,
            revision: AtomicU64::new(0),
            results: ResultsCache::new(options.cached_results),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Catalogue> {
        self.catalogue
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The catalogue, to change: every change goes through here, and
    /// counts a revision (under the lock, so a reader sees the revision of
    /// the catalogue it reads).
    fn write(&self) -> RwLockWriteGuard<'_, Catalogue> {
        let catalogue = self
            .catalogue
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.revision.fetch_add(1, Ordering::AcqRel);
        catalogue
    }

    /// The generation the index covers now (0 without one).
    fn covered(&self) -> u64 {
        self.index.as_ref().map_or(0, SearchIndex::covered)
    }

    /// What a result made now, with the index covering `covered`, is
    /// made from (read under the catalogue's lock for a result to keep).
    fn made(&self, covered: u64) -> Made {
        Made {
            revision: self.revision.load(Ordering::Acquire),
            covered,
        }
    }

    /// Hands what the catalogue did to the index (under the catalogue's
    /// write lock, so changes reach the indexer in generation order).
    fn follow(&self, catalogue: &mut Catalogue, change: Change, record: Option<&Record>) {
        let Some(ix) = &self.index else {
            return;
        };
        match change {
            Change::None => {}
            Change::Upsert { generation, .. } => {
                if let Some(record) = record {
                    ix.send(Op::Upsert {
                        generation,
                        record: Box::new(record.clone()),
                    });
                }
            }
            Change::Remove {
                generation,
                key,
                below_seq,
            } => ix.send(Op::Remove {
                generation,
                key,
                below_seq,
            }),
        }
        catalogue.forget_changes_up_to(ix.covered());
    }

    /// Takes in records just stored (each new, or newer than what was
    /// held): see [`Catalogue::apply`].
    pub fn apply<'a>(&self, records: impl IntoIterator<Item = &'a Record>) {
        let mut catalogue = self.write();
        for record in records {
            let change = catalogue.apply(record);
            self.follow(&mut catalogue, change, Some(record));
        }
    }

    /// Brings search in step with our item `id` as the store now holds it
    /// (read under the catalogue's lock, so that of two changes at once
    /// the later one wins): while it is content kept inside the
    /// organisation, its entry is added or replaced; otherwise any such
    /// entry is dropped. A signed version held is left alone: publishing
    /// and retracting go through [`Search::apply`].
    pub fn keep_inside(&self, id: &str) -> Result<(), SearchError> {
        let mut catalogue = self.write();
        if catalogue.holds_signed(&self.own, id) {
            return Ok(());
        }
        let item = self.store.item(id)?;
        let change = catalogue.remove(&self.own, id);
        self.follow(&mut catalogue, change, None);
        if let Some(record) = item.and_then(|i| catalogue::inside_record(self.own, &i)) {
            let change = catalogue.apply(&record);
            self.follow(&mut catalogue, change, Some(&record));
        }
        Ok(())
    }

    /// Forgets records just purged from the store for expiring by `now`.
    pub fn remove_expired(&self, rows: &[(OrgKey, String)], now: i64) {
        let mut catalogue = self.write();
        for (org, id) in rows {
            let change = catalogue.remove_expired(org, id, now);
            self.follow(&mut catalogue, change, None);
        }
    }

    /// Forgets every record of `org` (blocked, or no longer admitted).
    pub fn remove_org(&self, org: &OrgKey) {
        let mut catalogue = self.write();
        let generation = catalogue.remove_org(org);
        if let Some(ix) = &self.index {
            ix.send(Op::RemoveOrg {
                generation,
                org: *org,
            });
        }
    }

    /// Every organisation card name held, with its organisation.
    pub fn org_names(&self) -> Vec<(OrgKey, String)> {
        self.read().org_names()
    }

    /// The name on `org`'s organisation card, if we hold (or held) one.
    pub fn org_name(&self, org: &OrgKey) -> Option<String> {
        self.read().org_name(org).map(str::to_string)
    }

    /// Searchable records held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The results of `query` at time `now` if a search just made them
    /// and they still hold (see `results_cache.rs`): what
    /// [`Search::search`] would answer, without its work, and without
    /// waiting for any lock but the cache's.
    pub fn recent(&self, query: &SearchQuery, now: i64) -> Option<SearchResults> {
        let key = ResultsCache::key(query);
        self.results
            .get(&key, self.made(self.covered()), now)
            .map(|r| SearchResults::clone(&r))
    }

    /// Runs `query` at time `now` (expired records never match), or
    /// answers it from recent results that still hold.
    pub fn search(&self, query: &SearchQuery, now: i64) -> SearchResults {
        let key = ResultsCache::key(query);
        let covered = self.covered();
        if let Some(results) = self.results.get(&key, self.made(covered), now) {
            return SearchResults::clone(&results);
        }
        let (answer, made) = self.run(query, now, covered);
        let results = Arc::new(answer.results);
        self.results
            .put(key, results.clone(), made, now, answer.first_expiry);
        Arc::unwrap_or_clone(results)
    }

    /// Runs `query` at time `now`, with the index covering `covered` when
    /// it was read: the answer, and what it was made from.
    fn run(&self, query: &SearchQuery, now: i64, covered: u64) -> (catalogue::Answer, Made) {
        let mut analyzer = Analyzer::default();
        let parsed = ParsedQuery::parse(&query.q, &self.synonyms, &mut analyzer);
        if parsed.is_empty() {
            let catalogue = self.read();
            return (catalogue.search_text(query, now, None), self.made(covered));
        }
        let from_index = self.index.as_ref().filter(|ix| !ix.failed()).and_then(|ix| {
            ix.search(&parsed, &mut analyzer)
                .map_err(|e| tracing::warn!(error = %e, "search index query failed; matching by substring"))
                .ok()
        });
        let index::IndexHits {
            segments,
            terms,
            covered,
        } = from_index.unwrap_or_else(|| index::IndexHits {
            segments: Vec::new(),
            terms: MatchedTerms::of(&parsed, &mut analyzer),
            covered: 0,
        });
        let substrings = parsed.substrings();
        let (mut answer, made) = {
            let mut topic_analyzer = analyzer.clone();
            let mut topic_matches = |topic: &str| terms.any_in(topic, &mut topic_analyzer);
            let catalogue = self.read();
            let made = self.made(covered);
            let hits = self.slots_of(&catalogue, &segments);
            let answer = catalogue.search_text(
                query,
                now,
                Some(TextFilter {
                    hits: &hits,
                    covered,
                    substrings: &substrings,
                    topic_matches: &mut topic_matches,
                }),
            );
            (answer, made)
        };
        for hit in &mut answer.results.hits {
            hit.highlights = highlight::highlights(hit, &terms, &mut analyzer, || {
                self.other_text(&hit.org, &hit.id)
            });
        }
        (answer, made)
    }

    /// The catalogue slot and score of every document the index found.
    ///
    /// Each segment's documents are mapped to slots once, through their
    /// keys, and the map kept while the segment lives (its documents never
    /// change): a lookup per document per query would cost more than the
    /// rest of a search that matches most records. A slot that was freed
    /// and reused since its segment was mapped holds a record changed
    /// after what the index covered then, so its generation is newer than
    /// any results that could still name the old document, and the
    /// catalogue ignores the hit (see [`TextFilter::covered`]).
    fn slots_of(
        &self,
        catalogue: &Catalogue,
        segments: &[query::SegmentHits],
    ) -> Vec<(usize, f32)> {
        let mut cache = self
            .slot_maps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 4 * segments.len().max(8) {
            cache.retain(|id, _| segments.iter().any(|s| s.segment == *id));
        }
        let mut out = Vec::with_capacity(segments.iter().map(|s| s.hits.len()).sum());
        for seg in segments {
            let map = cache.entry(seg.segment).or_insert_with(|| {
                Arc::new(
                    (0..seg.max_doc)
                        .map(|doc| {
                            seg.keys
                                .first(doc)
                                .and_then(|key| catalogue.slot_of_key(key))
                                .map_or(u32::MAX, |s| s as u32)
                        })
                        .collect(),
                )
            });
            for (doc, score) in &seg.hits {
                match map.get(*doc as usize) {
                    Some(slot) if *slot != u32::MAX => out.push((*slot as usize, *score)),
                    _ => {}
                }
            }
        }
        out
    }

    /// The text of record (org, id) beyond its title, summary and topics
    /// (or of our content kept inside, which has no record).
    fn other_text(&self, org_hex: &str, id: &str) -> Vec<String> {
        let Ok(org) = org_hex.parse::<OrgKey>() else {
            return Vec::new();
        };
        let signed = self
            .store
            .get_record(&org, id)
            .ok()
            .flatten()
            .filter(|row| !row.tombstone)
            .and_then(|row| catalogue::decode_row(&row));
        let inside = || {
            if org != self.own {
                return None;
            }
            let item = self.store.item(id).ok().flatten()?;
            catalogue::inside_record(self.own, &item)
        };
        signed
            .or_else(inside)
            .and_then(|record| catalogue::extract(&record.body))
            .map(|x| x.text)
            .unwrap_or_default()
    }

    /// Waits until every change so far is in the index (true), or the
    /// index failed or `timeout` passed (false). True at once without an
    /// index.
    pub fn wait_indexed(&self, timeout: Duration) -> bool {
        self.index
            .as_ref()
            .is_none_or(|ix| ix.wait_caught_up(timeout))
    }

    /// The index's size and state (`None` without an index).
    pub fn index_stats(&self) -> Option<IndexStats> {
        self.index.as_ref().map(SearchIndex::stats)
    }

    /// Why the index was built afresh at open, if it was.
    pub fn index_rebuilt(&self) -> Option<&str> {
        self.index.as_ref().and_then(|ix| ix.rebuilt.as_deref())
    }

    /// Commits what the indexer holds and stops it (searches go on).
    pub fn shutdown(&self) {
        if let Some(ix) = &self.index {
            ix.shutdown();
        }
    }
}

/// Deletes the index in `data_dir` and builds it again from the store (and
/// the content `own` keeps inside), waiting until it is done. Returns the
/// records indexed. The caller holds the data directory's lock.
pub fn rebuild(
    data_dir: &Path,
    own: OrgKey,
    store: Arc<Store>,
    timeout: Duration,
) -> Result<(u64, IndexStats), SearchError> {
    let dir = data_dir.join(INDEX_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|source| IndexError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let search = Search::open(
        own,
        store,
        SearchOptions {
            location: Location::Dir(dir.clone()),
            synonyms: Synonyms::builtin(),
            cached_results: 0,
        },
        // Everything held is indexed; the catalogue a node opens decides
        // what is searchable (and drops from the index what it hides).
        &|_| true,
    )?;
    let done = search.wait_indexed(timeout);
    let stats = search.index_stats().unwrap_or_default();
    search.shutdown();
    if !done {
        return Err(IndexError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::other(if stats.failed {
                "indexing failed (see the log)"
            } else {
                "indexing did not finish in time"
            }),
        }
        .into());
    }
    let stats = IndexStats {
        bytes_on_disk: search
            .index_stats()
            .map_or(stats.bytes_on_disk, |s| s.bytes_on_disk),
        ..stats
    };
    Ok((stats.docs, stats))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use skillmesh_protocol::{Body, Header, Kind, RECORD_VERSION, samples};

    use super::*;

    const WAIT: Duration = Duration::from_secs(20);

    struct Fixture {
        _dir: tempfile::TempDir,
        data_dir: std::path::PathBuf,
        store: Arc<Store>,
        key: SigningKey,
        now: i64,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().expect("tempdir");
            let data_dir = dir.path().to_path_buf();
            let store = Arc::new(Store::open(&data_dir.join("store")).expect("store"));
            Fixture {
                _dir: dir,
                data_dir,
                store,
                key: SigningKey::from_bytes(&[5; 32]),
                now: skillmesh_store::clock::now(),
            }
        }

        fn org(&self) -> OrgKey {
            OrgKey::from(&self.key.verifying_key())
        }

        /// Signs and stores a record; returns it for `Search::apply`.
        fn put(&self, id: &str, seq: u64, body: Body) -> Record {
            let record = Record {
                header: Header {
                    version: RECORD_VERSION,
                    org: self.org(),
                    id: id.into(),
                    seq,
                    issued_at: self.now - 10,
                    expires_at: self.now + 86_400,
                },
                body,
            };
            let envelope = skillmesh_protocol::seal(&record, &self.key).expect("seal");
            self.store
                .put_records(&[(&record, &envelope)], self.now)
                .expect("put");
            record
        }

        /// The search of the organisation whose key signs the records.
        fn open(&self, location: Location) -> Search {
            Search::open(
                self.org(),
                self.store.clone(),
                SearchOptions {
                    location,
                    ..SearchOptions::default()
                },
                &|_| true,
            )
            .expect("open")
        }

        fn dir(&self) -> Location {
            Location::Dir(self.data_dir.join(INDEX_DIR))
        }
    }

    fn talk(title: &str, topics: &[&str]) -> Body {
        let mut body = samples::body(Kind::TalkOffer);
        if let Body::TalkOffer(t) = &mut body {
            t.title = title.into();
            t.summary = String::new();
            t.speaker_name = None;
            t.session.topics = topics.iter().map(|t| t.to_string()).collect();
        }
        body
    }

    fn ids(search: &Search, q: &str) -> Vec<String> {
        let query = SearchQuery {
            q: q.into(),
            ..SearchQuery::default()
        };
        search
            .search(&query, skillmesh_store::clock::now())
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    fn corpus(f: &Fixture) -> Vec<Record> {
        vec![
            f.put(
                "k8s",
                1,
                talk("Running Kubernetes in production", &["Kubernetes"]),
            ),
            f.put(
                "incident",
                1,
                talk("Leading incident response", &["On-call"]),
            ),
            f.put(
                "apart",
                1,
                talk("Response plans for every incident", &["Planning"]),
            ),
            f.put(
                "ml",
                1,
                talk("Machine learning for recommendations", &["Data"]),
            ),
            f.put("rust", 1, talk("Rust for backend services", &["Rust"])),
        ]
    }

    #[test]
    fn typos_prefixes_stems_phrases_and_synonyms() {
        let f = Fixture::new();
        let records = corpus(&f);
        let search = f.open(Location::Memory);
        search.apply(&records);
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "kubernets "), ["k8s"], "a typo");
        assert_eq!(ids(&search, "kuber"), ["k8s"], "a prefix being typed");
        assert!(ids(&search, "kuber ").is_empty(), "not a prefix once typed");
        assert_eq!(ids(&search, "k8s"), ["k8s"], "a synonym");
        assert_eq!(ids(&search, "ML"), ["ml"], "a synonym naming a phrase");
        assert_eq!(ids(&search, "leads "), ["incident"], "stemming");
        let mut both = ids(&search, "incident response ");
        both.sort();
        assert_eq!(both, ["apart", "incident"]);
        assert_eq!(
            ids(&search, "\"incident response\""),
            ["incident"],
            "a phrase"
        );
        assert!(ids(&search, "kubernetes rust").is_empty(), "every word");
        let r = search.search(
            &SearchQuery {
                q: "kubernets".into(),
                ..SearchQuery::default()
            },
            f.now,
        );
        let title = &r.hits[0].highlights[0];
        assert_eq!(title.field, "title");
        assert!(
            title
                .parts
                .iter()
                .any(|p| p.matched && p.text == "Kubernetes"),
            "{title:?}"
        );
    }

    #[test]
    fn changes_show_at_once_and_in_the_index_after_a_commit() {
        let f = Fixture::new();
        let search = f.open(Location::Memory);
        assert!(search.wait_indexed(WAIT));
        let record = f.put("k8s", 1, talk("Running Kubernetes in production", &[]));
        search.apply([&record]);
        assert_eq!(ids(&search, "kubernetes"), ["k8s"], "before the commit");
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "kubernets"), ["k8s"], "the index has it");
        let newer = f.put("k8s", 2, talk("Operating clusters", &[]));
        search.apply([&newer]);
        assert!(
            ids(&search, "kubernetes").is_empty(),
            "the old text is gone at once"
        );
        assert_eq!(ids(&search, "clusters"), ["k8s"]);
        let retraction = f.put("k8s", 3, Body::Retraction(Default::default()));
        search.apply([&retraction]);
        assert!(
            ids(&search, "clusters").is_empty(),
            "retracted: gone at once"
        );
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 0);

        let again = f.put("rust", 1, talk("Rust for backend services", &[]));
        search.apply([&again]);
        assert!(search.wait_indexed(WAIT));
        search.remove_org(&f.org());
        assert!(ids(&search, "rust").is_empty(), "blocked: gone at once");
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 0);
    }

    /// Recent results are served again only while they are what a new
    /// search would answer: not after a change to the catalogue (a
    /// record, an organisation card), not once a match expired, not for
    /// another page, and not at all with no results kept.
    #[test]
    fn recent_results_serve_only_while_they_hold() {
        let f = Fixture::new();
        let search = f.open(Location::Memory);
        assert!(search.wait_indexed(WAIT));
        let expires = f.now + 100;
        let mut record = f.put("rust", 1, talk("Rust for backend services", &[]));
        record.header.expires_at = expires;
        search.apply([&record]);
        assert!(search.wait_indexed(WAIT));
        let query = SearchQuery {
            q: "rust".into(),
            ..SearchQuery::default()
        };
        assert!(search.recent(&query, f.now).is_none(), "nothing made yet");
        let made = search.search(&query, f.now);
        assert_eq!(made.total, 1);
        assert_eq!(search.recent(&query, f.now), Some(made.clone()));
        assert_eq!(search.search(&query, f.now), made, "served again");
        let page_two = SearchQuery {
            page: 2,
            ..query.clone()
        };
        assert!(search.recent(&page_two, f.now).is_none());

        // Its only match expires: neither served nor found after.
        assert!(search.recent(&query, expires).is_none());
        assert_eq!(search.search(&query, expires).total, 0);

        // An organisation card names the organisation of the result.
        assert_eq!(search.search(&query, f.now).total, 1);
        let mut card = samples::body(Kind::OrgCard);
        if let Body::OrgCard(c) = &mut card {
            c.name = "Renamed Org".into();
        }
        let card = f.put(catalogue::ORG_CARD_ID, 1, card);
        search.apply([&card]);
        assert!(
            search.recent(&query, f.now).is_none(),
            "the catalogue changed"
        );
        let hits = search.search(&query, f.now).hits;
        assert_eq!(
            hits.first().map(|h| h.org_name.as_str()),
            Some("Renamed Org")
        );

        // A record that matches too.
        let other = f.put("rust-2", 1, talk("Rust in embedded systems", &[]));
        search.apply([&other]);
        assert_eq!(search.search(&query, f.now).total, 2);

        let off = Search::open(
            f.org(),
            f.store.clone(),
            SearchOptions {
                cached_results: 0,
                ..SearchOptions::default()
            },
            &|_| true,
        )
        .expect("open");
        assert_eq!(off.search(&query, f.now).total, 2);
        assert!(off.recent(&query, f.now).is_none(), "none kept");
    }

    #[test]
    fn a_reused_slot_never_takes_an_old_documents_match() {
        let f = Fixture::new();
        let search = f.open(Location::Memory);
        let a = f.put("a", 1, talk("Kubernetes upgrades", &[]));
        search.apply([&a]);
        assert!(search.wait_indexed(WAIT));
        // Maps the segment's documents to slots.
        assert_eq!(ids(&search, "kubernetes"), ["a"]);
        // `a` goes and `b` takes its slot, before the index commits.
        let gone = f.put("a", 2, Body::Retraction(Default::default()));
        let b = f.put("b", 1, talk("Rust services", &[]));
        search.apply([&gone, &b]);
        assert!(
            ids(&search, "kubernetes").is_empty(),
            "{:?}",
            ids(&search, "kubernetes")
        );
        assert_eq!(ids(&search, "rust"), ["b"]);
        assert!(search.wait_indexed(WAIT));
        assert!(ids(&search, "kubernetes").is_empty());
        assert_eq!(ids(&search, "rust"), ["b"]);
        assert_eq!(ids(&search, "rsut "), ["b"], "through the index now");
    }

    #[test]
    fn the_index_on_disk_is_reused_reconciled_and_rebuilt() {
        let f = Fixture::new();
        let records = corpus(&f);
        let search = f.open(f.dir());
        assert!(search.index_rebuilt().is_some(), "built the first time");
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 5);
        drop(search);

        // Changes while the node was down are caught up at start.
        f.put("k8s", 2, Body::Retraction(Default::default()));
        f.put("go", 1, talk("Go for services", &[]));
        let search = f.open(f.dir());
        assert_eq!(search.index_rebuilt(), None, "reused");
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 5);
        assert!(ids(&search, "kubernets").is_empty());
        assert_eq!(ids(&search, "go "), ["go"]);
        drop(search);

        // Another schema version: rebuilt.
        let marker = f.data_dir.join(INDEX_DIR).join(index::MARKER);
        std::fs::write(&marker, r#"{"schema_version":0}"#).expect("write");
        let search = f.open(f.dir());
        let why = search.index_rebuilt().expect("rebuilt").to_string();
        assert!(why.contains("schema version 0"), "{why}");
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 5);
        drop(search);

        // Damaged: rebuilt.
        std::fs::write(f.data_dir.join(INDEX_DIR).join("meta.json"), "{").expect("write");
        let search = f.open(f.dir());
        assert!(search.index_rebuilt().is_some());
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "rust"), ["rust"]);
        drop(search);

        let (docs, stats) = rebuild(&f.data_dir, f.org(), f.store.clone(), WAIT).expect("rebuild");
        assert_eq!(docs, 5);
        assert!(stats.bytes_on_disk > 0);
        drop(records);
    }

    /// Our content item `id` titled `title`, kept inside (a draft).
    fn inside_item(id: &str, title: &str) -> skillmesh_store::OwnItem {
        let mut body = samples::body(Kind::Content);
        if let Body::Content(c) = &mut body {
            c.title = title.into();
        }
        skillmesh_store::OwnItem {
            id: id.into(),
            owner: Some("ana".into()),
            body,
            state: skillmesh_store::ItemState::Draft,
            published_seq: 0,
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn content_kept_inside_is_found_until_shared_and_again_after_a_retraction() {
        let f = Fixture::new();
        let mut item = inside_item("notes", "Postmortem notes");
        f.store.add_item(&item).expect("add");
        let search = f.open(f.dir());
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "postmortem"), ["notes"], "built at open");
        assert_eq!(search.index_stats().expect("index").docs, 1);
        let hit = |q: &str| {
            search
                .search(
                    &SearchQuery {
                        q: q.into(),
                        ..SearchQuery::default()
                    },
                    f.now,
                )
                .hits
                .into_iter()
                .next()
                .expect("a hit")
        };
        assert!(hit("postmortem").local_only && hit("postmortem").own);
        assert!(
            !search.other_text(&f.org().to_hex(), "notes").is_empty(),
            "highlights read the item's other text"
        );

        // Edited: the new title is found at once (by substring, words and
        // phrases as the index takes them) and through the index.
        if let Body::Content(c) = &mut item.body {
            c.title = "Blameless on-call reviews, by Tomás".into();
        }
        f.store.update_item(&item).expect("update");
        search.keep_inside("notes").expect("keep");
        assert_eq!(ids(&search, "blameless on-call tomas"), ["notes"]);
        assert!(ids(&search, "postmortem").is_empty());
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "blamless "), ["notes"], "through the index");

        // Shared: the signed version replaces the entry.
        let signed = f.put("notes", 1, item.body.clone());
        search.apply([&signed]);
        item.state = skillmesh_store::ItemState::Published;
        f.store.update_item(&item).expect("update");
        search.keep_inside("notes").expect("keep");
        assert!(search.wait_indexed(WAIT));
        assert!(!hit("blameless").local_only);
        assert_eq!(search.len(), 1);

        // Unshared: the retraction removes it, and it is kept inside again.
        let gone = f.put("notes", 2, Body::Retraction(Default::default()));
        search.apply([&gone]);
        item.state = skillmesh_store::ItemState::Unpublished;
        f.store.update_item(&item).expect("update");
        search.keep_inside("notes").expect("keep");
        assert!(hit("blameless").local_only);
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "blamless "), ["notes"]);
        drop(search);

        // Edited while the index missed it (say the node stopped before a
        // commit): reindexed from the item at the next start.
        if let Body::Content(c) = &mut item.body {
            c.title = "Incident retrospectives".into();
        }
        f.store.update_item(&item).expect("update");
        let search = f.open(f.dir());
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "retrospectivs "), ["notes"]);
        assert!(ids(&search, "blameless").is_empty());
        assert_eq!(search.index_stats().expect("index").docs, 1);

        // Deleted: gone from search and from the index.
        f.store.delete_item("notes").expect("delete");
        search.keep_inside("notes").expect("keep");
        assert!(ids(&search, "retrospectives").is_empty());
        assert!(search.wait_indexed(WAIT));
        assert_eq!(search.index_stats().expect("index").docs, 0);
    }

    #[test]
    fn without_an_index_text_is_matched_by_substring() {
        let f = Fixture::new();
        let records = corpus(&f);
        let search = f.open(Location::Off);
        search.apply(&records);
        assert!(search.wait_indexed(WAIT));
        assert_eq!(ids(&search, "kubernetes"), ["k8s"]);
        assert!(ids(&search, "kubernets").is_empty());
        assert!(search.index_stats().is_none());
    }
}
