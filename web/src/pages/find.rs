//! `GET /find`: one search box over experts, offers, cohorts, events and
//! content from every federated organisation and our own, with facets
//! (each a link that adds or removes its filter) and result counts. Each
//! result shows why it matched: the words of its title, summary, topics or
//! other text that matched, in `<mark>`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use maud::{Markup, html};
use skillmesh_protocol::Kind;

use super::{Ctx, PageResult};
use crate::Shared;
use crate::api::{ApiError, HighlightPart, SearchHit, SearchQuery, SearchResults};
use crate::layout::words;
use crate::ports::NodeApi;

/// What people see a kind called; an unknown kind shows as itself.
pub fn kind_label(kind: &str) -> &str {
    kind.parse::<Kind>().map_or(kind, |k| k.label())
}

fn facet_title(name: &str) -> &str {
    match name {
        "kind" => "Kind",
        "topic" => "Topic",
        "org" => "Organisation",
        "format" => "Format",
        "language" => "Language",
        "time_zone" => "Time zone",
        "availability" => "Availability",
        other => other,
    }
}

fn get<'a>(q: &'a SearchQuery, name: &str) -> &'a str {
    match name {
        "q" => &q.q,
        "kind" => &q.kind,
        "topic" => &q.topic,
        "org" => &q.org,
        "format" => &q.format,
        "language" => &q.language,
        "time_zone" => &q.time_zone,
        "availability" => &q.availability,
        _ => "",
    }
}

const PARAMS: [&str; 8] = [
    "q",
    "kind",
    "topic",
    "org",
    "format",
    "language",
    "time_zone",
    "availability",
];

/// The URL of this search with `name` set to `value` (empty removes it),
/// back on page 1 unless `page` is given.
fn url_with(q: &SearchQuery, name: &str, value: &str, page: usize) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for p in PARAMS {
        let v = if p == name { value } else { get(q, p) };
        if !v.is_empty() {
            out.append_pair(p, v);
        }
    }
    if page > 1 {
        out.append_pair("page", &page.to_string());
    }
    format!("/find?{}", out.finish())
}

pub async fn page<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> PageResult {
    let me = ctx.user()?;
    let Query(query) = query.map_err(|e| ctx.fail(ApiError::Invalid(e.body_text())))?;
    let results = state
        .node
        .search(&me.user, &query)
        .await
        .map_err(|e| ctx.fail(e))?;
    let title = if query.q.is_empty() {
        "Find".to_string()
    } else {
        format!("Find: {}", query.q)
    };
    Ok(ctx.render(&title, render(&query, &results)))
}

