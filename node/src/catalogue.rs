//! The search catalogue: one in-memory entry per searchable record this
//! node holds (its own published records and federated ones; never
//! tombstones, never records of blocked organisations), with a lower-cased
//! text haystack and interned facet values worked out once, when the record
//! arrives, so a query is a scan over plain bytes and integer counters.
//!
//! Interim: a tantivy index (typo tolerance, relevance ranking) replaces it.
//! The [`crate::service::Service`] owns the catalogue and keeps it current
//! after every successful store batch: records published, received,
//! retracted, expired or purged with a blocked organisation.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

use serde::Serialize;
use skillmesh_protocol::kinds::OfferStatus;
use skillmesh_protocol::{Body, Kind, OrgKey, Record};
use skillmesh_web::{Facet, FacetValue, SearchHit, SearchQuery, SearchResults};

use crate::store::{OrgListing, Store, StoreError, StoredRecord};

/// The record kinds a person can search for.
pub const SEARCHABLE: [Kind; 6] = [
    Kind::Expertise,
    Kind::TalkOffer,
    Kind::MentoringOffer,
    Kind::CohortOffer,
    Kind::Event,
    Kind::Content,
];

/// Longest summary kept for a result (the full text is in the record).
const SUMMARY_CHARS: usize = 280;
/// Most values listed per facet.
const FACET_VALUES: usize = 50;

/// The facets, in the order results list them. Each name is also the
/// query parameter that filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    Topic,
    Org,
    Format,
    Language,
    TimeZone,
    Availability,
    Kind,
}

impl Dim {
    const ALL: [Dim; 7] = [
        Dim::Topic,
        Dim::Org,
        Dim::Format,
        Dim::Language,
        Dim::TimeZone,
        Dim::Availability,
        Dim::Kind,
    ];

    fn name(self) -> &'static str {
        match self {
            Dim::Topic => "topic",
            Dim::Org => "org",
            Dim::Format => "format",
            Dim::Language => "language",
            Dim::TimeZone => "time_zone",
            Dim::Availability => "availability",
            Dim::Kind => "kind",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Topics match whatever their case; every other value exactly.
    fn key(self, value: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Dim::Topic if value.chars().any(char::is_uppercase) => value.to_lowercase().into(),
            _ => value.into(),
        }
    }

    fn filter(self, q: &SearchQuery) -> &str {
        match self {
            Dim::Topic => &q.topic,
            Dim::Org => &q.org,
            Dim::Format => &q.format,
            Dim::Language => &q.language,
            Dim::TimeZone => &q.time_zone,
            Dim::Availability => &q.availability,
            Dim::Kind => &q.kind,
        }
    }
}

/// The distinct values of one facet, each with a small integer id. Values
/// are never forgotten: there are few of them next to the records.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    /// The value as first seen (what a filter link carries).
    values: Vec<String>,
}

impl Interner {
    fn intern(&mut self, dim: Dim, value: &str) -> u32 {
        let key = dim.key(value);
        if let Some(id) = self.ids.get(key.as_ref()) {
            return *id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.ids.insert(key.into_owned(), id);
        self.values.push(value.to_string());
        id
    }

    fn lookup(&self, dim: Dim, value: &str) -> Option<u32> {
        self.ids.get(dim.key(value).as_ref()).copied()
    }

    fn value(&self, id: u32) -> &str {
        self.values.get(id as usize).map_or("", String::as_str)
    }
}

/// What a query scans for each slot, packed together so that a search
/// walks contiguous memory: times, and where the slot's text and facet
/// values sit in the catalogue's arenas.
#[derive(Clone, Copy)]
struct Hot {
    /// `i64::MIN` for a free slot, so it never matches.
    expires_at: i64,
    issued_at: i64,
    /// The slot's lower-cased text is `text[text..text_end]`, and it starts
    /// with the lower-cased title, `text[text..title_end]`.
    text: usize,
    title_end: usize,
    text_end: usize,
    /// Interned facet values of every [`Dim`] in turn from `vals`, each
    /// dimension's distinct and in the record's order; dimension `d` ends
    /// `ends[d]` values after `vals`.
    vals: usize,
    ends: [u16; 7],
}

const FREE: Hot = Hot {
    expires_at: i64::MIN,
    issued_at: 0,
    text: 0,
    title_end: 0,
    text_end: 0,
    vals: 0,
    ends: [0; 7],
};

impl Hot {
    fn dim<'a>(&self, vals: &'a [u32], d: usize) -> &'a [u32] {
        let start = if d == 0 { 0 } else { self.ends[d - 1] as usize };
        &vals[self.vals + start..self.vals + self.ends[d] as usize]
    }

    fn all<'a>(&self, vals: &'a [u32]) -> &'a [u32] {
        &vals[self.vals..self.vals + self.ends[6] as usize]
    }
}

