//! The search catalogue: one in-memory entry per searchable record this
//! node holds (its own published records and federated ones; never
//! tombstones, never records of blocked organisations), with a folded
//! text haystack, interned facet values and the levels of its topics worked
//! out once, when the record arrives, so that filters, facets, ranking and
//! paging are a scan over plain bytes and integer counters.
//!
//! It is what search results are made of; the tantivy index
//! ([`crate`]) only says which records match the text and how well.
//! A record the catalogue does not hold (retracted, expired, purged with a
//! blocked organisation) is never a result, whatever the index still says
//! until its next commit; a record it holds that the index does not cover
//! yet is matched by substring over the haystack meanwhile (see
//! [`Catalogue::search_text`]). Each change is numbered with a generation,
//! which is how the two line up.
//!
//! The node's service owns the catalogue (through
//! [`crate::Search`]) and keeps it current after every successful
//! store batch: records published, received, retracted, expired or purged
//! with a blocked organisation.
//!
//! It also holds our content kept inside the organisation (see
//! [`inside_record`]), so that our people find it beside what partners
//! share. Such an entry is an unsigned record with `seq`
//! [`INSIDE_SEQ`], built from the item on this node and never stored with
//! the signed records, so nothing of it can be gossiped or synced: search
//! results go only to our own signed-in people.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use skillmesh_protocol::kinds::{OfferStatus, wire_name};
use skillmesh_protocol::{Body, Header, Kind, OrgKey, RECORD_VERSION, Record};
use skillmesh_search_types::{Facet, FacetValue, SearchHit, SearchQuery, SearchResults};

use crate::analysis::{Analyzer, KeyMap, doc_key};
use skillmesh_store::{OwnItem, Store, StoreError, StoredRecord};

/// The kinds that offer help (people and their offers), as opposed to
/// events, content and calls for talks: what counts as supply for a topic.
pub const SUPPLY: [Kind; 4] = [
    Kind::Expertise,
    Kind::TalkOffer,
    Kind::MentoringOffer,
    Kind::CohortOffer,
];

/// The `seq` of an entry for content kept inside the organisation. No
/// signed record has it (the protocol starts at 1), so it marks the entry
/// as unsigned, and any signed version of the item (once it is shared)
/// replaces it.
pub const INSIDE_SEQ: u64 = 0;

/// The record id of an organisation's card.
pub const ORG_CARD_ID: &str = "org-card";

/// The catalogue entry of our `item` if it is content kept inside the
/// organisation ([`OwnItem::kept_inside`]): an unsigned record of `own`
/// with `seq` [`INSIDE_SEQ`], issued when the item last changed, never
/// expiring.
pub fn inside_record(own: OrgKey, item: &OwnItem) -> Option<Record> {
    item.kept_inside().then(|| Record {
        header: Header {
            version: RECORD_VERSION,
            org: own,
            id: item.id.clone(),
            seq: INSIDE_SEQ,
            issued_at: item.updated_at,
            expires_at: i64::MAX,
        },
        body: item.body.clone(),
    })
}

/// The entries of every item of ours kept inside the organisation.
pub fn inside_records(own: OrgKey, store: &Store) -> Result<Vec<Record>, StoreError> {
    Ok(store
        .items()?
        .iter()
        .filter_map(|item| inside_record(own, item))
        .collect())
}

/// Longest summary kept for a result (the full text is in the record).
const SUMMARY_CHARS: usize = 280;
/// Most values listed per facet.
const FACET_VALUES: usize = 50;

/// Ranking: a result's score is its text score (BM25 from the index; 1
/// without search text) times four weights, so that among records that
/// match about as well, the ones that can help more rank first:
///
/// * the expert's stated level for a topic that matched the query (none,
///   beginner, intermediate, advanced, expert: these);
/// * focus, with search text: `1 + FOCUS_BONUS * matched / topics`, the
///   share of the record's topics the query matched. A mentoring offer on
///   exactly Kubernetes and incident response is what `kubernetes
///   incident` asks for, more than a talk that also covers on-call and
///   says "Kubernetes" more often (BM25 rewards the repetition, not the
///   fit). A record none of whose topics match keeps its text score;
/// * availability: open (or not stated) 1, limited [`LIMITED_WEIGHT`],
///   full [`FULL_WEIGHT`] (offers paused or closed count as full);
/// * freshness: `FRESH_FLOOR + (1 - FRESH_FLOOR) * 2^(-age / half-life)`
///   of the record's `issued_at`.
///
/// Ties go to the newer record, then to (organisation, id), so that pages
/// are stable.
const LEVEL_WEIGHTS: [f32; 5] = [1.0, 1.0, 1.1, 1.25, 1.4];
const FOCUS_BONUS: f32 = 0.2;
const LIMITED_WEIGHT: f32 = 0.85;
const FULL_WEIGHT: f32 = 0.6;
const FRESH_FLOOR: f32 = 0.75;
const FRESH_HALF_LIFE_DAYS: f32 = 90.0;

