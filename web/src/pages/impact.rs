//! `/admin/impact`: what the organisation's peer learning came to, for a
//! period and a topic: figures, two server-rendered SVG charts (no
//! script), and the same numbers as three CSV files, one per table
//! (`/admin/impact/{figures,partners,wanted}.csv`). Partner names
//! come from other organisations: escaped in the page and the SVG, and
//! kept from being read as formulas in the CSV. Nothing leaves unless the
//! admin publishes a summary (totals and averages, signed) for partners,
//! whose own published summaries the page lists too.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::admin::admin_nav;
use super::{Ctx, FormData, PageError, PageResult, done};
use crate::Shared;
use crate::api::{ApiError, Impact, ImpactQuery, PartnerImpact, PublishedImpact};
use crate::dates::{date, datetime};
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::ImpactSummary;

/// The figures an admin asked for, for the page and the CSV alike.
async fn figures_asked<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> Result<(ImpactQuery, Impact), PageError> {
    ctx.admin()?;
    let Query(query) = query.map_err(|e| ctx.fail(ApiError::Invalid(e.body_text())))?;
    let impact = state.node.impact(&query).await.map_err(|e| ctx.fail(e))?;
    Ok((query, impact))
}

pub async fn page<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> PageResult {
    let (query, impact) = figures_asked(&state, &ctx, query).await?;
    let summaries = state
        .node
        .impact_summaries()
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Impact",
        html! {
            (render(&query, &impact))
            (published(&ctx, &query, &summaries))
        },
    ))
}

/// `POST /admin/impact/publish`: the summary of the figures for the
/// form's period and topic goes to every partner.
pub async fn publish<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let query = ImpactQuery {
        since: form.get("since").to_string(),
        until: form.get("until").to_string(),
        topic: form.get("topic").to_string(),
    };
    state
        .node
        .publish_impact(&me.user, &query)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin/impact", "impact_published")
}

/// `POST /admin/impact/withdraw`: our published summary is retracted.
pub async fn withdraw<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    state
        .node
        .withdraw_impact(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin/impact", "impact_withdrawn")
}

/// Our published summary (or the form to publish one) and partners'.
fn published(ctx: &Ctx, q: &ImpactQuery, summaries: &[PublishedImpact]) -> Markup {
    let own = summaries.iter().find(|s| s.own);
    html! {
        h2 #publish { "Published to partners" }
        @if let Some(s) = own {
            p.meta { "Published " (datetime(s.issued_at)) "." }
            (summary_figures(&s.summary))
            form.inline method="post" action="/admin/impact/withdraw" {
                (ctx.csrf())
                button.secondary #withdraw-impact type="submit" { "Withdraw it" }
            }
        } @else {
            p { "Nothing: partners see none of these figures." }
        }
        form.stack #publish-impact method="post" action="/admin/impact/publish" {
            (ctx.csrf())
            input type="hidden" name="since" value=(q.since);
            input type="hidden" name="until" value=(q.until);
            input type="hidden" name="topic" value=(q.topic);
            button #publish-impact-button type="submit" {
                @if own.is_some() { "Publish these figures instead" } @else { "Publish these figures to partners" }
            }
        }
        p.hint { "Only the totals go, signed by " (ctx.org_name) ", and the averages of feedback only when at least "
            (skillmesh_protocol::limits::MIN_FEEDBACK_TO_PUBLISH) " people gave it: never what one person said, and not the figures per partner. Figures fewer people stand behind than this node's floor are left out, and cannot be published at all when every figure is." }
        h2 { "What partners published" }
        @let theirs: Vec<&PublishedImpact> = summaries.iter().filter(|s| !s.own).collect();
        @if theirs.is_empty() { p { "No partner has published a summary." } }
        @for s in theirs {
            section.partner-summary data-org=(s.org.to_hex()) {
                h3 { a href={ "/listing/" (s.org.to_hex()) "/impact-summary" } { (s.org_name) } (super::fingerprint(&s.org_fingerprint)) }
                p.meta {
                    @if s.signature_verified { span.verified { "✓ signed by " (s.org_name) } } @else { span.unverified { "✗ signature did not check out" } }
                    " · published " (datetime(s.issued_at))
                }
                (summary_figures(&s.summary))
            }
        }
    }
}

