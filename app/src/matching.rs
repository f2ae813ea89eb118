//! Private matching: a person notes what they want to learn (goals,
//! topics, formats, languages, a time-zone window); the node ranks experts
//! and offers from every organisation it holds records of against it,
//! here. The goals are read from this node's store and compared with
//! records already held: nothing about them is sent anywhere.
//!
//! Candidates come from the search engine (one query per goal topic and per
//! significant word of the goals text); each is then scored on the topics
//! it matches and the level stated for them, the formats and languages the
//! person prefers, its availability and its freshness. People or offers at
//! capacity (availability "full", offers not open) and those outside the
//! person's language or time-zone window are left out.
//!
//! Fairness: a small per-person, per-week jitter is added to every score,
//! so people with the same goals do not all see the same top expert first,
//! and the order changes week to week, while clearly better matches still
//! come first.
//!
//! Aggregate demand counts, per topic, how many people here want it and how
//! many matches the network has for it; it never says who, and a topic
//! fewer than `privacy.min_group_size` people want is left out, so a count
//! cannot point at one person (see [`crate::privacy`]).

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use skillmesh_protocol::kinds::{AvailabilityStatus, Format, Level, OfferStatus};
use skillmesh_protocol::{Body, OrgKey};
use skillmesh_web::{DemandRow, SearchHit, Suggestion};

use crate::search::SearchQuery;

use crate::service::{Result, Service};
use crate::store::{Goals, Person};

/// Suggestions shown at most.
pub const MAX_SUGGESTIONS: usize = 5;
/// Queries run at most for one person's goals.
const MAX_QUERIES: usize = 10;
/// Largest jitter added for fairness (a topic match is worth 3 or more).
const JITTER: f32 = 1.0;

const STOPWORDS: &[&str] = &[
    "about", "after", "again", "also", "better", "from", "have", "help", "into", "learn",
    "learning", "like", "make", "more", "need", "other", "some", "team", "than", "that", "their",
    "them", "then", "there", "these", "they", "this", "what", "when", "which", "will", "with",
    "would", "your", "want", "good", "getting", "running", "first", "work",
];

/// The search queries for a person's goals: each topic, then the
/// significant words of the goals text.
fn queries(goals: &Goals) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |q: String| {
        let q = q.trim().to_lowercase();
        if !q.is_empty() && !out.contains(&q) && out.len() < MAX_QUERIES {
            out.push(q);
        }
    };
    for t in &goals.topics {
        push(t.clone());
    }
    for word in goals
        .goals
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| w.chars().count() >= 4)
    {
        let w = word.to_lowercase();
        if !STOPWORDS.contains(&w.as_str()) {
            push(w);
        }
    }
    out
}

fn level_weight(level: Level) -> f32 {
    match level {
        Level::Beginner => 0.5,
        Level::Intermediate => 1.0,
        Level::Advanced => 1.5,
        Level::Expert => 2.0,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Beginner => "beginner",
        Level::Intermediate => "intermediate",
        Level::Advanced => "advanced",
        Level::Expert => "expert",
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Talk => "talks",
        Format::Workshop => "workshops",
        Format::Mentoring => "mentoring",
        Format::Cohort => "cohorts",
        Format::CodeReview => "code review",
        Format::Pairing => "pairing",
        Format::Discussion => "discussions",
    }
}