fn level_weight(level: u8) -> f32 {
    LEVEL_WEIGHTS[usize::from(level.min(4))]
}

fn availability_weight(availability: &str) -> f32 {
    match availability {
        "limited" => LIMITED_WEIGHT,
        "full" => FULL_WEIGHT,
        _ => 1.0,
    }
}

/// `2^(-age / half-life)` is `growth(issued_at) / growth(now)`, so each
/// slot keeps `growth(issued_at)` and a search divides by `growth(now)`
/// once, rather than raising 2 to a power per match.
fn freshness_weight(growth: f64, now_growth: f64) -> f32 {
    let decay = (growth / now_growth).min(1.0) as f32;
    FRESH_FLOOR + (1.0 - FRESH_FLOOR) * decay
}

/// `2^((t - GROWTH_EPOCH) / half-life)`: see [`freshness_weight`]. The epoch
/// keeps it well inside `f64` for any time the protocol allows.
fn growth(t: i64) -> f64 {
    const GROWTH_EPOCH: i64 = 1_700_000_000;
    let half_life_secs = f64::from(FRESH_HALF_LIFE_DAYS) * 86_400.0;
    ((t - GROWTH_EPOCH) as f64 / half_life_secs).exp2()
}

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
    /// [`growth`] of `issued_at`.
    growth: f64,
    /// The change that last set this slot (see [`Catalogue::search_text`]).
    generation: u64,
    /// The slot's folded text (see [`Analyzer::fold_into`]) is
    /// `text[text..text_end]`, and it starts with the folded title,
    /// `text[text..title_end]`.
    text: usize,
    title_end: usize,
    text_end: usize,
    /// Interned facet values of every [`Dim`] in turn from `vals`, each
    /// dimension's distinct and in the record's order; dimension `d` ends
    /// `ends[d]` values after `vals`. `levels[vals..]` holds, for each
    /// topic, the level stated for it (0: none, 1 to 4: beginner to expert).
    vals: usize,
    ends: [u16; 7],
}