/// What only a result needs.
struct Cold {
    org: OrgKey,
    id: String,
    seq: u64,
    kind: Kind,
    title: String,
    summary: String,
}

/// What a record contributes to the catalogue, before interning.
struct Extract {
    title: String,
    summary: String,
    text: Vec<String>,
    topics: Vec<String>,
    formats: Vec<String>,
    languages: Vec<String>,
    time_zone: Option<String>,
    availability: Option<String>,
}

/// The wire name of a unit enum variant (`code_review`, `in_person`...).
fn snake<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn offer_availability(status: OfferStatus) -> Option<String> {
    Some(
        if status == OfferStatus::Open {
            "open"
        } else {
            "full"
        }
        .to_string(),
    )
}

fn extract(body: &Body) -> Option<Extract> {
    let mut e = Extract {
        title: String::new(),
        summary: String::new(),
        text: Vec::new(),
        topics: Vec::new(),
        formats: Vec::new(),
        languages: Vec::new(),
        time_zone: None,
        availability: None,
    };
    match body {
        Body::Expertise(b) => {
            e.title = b
                .display_name
                .clone()
                .or_else(|| b.headline.clone())
                .unwrap_or_else(|| "An expert".into());
            e.summary = b.headline.clone().unwrap_or_default();
            e.text.extend(b.display_name.clone());
            e.text.extend(b.headline.clone());
            e.topics = b.topics.iter().map(|t| t.name.clone()).collect();
            e.formats = b.formats.iter().map(snake).collect();
            e.languages = b.languages.clone();
            e.time_zone = b.time_zone.clone();
            e.availability = b.availability.as_ref().map(|a| snake(&a.status));
        }
        Body::TalkOffer(b) => {
            e.title = b.title.clone();
            e.summary = b.summary.clone();
            e.text.push(b.summary.clone());
            e.text.extend(b.speaker_name.clone());
            e.topics = b.topics.clone();
            e.formats = vec![snake(&b.format)];
            e.languages = b.languages.clone();
            e.availability = offer_availability(b.status);
        }
        Body::MentoringOffer(b) => {
            e.title = b.title.clone();
            e.summary = b.description.clone();
            e.text.push(b.description.clone());
            e.text.extend(b.mentor_name.clone());
            e.topics = b.topics.clone();
            e.formats = vec!["mentoring".into()];
            e.languages = b.languages.clone();
            e.availability = offer_availability(b.status);
        }
        Body::CohortOffer(b) => {
            e.title = b.title.clone();
            e.summary = b.goal.clone();
            e.text.push(b.goal.clone());
            e.text.extend(b.owner_name.clone());
            e.topics = b.topics.clone();
            e.formats = vec!["cohort".into()];
            e.languages = b.languages.clone();
            e.availability = offer_availability(b.status);
        }
        Body::Event(b) => {
            e.title = b.title.clone();
            e.summary = b.description.clone();
            e.text.push(b.description.clone());
            for s in &b.sessions {
                e.text.push(s.title.clone());
                e.text.extend(s.speaker_name.clone());
                e.topics.extend(s.topics.iter().cloned());
                e.formats.push(snake(&s.format));
            }
            e.languages = b.languages.clone();
        }
        Body::Content(b) => {
            e.title = b.title.clone();
            e.summary = b.why.clone();
            e.text.push(b.why.clone());
            e.text.extend(b.curator_name.clone());
            e.text.extend(b.items.iter().map(|i| i.title.clone()));
            e.topics = b.topics.clone();
        }
        Body::OrgCard(_) | Body::Retraction(_) | Body::Request(_) | Body::Answer(_) => return None,
    }
    e.text.extend(e.topics.iter().cloned());
    Some(e)
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(SUMMARY_CHARS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_string(),
    }
}