/// Standard-time UTC offsets, in hours, of common time zones. Unknown
/// zones are not filtered on.
fn utc_offset(zone: &str) -> Option<f32> {
    const ZONES: &[(&str, f32)] = &[
        ("UTC", 0.0),
        ("Etc/UTC", 0.0),
        ("Europe/London", 0.0),
        ("Europe/Dublin", 0.0),
        ("Europe/Lisbon", 0.0),
        ("Atlantic/Reykjavik", 0.0),
        ("Africa/Lagos", 1.0),
        ("Europe/Paris", 1.0),
        ("Europe/Berlin", 1.0),
        ("Europe/Madrid", 1.0),
        ("Europe/Rome", 1.0),
        ("Europe/Amsterdam", 1.0),
        ("Europe/Brussels", 1.0),
        ("Europe/Vienna", 1.0),
        ("Europe/Zurich", 1.0),
        ("Europe/Stockholm", 1.0),
        ("Europe/Oslo", 1.0),
        ("Europe/Copenhagen", 1.0),
        ("Europe/Warsaw", 1.0),
        ("Europe/Prague", 1.0),
        ("Europe/Budapest", 1.0),
        ("Europe/Athens", 2.0),
        ("Europe/Helsinki", 2.0),
        ("Europe/Kyiv", 2.0),
        ("Europe/Bucharest", 2.0),
        ("Africa/Cairo", 2.0),
        ("Africa/Johannesburg", 2.0),
        ("Europe/Istanbul", 3.0),
        ("Europe/Moscow", 3.0),
        ("Africa/Nairobi", 3.0),
        ("Asia/Dubai", 4.0),
        ("Asia/Karachi", 5.0),
        ("Asia/Kolkata", 5.5),
        ("Asia/Dhaka", 6.0),
        ("Asia/Bangkok", 7.0),
        ("Asia/Jakarta", 7.0),
        ("Asia/Singapore", 8.0),
        ("Asia/Shanghai", 8.0),
        ("Asia/Hong_Kong", 8.0),
        ("Australia/Perth", 8.0),
        ("Asia/Tokyo", 9.0),
        ("Asia/Seoul", 9.0),
        ("Australia/Sydney", 10.0),
        ("Australia/Melbourne", 10.0),
        ("Pacific/Auckland", 12.0),
        ("America/Sao_Paulo", -3.0),
        ("America/Argentina/Buenos_Aires", -3.0),
        ("America/Halifax", -4.0),
        ("America/New_York", -5.0),
        ("America/Toronto", -5.0),
        ("America/Bogota", -5.0),
        ("America/Chicago", -6.0),
        ("America/Mexico_City", -6.0),
        ("America/Denver", -7.0),
        ("America/Phoenix", -7.0),
        ("America/Los_Angeles", -8.0),
        ("America/Vancouver", -8.0),
        ("America/Anchorage", -9.0),
        ("Pacific/Honolulu", -10.0),
    ];
    ZONES.iter().find(|(z, _)| *z == zone).map(|(_, o)| *o)
}

/// Hours between two zones on a 24-hour clock, if both are known.
fn hours_apart(a: &str, b: &str) -> Option<f32> {
    let d = (utc_offset(a)? - utc_offset(b)?).abs();
    Some(d.min(24.0 - d))
}

