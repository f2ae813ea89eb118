//! What a search asks and answers: the search crate's own types, so that
//! it does not depend on the web crate. The node maps them to the web's
//! (`app/src/search_view.rs`); the fields are the same.

use skillmesh_protocol::Kind;

/// A search: free text and filters. Empty strings filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

    /// The page asked for, 1-based.
    pub fn page(&self) -> usize {
        self.page.max(1)
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The publishing organisation's key (hex) and name.
    pub org: String,
    pub org_name: String,
    /// The publishing organisation's key fingerprint.
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
    /// Our content kept inside the organisation: found here only.
    pub local_only: bool,
    /// Why it matched the search text (empty without text).
    pub highlights: Vec<Highlight>,
}

/// The parts of one field of a result that matched, marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub field: String,
    pub parts: Vec<HighlightPart>,
}

/// A piece of text, marked when it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighlightPart {
    pub text: String,
    pub matched: bool,
}

/// One value of a facet and how many matches have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: usize,
}

/// A facet: the values of one field over every match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub name: String,
    pub values: Vec<FacetValue>,
}

/// A page of results, with the facets over every match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub hits: Vec<SearchHit>,
    pub facets: Vec<Facet>,
}