fn render(query: &SearchQuery, results: &SearchResults) -> Markup {
    let pages = results.total.div_ceil(results.per_page.max(1));
    html! {
        h1 { "Find experts, mentors, talks and cohorts" }
        form.search role="search" method="get" action="/find" {
            div.row {
                input #q type="search" name="q" value=(query.q) aria-label="Search" placeholder="Topic, skill, name…";
                select name="kind" aria-label="Kind" {
                    option value="" selected[query.kind.is_empty()] { "Everything" }
                    @for k in Kind::SEARCHABLE {
                        option value=(k.as_str()) selected[query.kind == k.as_str()] { (k.label()) }
                    }
                }
                button #search type="submit" { "Search" }
            }
            @for p in ["topic", "org", "format", "language", "time_zone", "availability"] {
                @if !get(query, p).is_empty() {
                    input type="hidden" name=(p) value=(get(query, p));
                }
            }
        }
        div.layout {
            aside.facets aria-label="Filters" {
                @for facet in &results.facets {
                    @if !facet.values.is_empty() {
                        details open {
                            summary { (facet_title(&facet.name)) }
                            ul {
                                @for v in &facet.values {
                                    @let on = get(query, &facet.name) == v.value;
                                    li.on[on] {
                                        a href=(url_with(query, &facet.name, if on { "" } else { &v.value }, 1)) {
                                            @if on { "✓ " }
                                            (v.label)
                                        }
                                        " (" (v.count) ")"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-label="Results" {
                p #result-count { (results.total) " result" @if results.total != 1 { "s" } }
                ol.results {
                    @for hit in &results.hits { li.card { (hit_card(hit)) } }
                }
                (super::pager(results.page, pages, |p| url_with(query, "", "", p)))
            }
        }
    }
}

/// The parts of one highlight, the matched ones in `<mark>` (every part
/// escaped like any other text).
fn marked(parts: &[HighlightPart]) -> Markup {
    html! {
        @for p in parts {
            @if p.matched { mark { (p.text) } } @else { (p.text) }
        }
    }
}

/// The highlight of `field` (for a topic, the one of that topic).
fn highlight<'a>(hit: &'a SearchHit, field: &str, text: &str) -> Option<&'a [HighlightPart]> {
    hit.highlights
        .iter()
        .find(|h| {
            h.field == field
                && (field != "topic"
                    || h.parts.iter().map(|p| p.text.as_str()).collect::<String>() == text)
        })
        .map(|h| h.parts.as_slice())
}

pub fn hit_card(hit: &SearchHit) -> Markup {
    html! {
        span.kind { (hit.kind.label()) }
        h3 {
            a href={ "/listing/" (hit.org) "/" (hit.id) } {
                @if let Some(parts) = highlight(hit, "title", "") { (marked(parts)) } @else { (hit.title) }
            }
        }
        p.meta {
            (hit.org_name)
            @if !hit.own && !hit.org_fingerprint.is_empty() { (super::fingerprint(&hit.org_fingerprint)) }
            @if hit.own { " (us)" }
            @if hit.local_only { " · " span.local { "kept inside: not shared with partners" } }
            @if let Some(tz) = &hit.time_zone { " · " (tz) }
            @if let Some(a) = &hit.availability { " · " (words(a)) }
        }
        @if !hit.summary.is_empty() {
            p {
                @if let Some(parts) = highlight(hit, "summary", "") { (marked(parts)) } @else { (hit.summary) }
            }
        }
        @if let Some(parts) = highlight(hit, "text", "") {
            p.why { "Matched: " (marked(parts)) }
        }
        p {
            @for t in &hit.topics {
                span.tag {
                    @if let Some(parts) = highlight(hit, "topic", t) { (marked(parts)) } @else { (t) }
                }
            }
            @for f in &hit.formats { span.tag { (words(f)) } }
            @for l in &hit.languages { span.tag { (l) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Highlight;
    use crate::fake::HOSTILE;

    fn part(text: &str, matched: bool) -> HighlightPart {
        HighlightPart {
            text: text.into(),
            matched,
        }
    }

    #[test]
    fn highlights_mark_matches_and_escape_everything() {
        let hit = SearchHit {
            org: "ab".into(),
            org_name: "Contoso".into(),
            org_fingerprint: String::new(),
            id: "t1".into(),
            kind: Kind::TalkOffer,
            title: "Running Kubernetes".into(),
            summary: format!("Ops {HOSTILE}"),
            topics: vec!["Kubernetes".into(), "On-call".into()],
            formats: vec![],
            languages: vec![],
            time_zone: None,
            availability: None,
            own: false,
            local_only: false,
            highlights: vec![
                Highlight {
                    field: "title".into(),
                    parts: vec![part("Running ", false), part("Kubernetes", true)],
                },
                Highlight {
                    field: "summary".into(),
                    parts: vec![part("Ops ", false), part(HOSTILE, true)],
                },
                Highlight {
                    field: "topic".into(),
                    parts: vec![part("Kubernetes", true)],
                },
                Highlight {
                    field: "text".into(),
                    parts: vec![part("…", false), part("<b>k8s</b>", true)],
                },
            ],
        };
        let html = hit_card(&hit).into_string();
        assert!(
            html.contains("Running <mark>Kubernetes</mark></a>"),
            "{html}"
        );
        assert!(html.contains("<mark>&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains(r#"<span class="tag"><mark>Kubernetes</mark></span><span class="tag">On-call</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<p class="why">Matched: …<mark>&lt;b&gt;k8s&lt;/b&gt;</mark></p>"#),
            "{html}"
        );
    }
}
