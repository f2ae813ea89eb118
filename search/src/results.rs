//! What a search asks and answers. The types live in the
//! `skillmesh-search-types` crate, without the index, so that the web crate
//! can serve them without building tantivy; this crate builds them.

pub use skillmesh_search_types::{
    Facet, FacetValue, Highlight, HighlightPart, SearchHit, SearchQuery, SearchResults,
};