/// A published summary's figures, for the admin page and its listing.
pub fn summary_figures(s: &ImpactSummary) -> Markup {
    let tenths = |v: Option<u8>| {
        v.map_or_else(
            || "—".to_string(),
            |v| format!("{:.1}", f64::from(v) / 10.0),
        )
    };
    html! {
        dl.facts.summary {
            dt { "Period" } dd { (date(s.period_start)) " to " (date(s.period_end)) @if let Some(t) = &s.topic { ", on " (t) } }
            dt { "Sessions given" } dd { (s.sessions_given) }
            dt { "Hours given" } dd { (format!("{:.1}", f64::from(s.minutes_given) / 60.0)) }
            dt { "Participants from partners" } dd { (s.participants) }
            dt { "Cross-organisation connections" } dd { (s.connections) }
            dt { "Requests received and answered" } dd { (s.requests_received_answered) " of " (s.requests_received) }
            dt { "Requests made and answered" } dd { (s.requests_made_answered) " of " (s.requests_made) }
            dt { "Median time to answer" } dd { @match s.median_minutes_to_answer { Some(m) => { (format!("{:.1}", f64::from(m) / 60.0)) " hours" } None => { "—" } } }
            dt { "Feedback given" } dd { (s.feedback) }
            dt { "Average rating (1-5)" } dd { (tenths(s.average_rating_tenths)) }
            dt { "Skill before and after (1-5)" } dd { (tenths(s.skill_before_tenths)) " → " (tenths(s.skill_after_tenths)) }
        }
    }
}

/// `/admin/impact/figures.csv`: the figures, one per row.
pub async fn figures_csv<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> PageResult {
    let (_, impact) = figures_asked(&state, &ctx, query).await?;
    csv_file(
        &ctx,
        "impact-figures.csv",
        &FIGURES_HEADER,
        figure_rows(&impact),
    )
}

const FIGURES_HEADER: [&str; 2] = ["figure", "value"];

/// The figures as CSV rows, with a row saying what is not shown and why.
fn figure_rows(i: &Impact) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if i.withheld {
        rows.push(vec![
            format!("fewer than {} people: not shown", i.min_group_size),
            String::new(),
        ]);
    }
    rows.extend(figures(i).into_iter().map(|(l, v)| vec![l.to_string(), v]));
    if i.feedback_withheld {
        rows.push(vec![
            format!(
                "feedback from fewer than {} people: not shown",
                i.min_group_size
            ),
            String::new(),
        ]);
    }
    rows
}

/// `/admin/impact/partners.csv`: one row per partner.
pub async fn partners_csv<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> PageResult {
    let (_, impact) = figures_asked(&state, &ctx, query).await?;
    let mut rows: Vec<Vec<String>> = impact
        .partners
        .iter()
        .map(|p| {
            vec![
                p.org_name.clone(),
                p.org.to_hex(),
                p.org_fingerprint.clone(),
                p.given.to_string(),
                p.received.to_string(),
            ]
        })
        .collect();
    if impact.partners_withheld > 0 {
        let mut note = vec![partners_withheld_note(&impact)];
        note.resize(5, String::new());
        rows.push(note);
    }
    csv_file(
        &ctx,
        "impact-partners.csv",
        &["partner", "key", "fingerprint", "given", "received"],
        rows,
    )
}

/// `/admin/impact/wanted.csv`: the topics wanted here and offered nowhere.
pub async fn wanted_csv<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> PageResult {
    let (_, impact) = figures_asked(&state, &ctx, query).await?;
    let rows = impact.wanted_without_supply.iter().map(|t| vec![t.clone()]);
    csv_file(
        &ctx,
        "impact-wanted.csv",
        &["wanted here, offered nowhere"],
        rows,
    )
}

/// `/admin/impact.csv`, which held every table in one file before: the
/// figures table now, at its own address.
pub async fn old_csv(uri: Uri) -> Redirect {
    let query = uri.query().map_or_else(String::new, |q| format!("?{q}"));
    Redirect::permanent(&format!("/admin/impact/figures.csv{query}"))
}

