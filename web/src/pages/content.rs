//! Learning content: something worth learning from (an article, video,
//! book, course, podcast or tool) with why it is worth it, or a learning
//! path (an ordered list of such items, each with a note). People write
//! them from "My offers"; kept on the node they are seen by colleagues,
//! and shared they are signed and sent to partners like offers (stopping
//! sharing, or deleting, sends a retraction). Anyone may follow a learning
//! path, ours or a partner's, and tick its entries off: that progress
//! stays with them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::{ContentItem, ContentType, Level, ListEntry, wire_name};

use super::offers::{pick, select};
use super::{Ctx, FormData, PageResult, done, org_key};
use crate::Shared;
use crate::api::{ApiError, Colleague, FollowOptions, Listing, NewRecommendation, Progress};
use crate::layout::words;
use crate::ports::NodeApi;

pub const CONTENT_TYPES: [ContentType; 7] = [
    ContentType::Article,
    ContentType::Video,
    ContentType::Book,
    ContentType::Course,
    ContentType::Podcast,
    ContentType::Tool,
    ContentType::List,
];
const LEVELS: [Level; 4] = [
    Level::Beginner,
    Level::Intermediate,
    Level::Advanced,
    Level::Expert,
];

/// A new item's starting values.
pub fn blank() -> Body {
    Body::Content(ContentItem {
        content_type: ContentType::Article,
        title: String::new(),
        url: None,
        why: String::new(),
        topics: Vec::new(),
        level: None,
        minutes: None,
        curator_name: None,
        items: Vec::new(),
    })
}

