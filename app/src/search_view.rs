//! The search crate's query and results as the web crate has them. The
//! search crate keeps types of its own so that it does not depend on the
//! web; the fields are the same, and these move them across.

use skillmesh_search as search;
use skillmesh_web as web;

/// A search the web asked for, as the search crate takes it.
pub fn query(q: &web::SearchQuery) -> search::SearchQuery {
    search::SearchQuery {
        q: q.q.clone(),
        kind: q.kind.clone(),
        topic: q.topic.clone(),
        org: q.org.clone(),
        format: q.format.clone(),
        language: q.language.clone(),
        time_zone: q.time_zone.clone(),
        availability: q.availability.clone(),
        page: q.page,
    }
}

/// A page of results as the web shows it.
pub fn results(r: search::SearchResults) -> web::SearchResults {
    web::SearchResults {
        total: r.total,
        page: r.page,
        per_page: r.per_page,
        hits: r.hits.into_iter().map(hit).collect(),
        facets: r
            .facets
            .into_iter()
            .map(|f| web::Facet {
                name: f.name,
                values: f
                    .values
                    .into_iter()
                    .map(|v| web::FacetValue {
                        value: v.value,
                        label: v.label,
                        count: v.count,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// One result as the web shows it.
pub fn hit(h: search::SearchHit) -> web::SearchHit {
    web::SearchHit {
        org: h.org,
        org_name: h.org_name,
        org_fingerprint: h.org_fingerprint,
        id: h.id,
        kind: h.kind,
        title: h.title,
        summary: h.summary,
        topics: h.topics,
        formats: h.formats,
        languages: h.languages,
        time_zone: h.time_zone,
        availability: h.availability,
        own: h.own,
        local_only: h.local_only,
        highlights: h
            .highlights
            .into_iter()
            .map(|x| web::Highlight {
                field: x.field,
                parts: x
                    .parts
                    .into_iter()
                    .map(|p| web::HighlightPart {
                        text: p.text,
                        matched: p.matched,
                    })
                    .collect(),
            })
            .collect(),
    }
}