/// One table as a CSV download: a header row, then the rows.
fn csv_file(
    ctx: &Ctx,
    name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> PageResult {
    let body = to_csv(header, rows).map_err(|e| {
        tracing::warn!(error = %e, "cannot write a CSV export");
        ctx.fail(ApiError::Unavailable("The CSV could not be made.".into()))
    })?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// What stands in for the partners left out.
fn partners_withheld_note(i: &Impact) -> String {
    let partners = if i.partners_withheld == 1 {
        "1 partner".to_string()
    } else {
        format!("{} partners", i.partners_withheld)
    };
    format!(
        "{partners} with fewer than {} people here brought together: not shown.",
        i.min_group_size
    )
}

/// The figures, one per row, as `(label, value)`; none when they are
/// withheld (too few people stand behind them).
fn figures(i: &Impact) -> Vec<(&'static str, String)> {
    if i.withheld {
        return Vec::new();
    }
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.1}"));
    let feedback = if i.feedback_withheld {
        String::new()
    } else {
        i.feedback.to_string()
    };
    vec![
        ("Sessions given", i.sessions_given.to_string()),
        (
            "Hours given",
            format!("{:.1}", i.minutes_given as f64 / 60.0),
        ),
        ("Participants from partners", i.participants.to_string()),
        ("Cross-organisation connections", i.connections.to_string()),
        ("Requests made", i.requests_made.to_string()),
        (
            "Requests made and answered",
            i.requests_made_answered.to_string(),
        ),
        ("Requests received", i.requests_received.to_string()),
        (
            "Requests received and answered",
            i.requests_received_answered.to_string(),
        ),
        ("Median hours to answer", opt(i.median_hours_to_answer)),
        ("Feedback given", feedback),
        ("Average rating (1-5)", opt(i.average_rating)),
        ("Skill before (1-5)", opt(i.skill_before)),
        ("Skill after (1-5)", opt(i.skill_after)),
    ]
}

fn render(q: &ImpactQuery, i: &Impact) -> Markup {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("since", &q.since)
        .append_pair("until", &q.until)
        .append_pair("topic", &q.topic)
        .finish();
    let csv_link = |table: &str| format!("/admin/impact/{table}.csv?{query}");
    html! {
        h1 { "Impact" }
        (admin_nav())
        form.row #impact-filter method="get" action="/admin/impact" {
            label { "From " input type="date" name="since" value=(q.since); }
            label { "to " input type="date" name="until" value=(q.until); }
            label { "Topic " input type="text" name="topic" value=(q.topic) placeholder="any"; }
            button type="submit" { "Show" }
        }
        p.hint { "Counted on this node from its requests, offers and the feedback people here gave; never what one person said. Nothing here leaves the organisation." }
        @if i.withheld {
            p.notice #impact-withheld { "Fewer than " (i.min_group_size) " people here stand behind the figures for this period and topic: not shown, so nobody can be picked out. Choose a longer period or another topic." }
        }
        @if i.feedback_withheld {
            p.notice #feedback-withheld { "Feedback from fewer than " (i.min_group_size) " people: not shown." }
        }
        dl.facts #impact {
            @for (label, value) in figures(i) {
                dt { (label) } dd { @if value.is_empty() { "—" } @else { (value) } }
            }
        }
        h2 { "Skill before and after" }
        (skill_chart(i))
        h2 { "Given and received, per partner" }
        @if i.partners.is_empty() && i.partners_withheld == 0 { p { "No accepted requests with partners in this period." } } @else if !i.partners.is_empty() { (partner_chart(&i.partners)) }
        @if i.partners_withheld > 0 {
            p.notice #partners-withheld { (partners_withheld_note(i)) }
        }
        h2 { "Wanted here, offered nowhere" }
        @if i.wanted_without_supply.is_empty() { p { "Nothing: every topic people here want is offered somewhere." } } @else {
            ul #unsupplied { @for t in &i.wanted_without_supply { li { (t) } } }
        }
        p #impact-csv {
            "Download as CSV: "
            a #impact-csv-figures href=(csv_link("figures")) { "figures" } ", "
            a #impact-csv-partners href=(csv_link("partners")) { "per partner" } ", "
            a #impact-csv-wanted href=(csv_link("wanted")) { "wanted, offered nowhere" }
        }
    }
}

const BAR_WIDTH: f64 = 300.0;

/// Horizontal bars for the average skill before and after, on a 0–5 scale.
fn skill_chart(i: &Impact) -> Markup {
    let rows = [("Before", i.skill_before), ("After", i.skill_after)];
    html! {
        @if i.skill_before.is_none() { p { "No feedback with a self-assessment in this period." } } @else {
            svg #skill-chart xmlns="http://www.w3.org/2000/svg" width="440" height="70" role="img" aria-label="Average self-assessed skill before and after" {
                @for (n, (label, value)) in rows.iter().enumerate() {
                    @let y = 10 + n * 30;
                    @let v = value.unwrap_or(0.0);
                    text x="0" y=(y + 15) { (label) }
                    rect x="60" y=(y) height="20" width=(format!("{:.1}", BAR_WIDTH * v / 5.0)) class={ "bar " (label.to_lowercase()) } {}
                    text x=(format!("{:.1}", 66.0 + BAR_WIDTH * v / 5.0)) y=(y + 15) { (format!("{v:.1}")) }
                }
            }
        }
    }
}