/// One entry per line: `title | link | note`.
fn entries_text(items: &[ListEntry]) -> String {
    items
        .iter()
        .map(|e| {
            if e.note.is_empty() {
                format!("{} | {}", e.title, e.url)
            } else {
                format!("{} | {} | {}", e.title, e.url, e.note)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_entries(text: &str) -> Result<Vec<ListEntry>, ApiError> {
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let mut parts = line.splitn(3, '|').map(str::trim);
        let (title, url) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if title.is_empty() || url.is_empty() {
            return Err(ApiError::Invalid(format!(
                "Entry {} needs a title and a link: title | link | note.",
                n + 1
            )));
        }
        out.push(ListEntry {
            title: title.to_string(),
            url: url.to_string(),
            note: parts.next().unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

/// The item from its form. Links are checked by the node exactly as
/// signing checks them (http and https only).
pub fn parse(form: &FormData, title: String) -> Result<Body, ApiError> {
    let content_type = pick(&CONTENT_TYPES, form.get("content_type"), "a type")?;
    let url = Some(form.get("url").trim().to_string()).filter(|u| !u.is_empty());
    let items = parse_entries(form.get("entries"))?;
    if content_type == ContentType::List && items.is_empty() {
        return Err(ApiError::Invalid(
            "A learning path needs at least one entry.".into(),
        ));
    }
    if content_type != ContentType::List && url.is_none() {
        return Err(ApiError::Invalid("Give the link.".into()));
    }
    Ok(Body::Content(ContentItem {
        content_type,
        title,
        url,
        why: form.get("why").to_string(),
        topics: form.list("topics"),
        level: match form.get("level") {
            "" => None,
            l => Some(pick(&LEVELS, l, "a level")?),
        },
        minutes: match form.get("minutes").trim() {
            "" => None,
            _ => Some(form.number("minutes", "Minutes needed")?),
        },
        curator_name: None,
        items,
    }))
}

/// The item's fields, inside the offer form.
pub fn fields(c: &ContentItem) -> Markup {
    html! {
        (select("content_type", "Type", &CONTENT_TYPES, Some(c.content_type)))
        label { "Link (http or https; not for a learning path)" input #url type="url" name="url" maxlength="2000" value=(c.url.as_deref().unwrap_or("")); }
        label { "Why it is worth it" textarea #why name="why" maxlength="4000" { (c.why) } }
        label { "Learning path entries, in order, one per line: title | link | note"
            textarea #entries name="entries" rows="5" { (entries_text(&c.items)) } }
        label { "Topics (comma-separated)" input #topics type="text" name="topics" value=(c.topics.join(", ")); }
        label { "Level"
            select #level name="level" {
                option value="" { "any" }
                @for l in LEVELS { option value=(wire_name(&l)) selected[c.level == Some(l)] { (words(&wire_name(&l))) } }
            }
        }
        label { "Minutes needed" input #minutes type="number" name="minutes" min="1" value=(c.minutes.map(|m| m.to_string()).unwrap_or_default()); }
    }
}

/// On a learning path's listing: follow it, or tick off its entries.
pub fn follow_section(ctx: &Ctx, l: &Listing) -> Markup {
    let Body::Content(c) = &l.body else {
        return html! {};
    };
    if c.content_type != ContentType::List {
        return html! {};
    }
    let base = format!("/listing/{}/{}", l.org.to_hex(), l.id);
    html! {
        h2 { "Follow this learning path" }
        @match &l.following {
            None => {
                form.stack #follow method="post" action={ (base) "/follow" } {
                    (ctx.csrf())
                    (tell_curator_box(l))
                    button #follow-button type="submit" { "Follow" }
                }
                p.hint { "Following, and what you tick off, stays with you on " (ctx.org_name) "'s node." }
            }
            Some(done) => {
                form.stack #progress method="post" action={ (base) "/progress" } {
                    (ctx.csrf())
                    @for (n, e) in c.items.iter().enumerate() {
                        label.check {
                            input type="checkbox" name="done" value=(n) checked[done.contains(&(n as u16))];
                            (e.title)
                        }
                    }
                    button #save-progress type="submit" { "Save my progress" }
                }
                p.meta #progress-count { (done.len()) " of " (c.items.len()) " done" }
                @if !l.own {
                    form.inline #tell-form method="post" action={ (base) "/follow" } {
                        (ctx.csrf())
                        (tell_curator_box(l))
                        button.secondary #save-tell type="submit" { "Save" }
                    }
                }
                form.inline method="post" action={ (base) "/unfollow" } {
                    (ctx.csrf())
                    button.secondary type="submit" { "Stop following" }
                }
            }
        }
    }
}

/// For a partner's learning path: whether its organisation may count the
/// person among its followers.
fn tell_curator_box(l: &Listing) -> Markup {
    if l.own {
        return html! {};
    }
    html! {
        label.check {
            input #tell-curator type="checkbox" name="tell_curator" value="1" checked[l.tell_curator];
            "Let " (l.org_name) " count me among its followers (it learns how many of us follow it, never who)"
        }
    }
}

/// `POST /listing/{org}/{id}/follow`: follow, or change whether the
/// list's organisation counts the person.
pub async fn follow<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let org_key = org_key(&ctx, &org)?;
    let options = FollowOptions {
        tell_curator: form.has("tell_curator"),
    };
    state
        .node
        .follow(&me.user, &org_key, &id, options)
        .await
        .map_err(|e| ctx.fail(e))?;
    done(&format!("/listing/{org}/{id}"), "following")
}

/// `POST /listing/{org}/{id}/unfollow`.
pub async fn unfollow<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let org_key = org_key(&ctx, &org)?;
    state
        .node
        .unfollow(&me.user, &org_key, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/", "unfollowed")
}

/// `POST /listing/{org}/{id}/progress`: the entries ticked off.
pub async fn progress<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let org_key = org_key(&ctx, &org)?;
    let mut done_entries = Vec::new();
    for n in form.all("done") {
        done_entries.push(
            n.parse()
                .map_err(|_| ctx.fail(ApiError::Invalid("Tick entries from the list.".into())))?,
        );
    }
    state
        .node
        .set_progress(&me.user, &org_key, &id, Progress { done: done_entries })
        .await
        .map_err(|e| ctx.fail(e))?;
    done(&format!("/listing/{org}/{id}"), "progress")
}

/// On a content item or learning path: recommend it to a colleague here.
pub fn recommend_form(ctx: &Ctx, l: &Listing, colleagues: &[Colleague]) -> Markup {
    if !matches!(l.body, Body::Content(_)) || colleagues.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Recommend it to a colleague" }
        form.stack #recommend method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/recommend" } {
            (ctx.csrf())
            label { "Colleague"
                select #recommend-to name="to" {
                    @for c in colleagues { option value=(c.person_id) { (c.name) } }
                }
            }
            label { "A note" textarea #recommend-note name="note" maxlength="4000" placeholder="Why it is worth their time" {} }
            button #recommend-button type="submit" { "Recommend" }
        }
        p.hint { "It shows on their home page here; it does not leave " (ctx.org_name) "." }
    }
}

/// `POST /listing/{org}/{id}/recommend`.
pub async fn recommend<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let org_key = org_key(&ctx, &org)?;
    state
        .node
        .recommend(
            &me.user,
            NewRecommendation {
                org: org_key,
                id: id.clone(),
                to: form.get("to").to_string(),
                note: form.get("note").to_string(),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done(&format!("/listing/{org}/{id}"), "recommended")
}
