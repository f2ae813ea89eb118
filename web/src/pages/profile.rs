//! `GET/POST /profile`: my topics and levels, languages, time zone, the
//! formats I offer and my availability; for each field whether it may
//! leave the organisation; and a preview of exactly what partner
//! organisations will see (the listing as it will be signed).

use axum::body::Bytes;
use axum::extract::State;
use maud::{Markup, html};
use skillmesh_protocol::kinds::{Availability, AvailabilityStatus, Format, Level, Topic};
use skillmesh_protocol::profile::ProfileDetails;

use super::{Ctx, FormData, PageResult, done};
use crate::Shared;
use crate::api::{ApiError, Profile, ProfileUpdate, QuestionSettings, SharedFields};
use crate::dates::datetime;
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::wire_name;

pub const FORMATS: [(Format, &str); 7] = [
    (Format::Talk, "Talks"),
    (Format::Workshop, "Workshops"),
    (Format::Mentoring, "Mentoring"),
    (Format::Cohort, "Cohorts"),
    (Format::CodeReview, "Code review"),
    (Format::Pairing, "Pairing"),
    (Format::Discussion, "Discussions"),
];

const LEVELS: [Level; 4] = [
    Level::Beginner,
    Level::Intermediate,
    Level::Advanced,
    Level::Expert,
];

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let profile = state
        .node
        .profile(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("My profile", render(&ctx, &profile)))
}

pub async fn save<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx, body: Bytes) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let update = parse(&form).map_err(|e| ctx.fail(e))?;
    let profile = state
        .node
        .update_profile(&me.user, update)
        .await
        .map_err(|e| ctx.fail(e))?;
    done(
        "/profile",
        if profile.pending_approval {
            "pending"
        } else {
            "saved"
        },
    )
}

/// `Kubernetes: expert` per line → topics.
pub fn parse_topics(text: &str) -> Result<Vec<Topic>, ApiError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (name, level) = match line.rsplit_once(':') {
                Some((n, l)) => (n.trim(), l.trim().to_lowercase()),
                None => (line, "intermediate".to_string()),
            };
            let level = LEVELS
                .into_iter()
                .find(|l| wire_name(l) == level)
                .ok_or_else(|| {
                    ApiError::Invalid(format!(
                        "“{line}”: the level must be beginner, intermediate, advanced or expert."
                    ))
                })?;
            Ok(Topic {
                name: name.to_string(),
                level,
            })
        })
        .collect()
}

fn parse(form: &FormData) -> Result<ProfileUpdate, ApiError> {
    let mut sharing = SharedFields::default();
    for field in form.all("share") {
        sharing.set(field, true);
    }
    let formats = form
        .all("formats")
        .into_iter()
        .filter_map(|f| {
            FORMATS
                .iter()
                .find(|(x, _)| wire_name(x) == f)
                .map(|(x, _)| *x)
        })
        .collect();
    let availability = match form.get("availability") {
        "" => None,
        status => Some(Availability {
            status: match status {
                "open" => AvailabilityStatus::Open,
                "limited" => AvailabilityStatus::Limited,
                "full" => AvailabilityStatus::Full,
                _ => {
                    return Err(ApiError::Invalid(
                        "Choose an availability from the list.".into(),
                    ));
                }
            },
            hours_per_month: match form.get("hours_per_month") {
                "" => None,
                _ => Some(form.number("hours_per_month", "Hours a month")?),
            },
            note: Some(form.get("availability_note").to_string()).filter(|n| !n.is_empty()),
        }),
    };
    Ok(ProfileUpdate {
        display_name: form.get("display_name").to_string(),
        profile: ProfileDetails {
            headline: form.get("headline").to_string(),
            topics: parse_topics(form.get("topics"))?,
            languages: form.list("languages"),
            time_zone: Some(form.get("time_zone").to_string()).filter(|t| !t.is_empty()),
            formats,
            availability,
        },
        sharing,
        questions: Some(QuestionSettings {
            open: form.has("questions_open"),
            per_month: form.number("questions_per_month", "Questions in 30 days")?,
        }),
    })
}

fn share_box(org: &str, field: &str, label: &str, on: bool, allowed: bool) -> Markup {
    html! {
        label.check.share {
            input type="checkbox" name="share" value=(field) id={ "share-" (field) } checked[on];
            (label) " may leave " (org)
            @if !allowed { em { " (kept in by the organisation's policy)" } }
        }
    }
}