/// Two bars per partner: what our people gave them and received from them.
fn partner_chart(partners: &[PartnerImpact]) -> Markup {
    let max = partners
        .iter()
        .map(|p| p.given.max(p.received))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let height = partners.len() * 50 + 10;
    html! {
        svg #partner-chart xmlns="http://www.w3.org/2000/svg" width="560" height=(height) role="img" aria-label="Requests accepted per partner organisation, given and received" {
            @for (n, p) in partners.iter().enumerate() {
                @let y = 10 + n * 50;
                text x="0" y=(y + 14) { (p.org_name) }
                text.fingerprint x="0" y=(y + 32) { (p.org_fingerprint) }
                rect.bar.given x="200" y=(y) height="16" width=(format!("{:.1}", BAR_WIDTH * p.given as f64 / max)) {}
                text x=(format!("{:.1}", 206.0 + BAR_WIDTH * p.given as f64 / max)) y=(y + 13) { "given " (p.given) }
                rect.bar.received x="200" y=(y + 20) height="16" width=(format!("{:.1}", BAR_WIDTH * p.received as f64 / max)) {}
                text x=(format!("{:.1}", 206.0 + BAR_WIDTH * p.received as f64 / max)) y=(y + 33) { "received " (p.received) }
            }
        }
    }
}

/// A table as CSV (RFC 4180: CRLF line ends, fields quoted when they
/// hold a comma, quote or line break), written by the `csv` crate, the
/// maintained CSV writer for Rust. Every field passes through [`cell`]
/// first, so that no name from a partner becomes a spreadsheet formula.
fn to_csv(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(header)?;
    for row in rows {
        out.write_record(row.iter().map(|v| cell(v)))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// One CSV field, prefixed with `'` when a spreadsheet would take it for
/// a formula (the writer quotes it).
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    fn csv(rows: &[&[&str]]) -> String {
        let rows = rows
            .iter()
            .map(|r| r.iter().map(|v| (*v).to_string()).collect::<Vec<_>>());
        String::from_utf8(super::to_csv(&["a", "b"], rows).expect("csv")).expect("utf-8")
    }
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(csv(&[&["Contoso", "1"]]), "a,b\r\nContoso,1\r\n");
        assert_eq!(csv(&[&["a,b", "x"]]), "a,b\r\n\"a,b\",x\r\n");
        assert_eq!(
            csv(&[&["say \"hi\"", "two\nlines"]]),
            "a,b\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(
            csv(&[&["=HYPERLINK(\"x\")", "-1"]]),
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",'-1\r\n"
        );
    }

    fn figures_csv_text(i: &Impact) -> String {
        String::from_utf8(to_csv(&FIGURES_HEADER, figure_rows(i)).expect("csv")).expect("utf-8")
    }

    fn impact() -> Impact {
        Impact {
            sessions_given: 7,
            requests_made: 6,
            feedback: 4,
            average_rating: Some(4.2),
            min_group_size: 5,
            ..Impact::default()
        }
    }

    #[test]
    fn withheld_figures_are_not_shown_and_say_why() {
        let q = ImpactQuery::default();
        let shown = render(&q, &impact()).into_string();
        assert!(
            shown.contains("<dt>Sessions given</dt><dd>7</dd>"),
            "{shown}"
        );
        assert!(!shown.contains("impact-withheld"));

        let withheld = Impact {
            withheld: true,
            ..impact()
        };
        let page = render(&q, &withheld).into_string();
        assert!(
            page.contains("Fewer than 5 people here stand behind the figures"),
            "{page}"
        );
        assert!(!page.contains("Sessions given"), "{page}");
        let csv = figures_csv_text(&withheld);
        assert!(csv.contains("fewer than 5 people: not shown"), "{csv}");
        assert!(!csv.contains("Sessions given"), "{csv}");

        let feedback = Impact {
            feedback_withheld: true,
            feedback: 0,
            average_rating: None,
            ..impact()
        };
        let page = render(&q, &feedback).into_string();
        assert!(page.contains("Feedback from fewer than 5 people: not shown."));
        assert!(page.contains("<dt>Feedback given</dt><dd>—</dd>"), "{page}");
        let csv = figures_csv_text(&feedback);
        assert!(csv.contains("Feedback given,\r\n"), "{csv}");
        assert!(csv.contains("feedback from fewer than 5 people: not shown"));
    }
}