/// Words for a facet value: `code_review` → `Code review`.
fn label(value: &str) -> String {
    let words = value.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "expertise" => "Experts",
        "talk_offer" => "Talks",
        "mentoring_offer" => "Mentoring",
        "cohort_offer" => "Cohorts",
        "event" => "Events",
        "content" => "Content",
        _ => "Other",
    }
}

/// A stored record's payload, its body left as raw JSON.
#[derive(serde::Deserialize)]
struct Payload<'a> {
    kind: Kind,
    org: OrgKey,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    seq: u64,
    issued_at: i64,
    expires_at: i64,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
}

/// Decodes a stored row in one pass. Rows were verified and validated
/// when they were stored, so this skips the shape checks that
/// [`StoredRecord::record`] repeats (it is the fallback).
fn decode_stored(row: &StoredRecord) -> Option<Record> {
    let parts = skillmesh_protocol::split(row.envelope.as_bytes()).ok()?;
    let p: Payload<'_> = serde_json::from_slice(parts.payload).ok()?;
    // `Body`'s own serde form is `{"kind": ..., "body": ...}`.
    let tagged = format!(r#"{{"kind":"{}","body":{}}}"#, p.kind, p.body.get());
    let body: Body = serde_json::from_str(&tagged).ok()?;
    Some(Record {
        header: skillmesh_protocol::Header {
            version: skillmesh_protocol::RECORD_VERSION,
            org: p.org,
            id: p.id.into_owned(),
            seq: p.seq,
            issued_at: p.issued_at,
            expires_at: p.expires_at,
        },
        body,
    })
}

/// Decodes stored rows, skipping (and logging) any that do not parse.
fn decode(rows: &[StoredRecord]) -> Vec<Record> {
    rows.iter()
        .filter_map(
            |row| match decode_stored(row).map_or_else(|| row.record(), Ok) {
                Ok(record) => Some(record),
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue: skipping an unreadable record");
                    None
                }
            },
        )
        .collect()
}

/// The catalogue of everything searchable this node holds.
pub struct Catalogue {
    own: OrgKey,
    /// Per slot: what a query scans, and what a result shows (`None`: free).
    hot: Vec<Hot>,
    cold: Vec<Option<Cold>>,
    free: Vec<usize>,
    slots: HashMap<(OrgKey, String), usize>,
    /// Every slot's lower-cased text, one after another; a replaced or
    /// removed slot's text stays as garbage until [`Catalogue::compact`].
    text: String,
    /// Every slot's interned facet values, likewise.
    vals: Vec<u32>,
    garbage: usize,
    /// Names from organisation cards; kept after a purge so an admin still
    /// sees who a blocked organisation was.
    org_names: HashMap<OrgKey, String>,
    dims: [Interner; 7],
}

impl Catalogue {
    pub fn new(own: OrgKey) -> Catalogue {
        Catalogue {
            own,
            hot: Vec::new(),
            cold: Vec::new(),
            free: Vec::new(),
            slots: HashMap::new(),
            text: String::new(),
            vals: Vec::new(),
            garbage: 0,
            org_names: HashMap::new(),
            dims: Default::default(),
        }
    }