fn render(ctx: &Ctx, p: &Profile) -> Markup {
    let topics: String = p
        .profile
        .topics
        .iter()
        .map(|t| format!("{}: {}\n", t.name, wire_name(&t.level)))
        .collect();
    let policy = p.policy.fields();
    let allowed = |name: &str| policy.iter().any(|(n, _, on)| *n == name && *on);
    let avail = p.profile.availability.as_ref();
    html! {
        h1 { "My profile" }
        p { "Nothing leaves " (ctx.org_name) " unless you switch it on below. The preview shows exactly what partner organisations will see." }
        form.stack #profile-form method="post" action="/profile" {
            (ctx.csrf())
            @for (field, label, on) in p.sharing.fields() {
                @if field == "display_name" {
                    label { "Name" input #display_name type="text" name="display_name" value=(p.display_name) required maxlength="200"; }
                } @else if field == "headline" {
                    label { "Headline" input #headline type="text" name="headline" value=(p.profile.headline) maxlength="300" placeholder="e.g. Staff engineer, runs our on-call"; }
                } @else if field == "topics" {
                    label { "Topics and levels (one per line, “topic: beginner | intermediate | advanced | expert”)" textarea #topics name="topics" { (topics) } }
                } @else if field == "languages" {
                    label { "Languages (comma-separated)" input #languages type="text" name="languages" value=(p.profile.languages.join(", ")) placeholder="en, de"; }
                } @else if field == "time_zone" {
                    label { "Time zone" input #time_zone type="text" name="time_zone" value=(p.profile.time_zone.clone().unwrap_or_default()) placeholder="Europe/Berlin"; }
                } @else if field == "formats" {
                    fieldset {
                        legend { "Formats I offer" }
                        @for (f, l) in FORMATS {
                            label.check { input type="checkbox" name="formats" value=(wire_name(&f)) checked[p.profile.formats.contains(&f)]; (l) }
                        }
                    }
                } @else if field == "availability" {
                    fieldset {
                        legend { "Availability" }
                        label { "Status"
                            select #availability name="availability" {
                                option value="" selected[avail.is_none()] { "Not stated" }
                                @for (v, l) in [("open", "Open to requests"), ("limited", "Limited"), ("full", "Full: no new requests")] {
                                    option value=(v) selected[avail.is_some_and(|a| wire_name(&a.status) == v)] { (l) }
                                }
                            }
                        }
                        label { "Hours a month" input #hours_per_month type="number" min="0" max="200" name="hours_per_month" value=(avail.and_then(|a| a.hours_per_month).map(|h| h.to_string()).unwrap_or_default()); }
                        label { "Note" input type="text" name="availability_note" value=(avail.and_then(|a| a.note.clone()).unwrap_or_default()) maxlength="300"; }
                    }
                } @else if field == "email" {
                    p { "Email: " strong { (p.email) } }
                }
                (share_box(&ctx.org_name, field, label, on, allowed(field)))
            }
            fieldset #questions {
                legend { "Questions from other organisations" }
                label.check { input #questions_open type="checkbox" name="questions_open" value="yes" checked[p.questions.open]; "People at partner organisations may ask me a question from my listing" }
                label { "At most this many in 30 days" input #questions_per_month type="number" name="questions_per_month" min="1" max="50" value=(p.questions.per_month); }
                p.hint { "A question reaches only you, in your requests. Your contact details go to the person who asked only if you accept." }
            }
            button #save-profile type="submit" { "Save" }
        }
        h2 { "What partner organisations see" }
        @if p.pending_approval {
            p.notice { "Your latest changes wait for an admin's approval; partners still see the version below." }
        }
        @match &p.preview {
            Some(listing) => {
                pre.preview #preview { (serde_json::to_string_pretty(listing).unwrap_or_default()) }
            }
            None => { p #preview { "Nothing: your profile does not leave " (ctx.org_name) "." } }
        }
        h2 { "What you have given" }
        @let r = &p.recognition;
        dl.facts #recognition {
            dt { "People helped" } dd { (r.people_helped) }
            dt { "Organisations reached" } dd { (r.organisations_reached) }
            dt { "Sessions" } dd { (r.sessions) " (" (format!("{:.1}", r.minutes as f64 / 60.0)) " hours)" }
            dt { "Cohorts run" } dd { (r.cohorts_run) }
            dt { "Kudos" } dd { (r.kudos) }
            dt { "Curating" } dd { (r.curated) " (follows of your learning paths, here and by people elsewhere who let us count them, and items you recommended)" }
            dt { "Sessions observed" } dd { (r.observed) }
        }
        p.hint { "Counted here from the requests you accepted and the offers you run. It leaves " (ctx.org_name) " only on your listing, signed, if you share \"Recognition\" above and your organisation allows it." }
        @if !p.kudos.is_empty() {
            h3 { "Kudos" }
            ul #kudos {
                @for k in &p.kudos {
                    li {
                        blockquote { (k.message) }
                        span.meta { (k.from_name.as_deref().unwrap_or("Someone")) " at " (k.from_org_name) (super::fingerprint(&k.from_org_fingerprint)) ", for " (k.offer_title) " · " (datetime(k.at)) }
                    }
                }
            }
        }
    }
}