const FREE: Hot = Hot {
    expires_at: i64::MIN,
    issued_at: 0,
    growth: 0.0,
    generation: 0,
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

/// What a record contributes to the catalogue (before interning) and to
/// the index.
pub struct Extract {
    pub title: String,
    pub summary: String,
    /// Every other text field, topics excepted.
    pub text: Vec<String>,
    pub topics: Vec<String>,
    /// The level stated for each topic (0: none; 1 to 4).
    pub levels: Vec<u8>,
    pub formats: Vec<String>,
    pub languages: Vec<String>,
    pub time_zone: Option<String>,
    pub availability: Option<String>,
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

pub fn extract(body: &Body) -> Option<Extract> {
    let mut e = Extract {
        title: body.title(),
        summary: String::new(),
        text: Vec::new(),
        topics: Vec::new(),
        levels: Vec::new(),
        formats: Vec::new(),
        languages: Vec::new(),
        time_zone: None,
        availability: None,
    };
    match body {
        Body::Expertise(b) => {
            e.summary = b.headline.clone().unwrap_or_default();
            e.text.extend(b.display_name.clone());
            e.text.extend(b.headline.clone());
            e.topics = b.topics.iter().map(|t| t.name.clone()).collect();
            e.levels = b.topics.iter().map(|t| t.level as u8 + 1).collect();
            e.formats = b.formats.iter().map(wire_name).collect();
            e.languages = b.languages.clone();
            e.time_zone = b.time_zone.clone();
            e.availability = b.availability.as_ref().map(|a| wire_name(&a.status));
        }
        Body::TalkOffer(b) => {
            e.summary = b.summary.clone();
            e.text.push(b.summary.clone());
            e.text.extend(b.speaker_name.clone());
            e.topics = b.session.topics.clone();
            e.formats = vec![wire_name(&b.session.format)];
            e.languages = b.session.languages.clone();
        }
        Body::MentoringOffer(b) => {
            e.summary = b.description.clone();
            e.text.push(b.description.clone());
            e.text.extend(b.mentor_name.clone());
            e.topics = b.topics.clone();
            e.formats = vec!["mentoring".into()];
            e.languages = b.languages.clone();
        }
        Body::CohortOffer(b) => {
            e.summary = b.goal.clone();
            e.text.push(b.goal.clone());
            e.text.extend(b.owner_name.clone());
            e.topics = b.topics.clone();
            e.formats = vec!["cohort".into()];
            e.languages = b.languages.clone();
        }
        Body::Event(b) => {
            e.summary = b.description.clone();
            e.text.push(b.description.clone());
            for s in &b.sessions {
                e.text.push(s.title.clone());
                e.text.extend(s.speaker_name.clone());
                e.topics.extend(s.topics.iter().cloned());
                e.formats.push(wire_name(&s.format));
            }
            e.languages = b.languages.clone();
        }
        Body::Content(b) => {
            e.summary = b.why.clone();
            e.text.push(b.why.clone());
            e.text.extend(b.curator_name.clone());
            e.text.extend(b.items.iter().map(|i| i.title.clone()));
            e.topics = b.topics.clone();
            // Its type (article, video, list...) is what one narrows
            // content by: the format facet.
            e.formats = vec![wire_name(&b.content_type)];
        }
        Body::TalkWanted(b) => {
            e.summary = b.description.clone();
            e.text.push(b.description.clone());
            e.text.extend(b.asker_name.clone());
            e.topics = b.session.topics.clone();
            e.formats = vec![wire_name(&b.session.format)];
            e.languages = b.session.languages.clone();
        }
        Body::OrgCard(_)
        | Body::ImpactSummary(_)
        | Body::Retraction(_)
        | Body::Request(_)
        | Body::Answer(_)
        | Body::Kudos(_)
        | Body::FollowerCount(_)
        | Body::QuotaNotice(_) => return None,
    }
    if let Some(status) = body.offer_status() {
        e.availability = offer_availability(status);
    }
    e.levels.resize(e.topics.len(), 0);
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

/// Decodes one stored row (in one pass; the full decoding is the fallback).
pub(crate) fn decode_row(row: &StoredRecord) -> Option<Record> {
    decode_stored(row).or_else(|| row.record().ok())
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

/// What applying a change did, for the index to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing the index needs to know.
    None,
    /// The record (key `key`) is now held, as change `generation`.
    Upsert { generation: u64, key: u64 },
    /// The record with key `key` is gone: the index drops what it holds
    /// of it with a `seq` below `below_seq`.
    Remove {
        generation: u64,
        key: u64,
        below_seq: u64,
    },
}

/// The text part of a search, worked out by [`crate`].
pub struct TextFilter<'a> {
    /// Every record the index found, by catalogue slot (see
    /// [`Catalogue::slot_of_key`]), with its text score.
    pub hits: &'a [(usize, f32)],
    /// The generation the index results cover: a record last changed
    /// after it is matched by `substrings` instead (and a hit on its slot
    /// is ignored: it names an older record or version).
    pub covered: u64,
    /// Each clause of the query as its alternatives, each folded strings
    /// (words, or phrases of words a space apart) that, all in a record's
    /// folded text, satisfy it.
    pub substrings: &'a [Vec<Vec<String>>],
    /// Whether a topic name matched the query (for the level weight).
    pub topic_matches: &'a mut dyn FnMut(&str) -> bool,
}

/// What [`Catalogue::search_text`] answers.
pub struct Answer {
    pub results: SearchResults,
    /// The first time one of the matches expires (none without matches):
    /// until then, the same query at a later time matches the same
    /// records.
    pub first_expiry: Option<i64>,
}

/// The final score of a match: its text score weighed by the level of
/// its best matching topic (with text only), its availability and its
/// freshness.
struct Weigher<'c, 'f> {
    catalogue: &'c Catalogue,
    /// Whether a topic name matched the query; `None` without text.
    topic_matches: Option<&'f mut dyn FnMut(&str) -> bool>,
    /// Per topic id: unknown (0), does not match (1), matches (2).
    topic_state: Vec<u8>,
    /// Each availability value's weight, once.
    avail_weights: Vec<f32>,
    now_growth: f64,
}

impl<'c, 'f> Weigher<'c, 'f> {
    fn new(
        catalogue: &'c Catalogue,
        now: i64,
        topic_matches: Option<&'f mut dyn FnMut(&str) -> bool>,
    ) -> Self {
        let avail_weights = catalogue.dims[Dim::Availability.index()]
            .values
            .iter()
            .map(|v| availability_weight(v))
            .collect();
        Weigher {
            catalogue,
            topic_matches,
            topic_state: Vec::new(),
            avail_weights,
            now_growth: growth(now),
        }
    }

    fn weigh(&mut self, h: &Hot, text_score: f32) -> f32 {
        let c = self.catalogue;
        let vals = c.vals.as_slice();
        let mut level = 0u8;
        let mut focus = 1.0;
        if let Some(matches) = self.topic_matches.as_mut() {
            let topics = &c.dims[Dim::Topic.index()];
            let own = h.dim(vals, Dim::Topic.index());
            let mut matched = 0u16;
            for (i, id) in own.iter().enumerate() {
                let id = *id as usize;
                if self.topic_state.len() <= id {
                    self.topic_state.resize(id + 1, 0);
                }
                if self.topic_state[id] == 0 {
                    self.topic_state[id] = 1 + u8::from(matches(topics.value(id as u32)));
                }
                if self.topic_state[id] == 2 {
                    matched = matched.saturating_add(1);
                    level = level.max(c.levels[h.vals + i]);
                }
            }
            if matched > 0 {
                focus = 1.0 + FOCUS_BONUS * f32::from(matched) / own.len() as f32;
            }
        }
        let availability = h
            .dim(vals, Dim::Availability.index())
            .first()
            .map_or(1.0, |id| self.avail_weights[*id as usize]);
        text_score
            * level_weight(level)
            * focus
            * availability
            * freshness_weight(h.growth, self.now_growth)
    }
}

/// A match as results order it: the higher score first, then the newer
/// record, then (organisation, id). `Less` is the better, so that a
/// max-heap of them keeps its worst on top (see [`Catalogue::page_of`]).
struct Ranked<'c> {
    score: f32,
    issued_at: i64,
    slot: usize,
    catalogue: &'c Catalogue,
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let cold = |slot: usize| self.catalogue.cold[slot].as_ref();
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| other.issued_at.cmp(&self.issued_at))
            .then_with(|| match (cold(self.slot), cold(other.slot)) {
                (Some(x), Some(y)) => (x.org, &x.id).cmp(&(y.org, &y.id)),
                _ => self.slot.cmp(&other.slot),
            })
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

/// The catalogue of everything searchable this node holds.
pub struct Catalogue {
    own: OrgKey,
    /// Per slot: what a query scans, and what a result shows (`None`: free).
    hot: Vec<Hot>,
    cold: Vec<Option<Cold>>,
    free: Vec<usize>,
    /// Slot by [`doc_key`] of (org, id).
    slots: KeyMap<usize>,
    /// Every slot's folded text, one after another; a replaced or removed
    /// slot's text stays as garbage until [`Catalogue::compact`].
    text: String,
    /// Folds the texts, the way a query's words are.
    analyzer: Analyzer,
    /// Every slot's interned facet values, likewise, and alongside each
    /// value the level of a topic (0 for any other value).
    vals: Vec<u32>,
    levels: Vec<u8>,
    garbage: usize,
    /// Names from organisation cards; kept after a purge so an admin still
    /// sees who a blocked organisation was.
    org_names: HashMap<OrgKey, String>,
    dims: [Interner; 7],
    /// The last change's generation.
    generation: u64,
    /// Slots built from the store carry this generation (0: none).
    base_generation: u64,
    /// When set, slots changed since `base_generation`, by generation, so
    /// a search finds those the index does not cover without a full scan.
    pending: Option<VecDeque<(u64, usize)>>,
}

impl Catalogue {
    pub fn new(own: OrgKey) -> Catalogue {
        Catalogue {
            own,
            hot: Vec::new(),
            cold: Vec::new(),
            free: Vec::new(),
            slots: KeyMap::default(),
            text: String::new(),
            analyzer: Analyzer::default(),
            vals: Vec::new(),
            levels: Vec::new(),
            garbage: 0,
            org_names: HashMap::new(),
            dims: Default::default(),
            generation: 0,
            base_generation: 0,
            pending: None,
        }
    }

    /// Builds the catalogue from every record in the store, and `inside`
    /// (see [`inside_records`]) where no signed version is held. Decoding
    /// the records is most of the work: it runs on every core, a few
    /// thousand records at a time (so they are never all in memory at
    /// once). Every record built carries generation 1. Only records of
    /// organisations `admits` says are let in are searchable; of the
    /// others only the name on their organisation card is kept.
    pub fn build(
        own: OrgKey,
        store: &Store,
        inside: &[Record],
        admits: &dyn Fn(&OrgKey) -> bool,
    ) -> Result<Catalogue, StoreError> {
        const CHUNK: usize = 4096;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut catalogue = Catalogue::new(own);
        catalogue.generation = 1;
        catalogue.base_generation = 1;
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
                if let Body::OrgCard(card) = &record.body {
                    catalogue
                        .org_names
                        .insert(record.header.org, card.name.clone());
                } else if admits(&record.header.org) {
                    catalogue.apply_as(record, 1);
                }
            }
            rows.clear();
        };
        store.scan_records(|row| {
            if !row.tombstone && (row.id == ORG_CARD_ID || admits(&row.org)) {
                rows.push(row);
                if rows.len() == CHUNK {
                    take(&mut rows);
                }
            }
            Ok(())
        })?;
        take(&mut rows);
        for record in inside {
            if !catalogue.holds_signed(&record.header.org, &record.header.id) {
                catalogue.apply_as(record, 1);
            }
        }
        Ok(catalogue)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The last change's generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// From now on, remember which slots change, so that a search with a
    /// [`TextFilter`] scans only those the index does not cover yet
    /// (instead of every slot). For a catalogue an index follows.
    pub fn track_changes(&mut self) {
        self.pending.get_or_insert_with(VecDeque::new);
    }

    /// Forgets the changes an index now covers (up to `covered`).
    pub fn forget_changes_up_to(&mut self, covered: u64) {
        if let Some(pending) = &mut self.pending {
            while pending.front().is_some_and(|(g, _)| *g <= covered) {
                pending.pop_front();
            }
        }
    }

    /// Every record held: (org, id, seq).
    pub fn held(&self) -> Vec<(OrgKey, String, u64)> {
        self.cold
            .iter()
            .flatten()
            .map(|c| (c.org, c.id.clone(), c.seq))
            .collect()
    }

    /// Every organisation card name held, with its organisation.
    pub fn org_names(&self) -> Vec<(OrgKey, String)> {
        self.org_names
            .iter()
            .map(|(o, n)| (*o, n.clone()))
            .collect()
    }

    /// The name on `org`'s organisation card, if we have held one.
    pub fn org_name(&self, org: &OrgKey) -> Option<&str> {
        self.org_names.get(org).map(String::as_str)
    }

    /// The slot holding the record with key `key`, if any.
    pub fn slot_of_key(&self, key: u64) -> Option<usize> {
        self.slots.get(&key).copied()
    }

    /// Whether a signed version of `(org, id)` is held (not an entry kept
    /// inside the organisation).
    pub fn holds_signed(&self, org: &OrgKey, id: &str) -> bool {
        self.slot_of(org, id)
            .and_then(|s| self.cold[s].as_ref())
            .is_some_and(|c| c.seq != INSIDE_SEQ)
    }

    /// The slot holding `(org, id)`, if any.
    fn slot_of(&self, org: &OrgKey, id: &str) -> Option<usize> {
        let slot = *self.slots.get(&doc_key(org, id))?;
        let c = self.cold[slot].as_ref()?;
        (c.org == *org && c.id == id).then_some(slot)
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    /// Takes in a record just stored (new or newer than what we held): a
    /// searchable one is added or replaces its older version, a retraction
    /// removes what it retracts, an organisation card names its org.
    pub fn apply(&mut self, record: &Record) -> Change {
        let h = &record.header;
        if let Body::OrgCard(card) = &record.body {
            self.org_names.insert(h.org, card.name.clone());
        }
        let held = self
            .slot_of(&h.org, &h.id)
            .and_then(|s| self.cold[s].as_ref())
            .map(|c| c.seq);
        if held.is_some_and(|seq| seq >= h.seq) {
            return Change::None;
        }
        if !Kind::SEARCHABLE.contains(&record.kind()) {
            return match self.remove(&h.org, &h.id) {
                Change::Remove {
                    generation, key, ..
                } => Change::Remove {
                    generation,
                    key,
                    below_seq: h.seq,
                },
                other => other,
            };
        }
        let generation = self.next_generation();
        if self.apply_as(record, generation) {
            if let Some(slot) = self.slot_of(&h.org, &h.id)
                && let Some(p) = &mut self.pending
            {
                p.push_back((generation, slot));
            }
            Change::Upsert {
                generation,
                key: doc_key(&h.org, &h.id),
            }
        } else {
            Change::None
        }
    }

    /// Adds or replaces a searchable record's slot, as change `generation`.
    /// False when it is not searchable after all, or its key is taken by
    /// another record (a 64-bit collision: it stays out, with a warning).
    fn apply_as(&mut self, record: &Record, generation: u64) -> bool {
        let h = &record.header;
        let key = doc_key(&h.org, &h.id);
        let Some(x) = extract(&record.body) else {
            return false;
        };
        if let Some(slot) = self.slots.get(&key).copied() {
            match self.cold[slot].as_ref() {
                Some(c) if c.org == h.org && c.id == h.id => {
                    if c.seq >= h.seq {
                        return false;
                    }
                    self.release(slot);
                }
                _ => {
                    tracing::warn!(org = %h.org.short(), id = %h.id, "catalogue: record key taken by another record; not searchable");
                    return false;
                }
            }
        }
        // The slot's text: title first, one line per field, topics last.
        let text = self.text.len();
        self.analyzer.fold_into(&x.title, &mut self.text);
        let title_end = self.text.len();
        for t in x.text.iter().chain(&x.topics) {
            if !t.is_empty() {
                self.text.push('\n');
                self.analyzer.fold_into(t, &mut self.text);
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
            for (i, v) in raw.into_iter().enumerate() {
                if v.trim().is_empty() {
                    continue;
                }
                let id = self.dims[dim.index()].intern(dim, v);
                let level = match dim {
                    Dim::Topic => x.levels.get(i).copied().unwrap_or(0),
                    _ => 0,
                };
                match self.vals[start..].iter().position(|x| *x == id) {
                    // A topic named twice keeps its highest level.
                    Some(at) => {
                        let l = &mut self.levels[start + at];
                        *l = (*l).max(level);
                    }
                    None if self.vals.len() - vals < u16::MAX as usize => {
                        self.vals.push(id);
                        self.levels.push(level);
                    }
                    None => {}
                }
            }
            ends[dim.index()] = u16::try_from(self.vals.len() - vals).unwrap_or(u16::MAX);
        }
        let hot = Hot {
            expires_at: h.expires_at,
            issued_at: h.issued_at,
            growth: growth(h.issued_at),
            generation,
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
        true
    }

    /// Frees `slot` (its text and values become garbage).
    fn release(&mut self, slot: usize) {
        let h = self.hot[slot];
        if let Some(cold) = self.cold[slot].take() {
            self.slots.remove(&doc_key(&cold.org, &cold.id));
            self.garbage += h.text_end + 1 - h.text + (h.ends[6] as usize) * 5;
        }
        self.hot[slot] = FREE;
        self.free.push(slot);
    }

    /// Rewrites the arenas without garbage once garbage is most of them.
    fn compact_if_wasteful(&mut self) {
        let size = self.text.len() + self.vals.len() * 5;
        if self.garbage < 1 << 20 || self.garbage * 2 < size {
            return;
        }
        let mut text = String::with_capacity(size - self.garbage);
        let mut vals = Vec::with_capacity(self.vals.len());
        let mut levels = Vec::with_capacity(self.levels.len());
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
            levels.extend_from_slice(&self.levels[h.vals..h.vals + h.ends[6] as usize]);
            h.vals = v;
        }
        self.text = text;
        self.vals = vals;
        self.levels = levels;
        self.garbage = 0;
    }

    /// Forgets `(org, id)`.
    pub fn remove(&mut self, org: &OrgKey, id: &str) -> Change {
        let Some(slot) = self.slot_of(org, id) else {
            return Change::None;
        };
        let below_seq = self.cold[slot].as_ref().map_or(u64::MAX, |c| c.seq + 1);
        self.release(slot);
        self.compact_if_wasteful();
        Change::Remove {
            generation: self.next_generation(),
            key: doc_key(org, id),
            below_seq,
        }
    }

    /// Forgets `(org, id)` if what it holds has expired by `now` (a newer
    /// version stored since the purge began stays).
    pub fn remove_expired(&mut self, org: &OrgKey, id: &str, now: i64) -> Change {
        let expired = self
            .slot_of(org, id)
            .is_some_and(|s| self.hot[s].expires_at <= now);
        if expired {
            self.remove(org, id)
        } else {
            Change::None
        }
    }

    /// Forgets every record of `org` (it was blocked); returns the
    /// change's generation.
    pub fn remove_org(&mut self, org: &OrgKey) -> u64 {
        let slots: Vec<usize> = self
            .cold
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_ref().is_some_and(|c| c.org == *org))
            .map(|(s, _)| s)
            .collect();
        for slot in slots {
            self.release(slot);
        }
        self.compact_if_wasteful();
        self.next_generation()
    }

    /// Runs a query at time `now` (expired records never match), its text
    /// matched by substring over every record. What a node without an
    /// index does; see [`Catalogue::search_text`] for the real thing.
    pub fn search(&self, query: &SearchQuery, now: i64) -> SearchResults {
        let mut terms = Analyzer::default().words(&query.q);
        terms.sort();
        terms.dedup();
        if terms.is_empty() {
            return self.search_text(query, now, None).results;
        }
        let substrings: Vec<Vec<Vec<String>>> = terms.into_iter().map(|t| vec![vec![t]]).collect();
        self.search_text(
            query,
            now,
            Some(TextFilter {
                hits: &[],
                covered: 0,
                substrings: &substrings,
                topic_matches: &mut |_| false,
            }),
        )
        .results
    }

    /// Whether slot `h`'s text has every clause of `substrings`; with how
    /// many of them its title has.
    fn substring_match(&self, h: &Hot, substrings: &[Vec<Vec<String>>]) -> Option<u32> {
        let all_text = &self.text[h.text..h.text_end];
        let title = &self.text[h.text..h.title_end];
        let has = |text: &str, all: &Vec<String>| all.iter().all(|a| text.contains(a.as_str()));
        let mut title_hits = 0;
        for alternatives in substrings {
            if !alternatives.iter().any(|a| has(all_text, a)) {
                return None;
            }
            if alternatives.iter().any(|a| has(title, a)) {
                title_hits += 1;
            }
        }
        Some(title_hits)
    }

    /// Runs a query at time `now`: the filters and facets over every
    /// record held and unexpired, the text part (if any) as `text` says.
    /// A record the index covers (its generation is at most
    /// `text.covered`) matches if the index found it, with the index's
    /// score; a newer one matches by substring (its score then counts the
    /// clauses its title has). The final score weighs in level,
    /// availability and freshness (see `LEVEL_WEIGHTS`).
    ///
    /// In steps: resolve the filters, score the matches, count facets,
    /// order and page.
    pub fn search_text(
        &self,
        query: &SearchQuery,
        now: i64,
        text: Option<TextFilter<'_>>,
    ) -> Answer {
        let per_page = SearchQuery::PER_PAGE;
        let page = query.page();
        let matches = match self.resolve_filters(query) {
            Some(filters) => self.score_matches(&filters, now, text),
            None => Vec::new(),
        };
        let (counts, first_expiry) = self.count_facets(&matches);
        let total = matches.len();
        Answer {
            results: SearchResults {
                total,
                page,
                per_page,
                hits: self.page_of(&matches, page, per_page),
                facets: self.facets(&counts),
            },
            first_expiry,
        }
    }

    /// Each filter of `query` as (dimension, interned value id); `None`
    /// when one names a value never seen, which nothing can match.
    fn resolve_filters(&self, query: &SearchQuery) -> Option<Vec<(usize, u32)>> {
        let mut filters = Vec::new();
        for dim in Dim::ALL {
            let wanted = dim.filter(query).trim();
            if !wanted.is_empty() {
                filters.push((dim.index(), self.dims[dim.index()].lookup(dim, wanted)?));
            }
        }
        Some(filters)
    }

    /// (score, slot) of every unexpired record that passes `filters` and
    /// matches `text`: all of them without text; with it, what the index
    /// found among the records it covers, and the rest by substring.
    fn score_matches(
        &self,
        filters: &[(usize, u32)],
        now: i64,
        mut text: Option<TextFilter<'_>>,
    ) -> Vec<(f32, usize)> {
        let vals = self.vals.as_slice();
        let passes = |h: &Hot| -> bool {
            h.expires_at > now && filters.iter().all(|(d, id)| h.dim(vals, *d).contains(id))
        };
        let Some(t) = text.as_mut() else {
            // Without text most records match: room for all of them at
            // once rather than growing the vector through 100,000 pushes.
            let mut weigher = Weigher::new(self, now, None);
            let mut matches = Vec::with_capacity(self.hot.len());
            for (slot, h) in self.hot.iter().enumerate() {
                if passes(h) {
                    matches.push((weigher.weigh(h, 1.0), slot));
                }
            }
            return matches;
        };
        let (hits, substrings, covered) = (t.hits, t.substrings, t.covered);
        let mut weigher = Weigher::new(self, now, Some(&mut *t.topic_matches));
        let mut matches: Vec<(f32, usize)> = Vec::with_capacity(hits.len());
        for (slot, score) in hits {
            let Some(h) = self.hot.get(*slot) else {
                continue;
            };
            if h.generation <= covered && passes(h) {
                matches.push((weigher.weigh(h, *score), *slot));
            }
        }
        // The rest by substring: every record when the index covers none
        // of those built from the store (or there is no index), else the
        // changes since.
        let mut by_substring = |slot: usize, h: &Hot| {
            if h.generation > covered
                && passes(h)
                && let Some(title_hits) = self.substring_match(h, substrings)
            {
                matches.push((weigher.weigh(h, 1.0 + title_hits as f32), slot));
            }
        };
        match &self.pending {
            Some(pending) if covered >= self.base_generation => {
                let from = pending.partition_point(|(g, _)| *g <= covered);
                for (g, slot) in pending.range(from..) {
                    let h = &self.hot[*slot];
                    // Only the latest change of a slot counts.
                    if h.generation == *g {
                        by_substring(*slot, h);
                    }
                }
            }
            _ => {
                for (slot, h) in self.hot.iter().enumerate() {
                    by_substring(slot, h);
                }
            }
        }
        matches
    }

    /// Per dimension, per interned value: how many of `matches` have it;
    /// and the first time one of them expires (in the same pass, which
    /// reads each match's slot anyway).
    /// Counted in LANES interleaved copies (match i counts in lane
    /// i % LANES): most matches add to the same few counters (six kinds,
    /// a few availabilities), and one copy would make every increment
    /// wait for the previous one.
    fn count_facets(&self, matches: &[(f32, usize)]) -> (Vec<Vec<u32>>, Option<i64>) {
        const LANES: usize = 4;
        let vals = self.vals.as_slice();
        let mut lanes: Vec<Vec<u32>> = self
            .dims
            .iter()
            .map(|d| vec![0; d.values.len() * LANES])
            .collect();
        let mut first_expiry = i64::MAX;
        for (i, (_, slot)) in matches.iter().enumerate() {
            let h = &self.hot[*slot];
            first_expiry = first_expiry.min(h.expires_at);
            let lane = i % LANES;
            for (d, counts) in lanes.iter_mut().enumerate() {
                for id in h.dim(vals, d) {
                    counts[*id as usize * LANES + lane] += 1;
                }
            }
        }
        let counts = lanes
            .iter()
            .map(|l| l.chunks(LANES).map(|c| c.iter().sum()).collect())
            .collect();
        (counts, (!matches.is_empty()).then_some(first_expiry))
    }

    /// Page `page` of `matches` in result order: score, then the newest,
    /// then (org, id).
    ///
    /// Only the best `page * per_page` are kept, in a heap whose top is
    /// the worst kept: one pass in which most matches cost one comparison
    /// of scores with that worst, rather than partitioning (and moving)
    /// the whole vector, which cost a tenth of a search that matches most
    /// records (docs/BENCHMARKS.md, "Where a search's time went").
    fn page_of(&self, matches: &[(f32, usize)], page: usize, per_page: usize) -> Vec<SearchHit> {
        let total = matches.len();
        let start = (page - 1).saturating_mul(per_page);
        let end = start.saturating_add(per_page).min(total);
        if start >= total {
            return Vec::new();
        }
        let mut best: BinaryHeap<Ranked<'_>> = BinaryHeap::with_capacity(end + 1);
        for (score, slot) in matches {
            let ranked = Ranked {
                score: *score,
                issued_at: self.hot[*slot].issued_at,
                slot: *slot,
                catalogue: self,
            };
            if best.len() < end {
                best.push(ranked);
            } else if best.peek().is_some_and(|worst| ranked < *worst) {
                best.pop();
                best.push(ranked);
            }
        }
        let top = best.into_sorted_vec();
        top[start..]
            .iter()
            .filter_map(|m| self.hit(m.slot))
            .collect()
    }

    /// The facets shown beside results, from the counts of
    /// [`Catalogue::count_facets`]: per dimension its most frequent values
    /// (then by label), at most `FACET_VALUES`.
    ///
    /// A dimension can have far more values than are listed (a node with
    /// 100,000 records holds about 1,000 organisations), so the values are
    /// first cut to the `FACET_VALUES` highest counts and those tied with
    /// the lowest of them, and only those get a label and strings.
    fn facets(&self, counts: &[Vec<u32>]) -> Vec<Facet> {
        Dim::ALL
            .iter()
            .map(|dim| {
                let interner = &self.dims[dim.index()];
                let mut counted: Vec<(u32, u32)> = counts[dim.index()]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(id, n)| (*n, u32::try_from(id).unwrap_or(u32::MAX)))
                    .collect();
                if counted.len() > FACET_VALUES {
                    counted.select_nth_unstable_by(FACET_VALUES - 1, |a, b| b.0.cmp(&a.0));
                    let floor = counted[FACET_VALUES - 1].0;
                    counted.retain(|(n, _)| *n >= floor);
                }
                let mut values: Vec<FacetValue> = counted
                    .into_iter()
                    .map(|(n, id)| {
                        let value = interner.value(id).to_string();
                        let label = match dim {
                            Dim::Org => self.org_label(&value),
                            Dim::Kind => value
                                .parse::<Kind>()
                                .map_or("Other", Kind::label)
                                .to_string(),
                            Dim::Format | Dim::Availability => label(&value),
                            _ => value.clone(),
                        };
                        FacetValue {
                            value,
                            label,
                            count: n as usize,
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
            .collect()
    }

    fn org_label(&self, hex: &str) -> String {
        hex.parse::<OrgKey>()
            .ok()
            .and_then(|o| self.org_names.get(&o).cloned())
            .unwrap_or_else(|| hex.chars().take(8).collect())
    }

    fn hit(&self, slot: usize) -> Option<SearchHit> {
        let h = &self.hot[slot];
        let values = |dim: Dim| -> Vec<String> {
            h.dim(&self.vals, dim.index())
                .iter()
                .map(|id| self.dims[dim.index()].value(*id).to_string())
                .collect()
        };
        // Every slot a match names holds a record.
        let c = self.cold[slot].as_ref()?;
        Some(SearchHit {
            org: c.org.to_hex(),
            org_name: self
                .org_names
                .get(&c.org)
                .cloned()
                .unwrap_or_else(|| c.org.short()),
            org_fingerprint: c.org.fingerprint(),
            id: c.id.clone(),
            kind: c.kind,
            title: c.title.clone(),
            summary: c.summary.clone(),
            topics: values(Dim::Topic),
            formats: values(Dim::Format),
            languages: values(Dim::Language),
            time_zone: values(Dim::TimeZone).into_iter().next(),
            availability: values(Dim::Availability).into_iter().next(),
            own: c.org == self.own,
            local_only: c.seq == INSIDE_SEQ,
            highlights: Vec::new(),
        })
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
