//! What a search asks and answers: the search crate's query and result
//! types, in a crate of their own without the index.
//!
//! The search crate (`skillmesh-search`) takes a [`SearchQuery`] and builds
//! [`SearchResults`]; the web crate serves them as they are, in the JSON API
//! (`GET /api/v1/search`) and on the find page. Until issue 20 the search
//! core built the web crate's types; then it had types of its own and the
//! application crate copied every field across into the web's twins. Both
//! ends now use these, which is the one definition, and neither of them
//! depends on the other: the web crate does not build tantivy, and the
//! search crate knows nothing of pages or handlers.
//!
//! The serde names are the JSON API's (`GET /api/v1/openapi.json`, written
//! in the web crate's `openapi.rs`): renaming a field here changes what
//! clients see.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::Kind;

/// A search over everything this node holds and may show: free text and
/// filters. Empty strings filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Free text.
    pub q: String,
    /// Record kind: `expertise`, `talk_offer`, `mentoring_offer`,
    /// `cohort_offer`, `event`, `content`, `talk_wanted`.
    pub kind: String,
    pub topic: String,
    /// Organisation key (hex).
    pub org: String,
    /// A format: `talk`, `workshop`, `mentoring`, `cohort`, ...
    pub format: String,
    pub language: String,
    pub time_zone: String,
    /// `open`, `limited` or `full`.
    pub availability: String,
    /// 1-based; 0 reads as 1.
    pub page: usize,
}

impl SearchQuery {
    /// Results on a page.
    pub const PER_PAGE: usize = 20;

    /// The page asked for, counting from 1.
    pub fn page(&self) -> usize {
        self.page.max(1)
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The publishing organisation's key (hex) and name.
    pub org: String,
    pub org_name: String,
    /// The publishing organisation's key fingerprint (`a1b2 c3d4 e5f6
    /// 0718`), to tell two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    /// The record id within that organisation.
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub summary: String,
    pub topics: Vec<String>,
    pub formats: Vec<String>,
    pub languages: Vec<String>,
    pub time_zone: Option<String>,
    pub availability: Option<String>,
    /// Published by this node's organisation.
    pub own: bool,
    /// Our content kept inside the organisation: found here only, never
    /// signed or shared (`own` is true too).
    #[serde(default)]
    pub local_only: bool,
    /// Why it matched the search text: the parts of its title, summary,
    /// topics or other text that matched, marked (empty without text).
    #[serde(default)]
    pub highlights: Vec<Highlight>,
}

/// One field of a search hit, cut into parts, the parts that matched the
/// query marked. Plain text: a page escapes every part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    /// `title`, `summary`, `topic` (one of the hit's topics) or `text` (a
    /// fragment of anything else the record says).
    pub field: String,
    pub parts: Vec<HighlightPart>,
}

/// A piece of text, marked when it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightPart {
    pub text: String,
    /// This part matched the query.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub matched: bool,
}

/// One value of a facet with how many matches have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: usize,
}

/// A facet: the values of one field over every match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    /// The query parameter it filters on.
    pub name: String,
    pub values: Vec<FacetValue>,
}

/// A page of results, with the facets over every match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub hits: Vec<SearchHit>,
    pub facets: Vec<Facet>,
}