    /// Builds the catalogue from every record in the store. Decoding the
    /// records is most of the work: it runs on every core, a few thousand
    /// records at a time (so they are never all in memory at once).
    pub fn build(own: OrgKey, store: &Store) -> Result<Catalogue, StoreError> {
        const CHUNK: usize = 4096;
        let blocked: Vec<OrgKey> = store
            .org_listings()?
            .into_iter()
            .filter(|(_, l)| *l == OrgListing::Blocked)
            .map(|(o, _)| o)
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut catalogue = Catalogue::new(own);
        let mut rows = Vec::with_capacity(CHUNK);
        let mut take = |rows: &mut Vec<StoredRecord>| {
            let per_thread = rows.len().div_ceil(threads).max(1);
            let decoded: Vec<Vec<Record>> = std::thread::scope(|scope| {
                let handles: Vec<_> = rows
                    .chunks(per_thread)
                    .map(|part| scope.spawn(move || decode(part)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            for record in decoded.iter().flatten() {
                catalogue.apply(record);
            }
            rows.clear();
        };
        store.scan_records(|row| {
            if !row.tombstone && !blocked.contains(&row.org) {
                rows.push(row);
                if rows.len() == CHUNK {
                    take(&mut rows);
                }
            }
            Ok(())
        })?;
        take(&mut rows);
        Ok(catalogue)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The name on `org`'s organisation card, if we have held one.
    pub fn org_name(&self, org: &OrgKey) -> Option<&str> {
        self.org_names.get(org).map(String::as_str)
    }

    /// Takes in a record just stored (new or newer than what we held): a
    /// searchable one is added or replaces its older version, a retraction
    /// removes what it retracts, an organisation card names its org.
    pub fn apply(&mut self, record: &Record) {
        let h = &record.header;
        if let Body::OrgCard(card) = &record.body {
            self.org_names.insert(h.org, card.name.clone());
        }
        let key = (h.org, h.id.clone());
        let held = self
            .slots
            .get(&key)
            .and_then(|s| self.cold[*s].as_ref())
            .map(|c| c.seq);
        if held.is_some_and(|seq| seq >= h.seq) {
            return;
        }
        if !SEARCHABLE.contains(&record.kind()) {
            self.remove(&h.org, &h.id);
            return;
        }
        let Some(x) = extract(&record.body) else {
            return;
        };
        if let Some(slot) = self.slots.get(&key).copied() {
            self.release(slot);
        }
        // The slot's text: title first, one line per field.
        let text = self.text.len();
        self.text.push_str(&x.title.to_lowercase());
        let title_end = self.text.len();
        for t in &x.text {
            if !t.is_empty() {
                self.text.push('\n');
                self.text.push_str(&t.to_lowercase());
            }
        }
        let text_end = self.text.len();
        // A separator, so a term never matches across two slots' texts.
        self.text.push('\0');
        let org_hex = h.org.to_hex();
        let kind = record.kind();
        let per_dim: [Vec<&str>; 7] = [
            x.topics.iter().map(String::as_str).collect(),
            vec![org_hex.as_str()],
            x.formats.iter().map(String::as_str).collect(),
            x.languages.iter().map(String::as_str).collect(),
            x.time_zone.iter().map(String::as_str).collect(),
            x.availability.iter().map(String::as_str).collect(),
            vec![kind.as_str()],
        ];
        let vals = self.vals.len();
        let mut ends = [0u16; 7];
        for (dim, raw) in Dim::ALL.into_iter().zip(per_dim) {
            let start = self.vals.len();
            for v in raw.into_iter().filter(|v| !v.trim().is_empty()) {
                let id = self.dims[dim.index()].intern(dim, v);
                if !self.vals[start..].contains(&id) && self.vals.len() - vals < u16::MAX as usize {
                    self.vals.push(id);
                }
            }
            ends[dim.index()] = u16::try_from(self.vals.len() - vals).unwrap_or(u16::MAX);
        }
        let hot = Hot {
            expires_at: h.expires_at,
            issued_at: h.issued_at,
            text,
            title_end,
            text_end,
            vals,
            ends,
        };
        let cold = Cold {
            org: h.org,
            id: h.id.clone(),
            seq: h.seq,
            kind,
            title: x.title,
            summary: shorten(&x.summary),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.hot[s] = hot;
                self.cold[s] = Some(cold);
                s
            }
            None => {
                self.hot.push(hot);
                self.cold.push(Some(cold));
                self.hot.len() - 1
            }
        };
        self.slots.insert(key, slot);
        self.compact_if_wasteful();
    }

    /// Frees `slot` (its text and values become garbage).
    fn release(&mut self, slot: usize) {
        let h = self.hot[slot];
        if let Some(cold) = self.cold[slot].take() {
            self.slots.remove(&(cold.org, cold.id));
            self.garbage += h.text_end + 1 - h.text + (h.ends[6] as usize) * 4;
        }
        self.hot[slot] = FREE;
        self.free.push(slot);
    }

    /// Rewrites the arenas without garbage once garbage is most of them.
    fn compact_if_wasteful(&mut self) {
        let size = self.text.len() + self.vals.len() * 4;
        if self.garbage < 1 << 20 || self.garbage * 2 < size {
            return;
        }
        let mut text = String::with_capacity(size - self.garbage);
        let mut vals = Vec::with_capacity(self.vals.len());
        for (h, c) in self.hot.iter_mut().zip(&self.cold) {
            if c.is_none() {
                continue;
            }
            let start = text.len();
            text.push_str(&self.text[h.text..=h.text_end]);
            let shift = |at: usize| at - h.text + start;
            (h.title_end, h.text_end) = (shift(h.title_end), shift(h.text_end));
            h.text = start;
            let v = vals.len();
            vals.extend_from_slice(h.all(&self.vals));
            h.vals = v;
        }
        self.text = text;
        self.vals = vals;
        self.garbage = 0;
    }

    /// Forgets `(org, id)`.
    pub fn remove(&mut self, org: &OrgKey, id: &str) {
        if let Some(slot) = self.slots.get(&(*org, id.to_string())).copied() {
            self.release(slot);
            self.compact_if_wasteful();
        }
    }

    /// Forgets `(org, id)` if what it holds has expired by `now` (a newer
    /// version stored since the purge began stays).
    pub fn remove_expired(&mut self, org: &OrgKey, id: &str, now: i64) {
        let expired = self
            .slots
            .get(&(*org, id.to_string()))
            .is_some_and(|s| self.hot[*s].expires_at <= now);
        if expired {
            self.remove(org, id);
        }
    }

    /// Forgets every record of `org` (it was blocked).
    pub fn remove_org(&mut self, org: &OrgKey) {
        let slots: Vec<usize> = self
            .slots
            .iter()
            .filter(|((o, _), _)| o == org)
            .map(|(_, s)| *s)
            .collect();
        for slot in slots {
            self.release(slot);
        }
        self.compact_if_wasteful();
    }

    /// Runs a query at time `now` (expired records never match).
    pub fn search(&self, query: &SearchQuery, now: i64) -> SearchResults {
        let per_page = SearchQuery::PER_PAGE;
        let page = query.page();
        let mut terms: Vec<String> = query
            .q
            .split_whitespace()
            .map(|t| t.to_lowercase().replace('\0', ""))
            .filter(|t| !t.is_empty())
            .collect();
        terms.sort();
        terms.dedup();
        // Each filter as an interned id; a value never seen matches nothing.
        let mut filters: Vec<(usize, u32)> = Vec::new();
        let mut impossible = false;
        for dim in Dim::ALL {
            let wanted = dim.filter(query).trim();
            if wanted.is_empty() {
                continue;
            }
            match self.dims[dim.index()].lookup(dim, wanted) {
                Some(id) => filters.push((dim.index(), id)),
                None => impossible = true,
            }
        }
        let mut counts: Vec<Vec<u32>> = self.dims.iter().map(|d| vec![0; d.values.len()]).collect();
        // (title hits, issued_at, slot) of every match.
        let mut matches: Vec<(u32, i64, usize)> = Vec::new();
        let (text, vals) = (self.text.as_str(), self.vals.as_slice());
        if !impossible {
            for (slot, h) in self.hot.iter().enumerate() {
                if h.expires_at <= now
                    || !filters.iter().all(|(d, id)| h.dim(vals, *d).contains(id))
                {
                    continue;
                }
                let all_text = &text[h.text..h.text_end];
                let mut title_hits = 0;
                let mut all = true;
                // One pass over the whole text per term; the short title
                // is looked at again only for terms that matched.
                for t in &terms {
                    if !all_text.contains(t.as_str()) {
                        all = false;
                        break;
                    }
                    if text[h.text..h.title_end].contains(t.as_str()) {
                        title_hits += 1;
                    }
                }
                if !all {
                    continue;
                }
                for (d, counts) in counts.iter_mut().enumerate() {
                    for id in h.dim(vals, d) {
                        counts[*id as usize] += 1;
                    }
                }
                matches.push((title_hits, h.issued_at, slot));
            }
        }
        let total = matches.len();
        let cold = |slot: usize| self.cold[slot].as_ref();
        let order = |a: &(u32, i64, usize), b: &(u32, i64, usize)| -> Ordering {
            (Reverse(a.0), Reverse(a.1))
                .cmp(&(Reverse(b.0), Reverse(b.1)))
                .then_with(|| match (cold(a.2), cold(b.2)) {
                    (Some(x), Some(y)) => (x.org, &x.id).cmp(&(y.org, &y.id)),
                    _ => a.2.cmp(&b.2),
                })
        };
        let start = (page - 1).saturating_mul(per_page);
        let end = start.saturating_add(per_page).min(total);
        let hits = if start >= total {
            Vec::new()
        } else {
            if end < total {
                matches.select_nth_unstable_by(end, order);
            }
            let top = &mut matches[..end];
            top.sort_unstable_by(order);
            top[start..].iter().map(|m| self.hit(m.2)).collect()
        };
        let facets = Dim::ALL
            .iter()
            .map(|dim| {
                let interner = &self.dims[dim.index()];
                let mut values: Vec<FacetValue> = counts[dim.index()]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(id, n)| {
                        let value = interner.value(id as u32).to_string();
                        let label = match dim {
                            Dim::Org => self.org_label(&value),
                            Dim::Kind => kind_label(&value).to_string(),
                            Dim::Format | Dim::Availability => label(&value),
                            _ => value.clone(),
                        };
                        FacetValue {
                            value,
                            label,
                            count: *n as usize,
                        }
                    })
                    .collect();
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
                values.truncate(FACET_VALUES);
                Facet {
                    name: dim.name().to_string(),
                    values,
                }
            })
            .collect();
        SearchResults {
            total,
            page,
            per_page,
            hits,
            facets,
        }
    }

    fn org_label(&self, hex: &str) -> String {
        hex.parse::<OrgKey>()
            .ok()
            .and_then(|o| self.org_names.get(&o).cloned())
            .unwrap_or_else(|| hex.chars().take(8).collect())
    }

    fn hit(&self, slot: usize) -> SearchHit {
        let h = &self.hot[slot];
        let values = |dim: Dim| -> Vec<String> {
            h.dim(&self.vals, dim.index())
                .iter()
                .map(|id| self.dims[dim.index()].value(*id).to_string())
                .collect()
        };
        let Some(c) = self.cold[slot].as_ref() else {
            return SearchHit {
                org: String::new(),
                org_name: String::new(),
                id: String::new(),
                kind: String::new(),
                title: String::new(),
                summary: String::new(),
                topics: Vec::new(),
                formats: Vec::new(),
                languages: Vec::new(),
                time_zone: None,
                availability: None,
                own: false,
            };
        };
        SearchHit {
            org: c.org.to_hex(),
            org_name: self
                .org_names
                .get(&c.org)
                .cloned()
                .unwrap_or_else(|| c.org.short()),
            id: c.id.clone(),
            kind: c.kind.as_str().to_string(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            topics: values(Dim::Topic),
            formats: values(Dim::Format),
            languages: values(Dim::Language),
            time_zone: values(Dim::TimeZone).into_iter().next(),
            availability: values(Dim::Availability).into_iter().next(),
            own: c.org == self.own,
        }
    }
}

#[cfg(test)]
mod tests {
    use skillmesh_protocol::samples;
    use skillmesh_protocol::{Header, RECORD_VERSION};

    use super::*;

    const NOW: i64 = samples::SAMPLE_TIME + 100;

    fn org(n: u8) -> OrgKey {
        OrgKey::from_bytes([n; 32])
    }

    fn record(org: OrgKey, id: &str, seq: u64, issued_at: i64, body: Body) -> Record {
        Record {
            header: Header {
                version: RECORD_VERSION,
                org,
                id: id.into(),
                seq,
                issued_at,
                expires_at: issued_at + 1000,
            },
            body,
        }
    }

    fn talk(title: &str) -> Body {
        let mut body = samples::body(Kind::TalkOffer);
        if let Body::TalkOffer(t) = &mut body {
            t.title = title.into();
        }
        body
    }

    fn query(q: &str) -> SearchQuery {
        SearchQuery {
            q: q.into(),
            ..SearchQuery::default()
        }
    }

    #[test]
    fn title_hits_rank_first_then_newest_then_org_and_id() {
        let mut c = Catalogue::new(org(9));
        let t = samples::SAMPLE_TIME;
        // "on-call" is in every talk's topics; in the title of two.
        c.apply(&record(org(1), "b", 1, t, talk("Quiet weeks")));
        c.apply(&record(org(1), "a", 1, t, talk("Quiet weeks too")));
        c.apply(&record(org(2), "x", 1, t - 50, talk("On-call, older")));
        c.apply(&record(org(2), "y", 1, t, talk("On-call, newer")));
        let r = c.search(&query("on-call"), NOW);
        let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["y", "x", "a", "b"]);
        assert_eq!(r.total, 4);
    }

    #[test]
    fn versions_retractions_and_expiry() {
        let mut c = Catalogue::new(org(9));
        let t = samples::SAMPLE_TIME;
        c.apply(&record(org(1), "a", 2, t, talk("Second")));
        c.apply(&record(org(1), "a", 1, t, talk("First")));
        assert_eq!(
            c.search(&query("second"), NOW).total,
            1,
            "lower seq ignored"
        );
        c.apply(&record(
            org(1),
            "a",
            3,
            t,
            Body::Retraction(Default::default()),
        ));
        assert!(c.is_empty());
        c.apply(&record(org(1), "b", 1, t, talk("Short-lived")));
        assert_eq!(
            c.search(&query(""), t + 2000).total,
            0,
            "expired never matches"
        );
        c.remove_expired(&org(1), "b", t + 2000);
        assert!(c.is_empty());
        c.apply(&record(org(1), "c", 1, t, talk("Kept")));
        c.remove_expired(&org(1), "c", t);
        assert_eq!(c.len(), 1, "not expired: a newer version stored meanwhile");
        c.remove_org(&org(1));
        assert!(c.is_empty());
    }

    #[test]
    fn facets_count_every_match_not_just_the_page() {
        let mut c = Catalogue::new(org(9));
        let t = samples::SAMPLE_TIME;
        for i in 0..45 {
            c.apply(&record(
                org(1 + i % 3),
                &format!("t{i}"),
                1,
                t,
                talk("Talk"),
            ));
        }
        c.apply(&record(org(1), "card", 1, t, samples::body(Kind::OrgCard)));
        let r = c.search(&query("talk"), NOW);
        assert_eq!((r.total, r.hits.len()), (45, SearchQuery::PER_PAGE));
        let orgs = r.facets.iter().find(|f| f.name == "org").expect("org");
        assert_eq!(orgs.values.iter().map(|v| v.count).sum::<usize>(), 45);
        assert!(orgs.values.iter().any(|v| v.label == "Northwind Traders"));
        let mut seen = std::collections::HashSet::new();
        for page in 1..=3 {
            let r = c.search(
                &SearchQuery {
                    q: "talk".into(),
                    page,
                    ..SearchQuery::default()
                },
                NOW,
            );
            for h in r.hits {
                assert!(seen.insert(h.id), "each result on exactly one page");
            }
        }
        assert_eq!(seen.len(), 45);
        let unknown = c.search(
            &SearchQuery {
                language: "xx".into(),
                ..SearchQuery::default()
            },
            NOW,
        );
        assert_eq!(unknown.total, 0);
    }

    #[test]
    fn stored_rows_decode_in_one_pass_as_they_do_in_full() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
        for kind in Kind::ALL {
            let record = samples::record(OrgKey::from(&key.verifying_key()), kind);
            let row = StoredRecord {
                org: record.header.org,
                id: record.header.id.clone(),
                seq: 1,
                expires_at: record.header.expires_at,
                received_at: 0,
                tombstone: false,
                envelope: skillmesh_protocol::seal(&record, &key).expect("seal"),
            };
            assert_eq!(decode_stored(&row), Some(record), "{kind}");
        }
    }

    #[test]
    fn replaced_and_removed_texts_are_compacted_away() {
        let mut c = Catalogue::new(org(9));
        let t = samples::SAMPLE_TIME;
        let long = "x".repeat(400);
        for seq in 1..=4u64 {
            for i in 0..1000 {
                let title = format!("version{seq} talk{i} {long}");
                c.apply(&record(org(1), &format!("t{i}"), seq, t, talk(&title)));
            }
        }
        for i in 0..500 {
            c.remove(&org(1), &format!("t{i}"));
        }
        assert!(
            c.text.len() < 1_500_000,
            "garbage was dropped: {}",
            c.text.len()
        );
        assert_eq!(c.search(&query("version4"), NOW).total, 500);
        assert_eq!(c.search(&query("version3"), NOW).total, 0);
        let r = c.search(&query("talk999 version4"), NOW);
        assert_eq!(r.total, 1);
        assert_eq!(r.hits[0].id, "t999");
        assert_eq!(r.hits[0].topics, ["Incident response", "On-call"]);
    }
}