/// A deterministic number in [0, 1) for this person, record and week.
fn jitter(person: &str, org: &str, id: &str, week: i64) -> f32 {
    let digest = Sha256::new()
        .chain_update(person.as_bytes())
        .chain_update([0])
        .chain_update(org.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .chain_update(week.to_be_bytes())
        .finalize();
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (f64::from(n) / (f64::from(u32::MAX) + 1.0)) as f32
}

/// What a candidate record tells the scorer.
struct Facts {
    person: String,
    topics: Vec<(String, Option<Level>)>,
    formats: Vec<Format>,
    languages: Vec<String>,
    time_zone: Option<String>,
    /// False when it takes no new requests.
    open: bool,
    limited: bool,
}

fn facts(body: &Body) -> Option<Facts> {
    let names = |t: &[String]| t.iter().map(|n| (n.clone(), None)).collect();
    Some(match body {
        Body::Expertise(e) => {
            let status = e.availability.as_ref().map(|a| a.status);
            Facts {
                person: e.person.clone(),
                topics: e
                    .topics
                    .iter()
                    .map(|t| (t.name.clone(), Some(t.level)))
                    .collect(),
                formats: e.formats.clone(),
                languages: e.languages.clone(),
                time_zone: e.time_zone.clone(),
                open: status != Some(AvailabilityStatus::Full),
                limited: status == Some(AvailabilityStatus::Limited),
            }
        }
        Body::MentoringOffer(m) => Facts {
            person: m.person.clone(),
            topics: names(&m.topics),
            formats: vec![Format::Mentoring],
            languages: m.languages.clone(),
            time_zone: None,
            open: m.status == OfferStatus::Open,
            limited: false,
        },
        Body::TalkOffer(t) => Facts {
            person: t.person.clone(),
            topics: names(&t.session.topics),
            formats: vec![Format::Talk],
            languages: t.session.languages.clone(),
            time_zone: None,
            open: t.status == OfferStatus::Open,
            limited: false,
        },
        Body::CohortOffer(c) => Facts {
            person: c.person.clone(),
            topics: names(&c.topics),
            formats: vec![Format::Cohort],
            languages: c.languages.clone(),
            time_zone: None,
            open: c.status == OfferStatus::Open,
            limited: false,
        },
        _ => return None,
    })
}

/// Scores one candidate; `None` when it must not be suggested.
fn score(
    me: &Person,
    goals: &Goals,
    terms: &[String],
    facts: &Facts,
    issued_at: i64,
    now: i64,
) -> Option<(f32, Vec<String>)> {
    if !facts.open {
        return None;
    }
    let mut reasons = Vec::new();
    let mut score = 0.0;
    for term in terms {
        let topic = facts.topics.iter().find(|(name, _)| {
            name.to_lowercase() == *term || name.to_lowercase().contains(term.as_str())
        });
        match topic {
            Some((name, Some(level))) => {
                score += 3.0 * level_weight(*level);
                reasons.push(format!("Knows {name} ({})", level_name(*level)));
            }
            Some((name, None)) => {
                score += 3.0;
                reasons.push(format!("Covers {name}"));
            }
            None => {
                score += 1.0;
                reasons.push(format!("Mentions “{term}” from your goals"));
            }
        }
    }
    if !goals.languages.is_empty() && !facts.languages.is_empty() {
        let shared: Vec<&String> = facts
            .languages
            .iter()
            .filter(|l| goals.languages.iter().any(|g| g.eq_ignore_ascii_case(l)))
            .collect();
        if shared.is_empty() {
            return None;
        }
        score += 0.5;
        reasons.push(format!(
            "Speaks {}",
            shared
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let (Some(max), Some(mine), Some(theirs)) = (
        goals.max_hours_apart,
        &me.profile.time_zone,
        &facts.time_zone,
    ) && let Some(apart) = hours_apart(mine, theirs)
    {
        if apart > f32::from(max) {
            return None;
        }
        reasons.push(format!("{apart} hours from your time zone"));
    }
    let formats: Vec<&str> = facts
        .formats
        .iter()
        .filter(|f| goals.formats.contains(f))
        .map(|f| format_name(*f))
        .collect();
    if !formats.is_empty() {
        score += 1.5;
        reasons.push(format!("Offers {}, as you prefer", formats.join(" and ")));
    }
    if facts.limited {
        score += 0.3;
        reasons.push("Limited availability".into());
    } else {
        score += 1.0;
        reasons.push("Open to requests".into());
    }
    let age_days = ((now - issued_at).max(0) as f32) / 86_400.0;
    score += 0.5 * (-age_days / 90.0).exp();
    Some((score, reasons))
}

/// Ranks suggestions for `me` from their goals.
pub fn suggest(service: &Service, me: &Person, goals: &Goals, now: i64) -> Result<Vec<Suggestion>> {
    if goals.is_empty() {
        return Ok(Vec::new());
    }
    let own = service.org();
    let mut found: BTreeMap<(String, String), (SearchHit, Vec<String>)> = BTreeMap::new();
    for q in queries(goals) {
        let results = service.search(
            &SearchQuery {
                q: q.clone(),
                ..SearchQuery::default()
            },
            now,
        );
        for hit in results.hits {
            if !crate::catalogue::SUPPLY.contains(&hit.kind) {
                continue;
            }
            let entry = found
                .entry((hit.org.clone(), hit.id.clone()))
                .or_insert_with(|| (hit, Vec::new()));
            entry.1.push(q.clone());
        }
    }
    let week = now.div_euclid(7 * 86_400);
    let mut ranked = Vec::new();
    for ((org_hex, id), (hit, terms)) in found {
        let Ok(org) = org_hex.parse::<OrgKey>() else {
            continue;
        };
        let Some(row) = service
            .store()
            .get_record(&org, &id)?
            .filter(|r| !r.tombstone)
        else {
            continue;
        };
        let record = row.record()?;
        let Some(facts) = facts(&record.body) else {
            continue;
        };
        if org == own && facts.person == me.id {
            continue;
        }
        if let Some((s, reasons)) = score(me, goals, &terms, &facts, record.header.issued_at, now) {
            let s = s + JITTER * jitter(&me.id, &org_hex, &id, week);
            ranked.push(Suggestion {
                hit,
                reasons,
                score: s,
            });
        }
    }
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.hit.org.cmp(&b.hit.org))
            .then_with(|| a.hit.id.cmp(&b.hit.id))
    });
    ranked.truncate(MAX_SUGGESTIONS);
    Ok(ranked)
}

/// Most-wanted topics across this organisation's people, those with no
/// supply in the network first. Topics fewer than `privacy.min_group_size`
/// people want are left out (no row, no count of them).
pub fn demand(service: &Service, now: i64) -> Result<Vec<DemandRow>> {
    let floor = service.min_group_size();
    let mut wanted: HashMap<String, (String, usize)> = HashMap::new();
    for goals in service.store().all_goals()? {
        let mut mine: Vec<String> = Vec::new();
        for topic in &goals.topics {
            let key = topic.trim().to_lowercase();
            if key.is_empty() || mine.contains(&key) {
                continue;
            }
            mine.push(key.clone());
            wanted
                .entry(key)
                .or_insert_with(|| (topic.trim().to_string(), 0))
                .1 += 1;
        }
    }
    let mut rows: Vec<DemandRow> = wanted
        .into_values()
        .filter(|(_, people)| crate::privacy::enough_people(*people, floor))
        .map(|(topic, people)| {
            let supply = service
                .search(
                    &SearchQuery {
                        q: topic.clone(),
                        ..SearchQuery::default()
                    },
                    now,
                )
                .facets
                .iter()
                .filter(|f| f.name == "kind")
                .flat_map(|f| &f.values)
                .filter(|v| {
                    crate::catalogue::SUPPLY
                        .iter()
                        .any(|k| k.as_str() == v.value)
                })
                .map(|v| v.count)
                .sum();
            DemandRow {
                topic,
                people,
                supply,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.supply > 0)
            .cmp(&(b.supply > 0))
            .then(b.people.cmp(&a.people))
            .then(a.topic.cmp(&b.topic))
    });
    rows.truncate(100);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_take_topics_then_significant_words() {
        let goals = Goals {
            goals: "Get better at running on-call for my team, incident reviews".into(),
            topics: vec!["Kubernetes".into(), "kubernetes".into()],
            ..Goals::default()
        };
        assert_eq!(
            queries(&goals),
            ["kubernetes", "on-call", "incident", "reviews"]
        );
    }

    #[test]
    fn time_zones_wrap_around_the_clock() {
        assert_eq!(hours_apart("Europe/Lisbon", "Europe/Berlin"), Some(1.0));
        assert_eq!(
            hours_apart("Pacific/Auckland", "Pacific/Honolulu"),
            Some(2.0)
        );
        assert_eq!(hours_apart("Mars/Olympus", "UTC"), None);
    }

    #[test]
    fn jitter_differs_by_person_and_week_but_is_stable() {
        let a = jitter("aisha", "o", "x", 100);
        assert_eq!(a, jitter("aisha", "o", "x", 100));
        assert!((0.0..1.0).contains(&a));
        assert_ne!(a, jitter("zoe", "o", "x", 100));
        assert_ne!(a, jitter("aisha", "o", "x", 101));
    }
}
