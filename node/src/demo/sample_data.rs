//! Believable sample organisations, people, offers and content for the demo.

use skillmesh_protocol::kinds::*;
use skillmesh_protocol::{Body, OrgKey};

/// One sample person: id, name, headline, topics, languages, time zone,
/// formats, hours a month, and whether they opted in to share a listing.
pub struct SamplePerson {
    pub id: &'static str,
    pub name: &'static str,
    pub headline: &'static str,
    pub topics: &'static [(&'static str, Level)],
    pub languages: &'static [&'static str],
    pub time_zone: &'static str,
    pub formats: &'static [Format],
    pub hours_per_month: u16,
    pub shares: bool,
}

pub struct SampleOrg {
    pub name: &'static str,
    pub slug: &'static str,
    pub domain: &'static str,
    pub summary: &'static str,
    pub people: &'static [SamplePerson],
}

use Format::*;
use Level::*;

pub const ORGS: &[SampleOrg] = &[
    SampleOrg {
        name: "Northwind",
        slug: "northwind",
        domain: "northwind.example",
        summary: "Logistics software; 1,200 people in Lisbon, Leeds and Kraków.",
        people: &[
            SamplePerson {
                id: "tomas",
                name: "Tomás Ferreira",
                headline: "Staff engineer, runs Kubernetes in production",
                topics: &[
                    ("Kubernetes", Expert),
                    ("Incident response", Advanced),
                    ("On-call", Advanced),
                ],
                languages: &["en", "pt"],
                time_zone: "Europe/Lisbon",
                formats: &[Talk, Mentoring, CodeReview],
                hours_per_month: 2,
                shares: true,
            },
            SamplePerson {
                id: "priya",
                name: "Priya Raman",
                headline: "Head of learning and development",
                topics: &[("Learning design", Expert), ("Facilitation", Advanced)],
                languages: &["en"],
                time_zone: "Europe/London",
                formats: &[Workshop, Cohort],
                hours_per_month: 4,
                shares: true,
            },
            SamplePerson {
                id: "marek",
                name: "Marek Nowak",
                headline: "Data engineer, streaming pipelines",
                topics: &[("Apache Kafka", Expert), ("Data modelling", Advanced)],
                languages: &["en", "pl"],
                time_zone: "Europe/Warsaw",
                formats: &[Talk, Pairing],
                hours_per_month: 3,
                shares: true,
            },
            SamplePerson {
                id: "joana",
                name: "Joana Silva",
                headline: "Product designer",
                topics: &[("User research", Advanced)],
                languages: &["pt", "en"],
                time_zone: "Europe/Lisbon",
                formats: &[Mentoring],
                hours_per_month: 1,
                shares: false,
            },
        ],
    },
    SampleOrg {
        name: "Contoso",
        slug: "contoso",
        domain: "contoso.example",
        summary: "Retail bank; 4,000 people, platform teams in Dublin and Toronto.",
        people: &[
            SamplePerson {
                id: "aisha",
                name: "Aisha Bello",
                headline: "Team lead, payments platform",
                topics: &[("Go", Advanced), ("Team leadership", Intermediate)],
                languages: &["en", "fr"],
                time_zone: "Europe/Dublin",
                formats: &[CodeReview],
                hours_per_month: 1,
                shares: true,
            },
            SamplePerson {
                id: "amara",
                name: "Amara Okafor",
                headline: "Head of leadership development",
                topics: &[
                    ("Management", Expert),
                    ("Feedback", Expert),
                    ("Performance reviews", Advanced),
                ],
                languages: &["en"],
                time_zone: "Europe/Dublin",
                formats: &[Cohort, Workshop, Talk],
                hours_per_month: 6,
                shares: true,
            },
            SamplePerson {
                id: "daniel",
                name: "Daniel Tremblay",
                headline: "Security architect",
                topics: &[("Threat modelling", Expert), ("Zero trust", Advanced)],
                languages: &["en", "fr"],
                time_zone: "America/Toronto",
                formats: &[Talk, Mentoring],
                hours_per_month: 2,
                shares: true,
            },
        ],
    },
    SampleOrg {
        name: "Fabrikam",
        slug: "fabrikam",
        domain: "fabrikam.example",
        summary: "Industrial manufacturing; 9,000 people, digital factory team in Munich.",
        people: &[
            SamplePerson {
                id: "lena",
                name: "Lena Hoffmann",
                headline: "Machine learning lead, predictive maintenance",
                topics: &[
                    ("Machine learning", Expert),
                    ("Python", Expert),
                    ("MLOps", Advanced),
                ],
                languages: &["de", "en"],
                time_zone: "Europe/Berlin",
                formats: &[Talk, Mentoring, Cohort],
                hours_per_month: 3,
                shares: true,
            },
            SamplePerson {
                id: "kenji",
                name: "Kenji Sato",
                headline: "Lean manufacturing coach",
                topics: &[("Lean", Expert), ("Continuous improvement", Expert)],
                languages: &["en", "ja"],
                time_zone: "Europe/Berlin",
                formats: &[Workshop, Talk],
                hours_per_month: 2,
                shares: true,
            },
            SamplePerson {
                id: "sofia",
                name: "Sofia García",
                headline: "Engineering manager, first-time managers programme",
                topics: &[("Management", Advanced), ("Hiring", Advanced)],
                languages: &["es", "en"],
                time_zone: "Europe/Madrid",
                formats: &[Mentoring, Discussion],
                hours_per_month: 2,
                shares: true,
            },
        ],
    },
    SampleOrg {
        name: "Tailspin",
        slug: "tailspin",
        domain: "tailspin.example",
        summary: "Airline software; 600 people, fully remote.",
        people: &[
            SamplePerson {
                id: "noah",
                name: "Noah Williams",
                headline: "Principal engineer, distributed systems",
                topics: &[("Rust", Expert), ("Distributed systems", Expert)],
                languages: &["en"],
                time_zone: "America/New_York",
                formats: &[Talk, Pairing, CodeReview],
                hours_per_month: 2,
                shares: true,
            },
            SamplePerson {
                id: "mei",
                name: "Mei Chen",
                headline: "Accessibility specialist",
                topics: &[("Accessibility", Expert), ("Frontend", Advanced)],
                languages: &["en", "zh"],
                time_zone: "America/Vancouver",
                formats: &[Workshop, Mentoring],
                hours_per_month: 2,
                shares: true,
            },
        ],
    },
    SampleOrg {
        name: "Woodgrove",
        slug: "woodgrove",
        domain: "woodgrove.example",
        summary: "Insurance; 2,500 people, analytics hub in Amsterdam.",
        people: &[
            SamplePerson {
                id: "ruben",
                name: "Ruben de Vries",
                headline: "Analytics engineer",
                topics: &[("SQL", Expert), ("dbt", Advanced)],
                languages: &["nl", "en"],
                time_zone: "Europe/Amsterdam",
                formats: &[Talk, Mentoring],
                hours_per_month: 2,
                shares: true,
            },
            SamplePerson {
                id: "hannah",
                name: "Hannah Schmidt",
                headline: "Agile coach",
                topics: &[("Scrum", Expert), ("Facilitation", Advanced)],
                languages: &["de", "en"],
                time_zone: "Europe/Amsterdam",
                formats: &[Workshop, Cohort],
                hours_per_month: 3,
                shares: true,
            },
        ],
    },
];

/// The sample organisation for demo slot `i` (wrapping, with a number
/// appended after the first round so names stay unique).
pub fn org(i: usize) -> (String, String, &'static SampleOrg) {
    let base = &ORGS[i % ORGS.len()];
    let round = i / ORGS.len();
    if round == 0 {
        (base.name.to_string(), base.slug.to_string(), base)
    } else {
        (
            format!("{} {}", base.name, round + 1),
            format!("{}-{}", base.slug, round + 1),
            base,
        )
    }
}

/// Which of a sample organisation's people is its admin.
pub const ADMIN_INDEX: usize = 1;

/// The sample organisation's offers and content, mostly its first
/// person's; its admin runs its events (inviting `partners` to add
/// sessions) and asks for talks.
pub fn items(
    org: &SampleOrg,
    now: i64,
    partners: &[OrgKey],
) -> Vec<(String, Option<&'static str>, Body)> {
    let lead = &org.people[0];
    let topic = lead.topics[0].0;
    let week = 7 * 86_400;
    // The two topics the mentor knows best: what a mentee searches for
    // together (`kubernetes incident`).
    let mentoring_topics: Vec<String> = lead
        .topics
        .iter()
        .take(2)
        .map(|(t, _)| t.to_string())
        .collect();
    let mut out = vec![
        (
            format!("talk-{}", lead.id),
            Some(lead.id),
            Body::TalkOffer(TalkOffer {
                person: lead.id.into(),
                speaker_name: Some(lead.name.into()),
                title: format!("{topic}: lessons from production"),
                summary: format!(
                    "What {} learned running {topic} at {}, and what they would do differently.",
                    lead.name, org.name
                ),
                session: TalkSession {
                    topics: lead.topics.iter().map(|(t, _)| t.to_string()).collect(),
                    format: SessionFormat::Talk,
                    audience: Audience::Everyone,
                    duration_minutes: 45,
                    languages: lead.languages.iter().map(|l| l.to_string()).collect(),
                    delivery: Delivery::Remote,
                },
                status: OfferStatus::Open,
            }),
        ),
        (
            format!("mentoring-{}", lead.id),
            Some(lead.id),
            Body::MentoringOffer(MentoringOffer {
                person: lead.id.into(),
                mentor_name: Some(lead.name.into()),
                title: format!("Mentoring: {topic} in practice"),
                description:
                    "Four sessions of 45 minutes, fortnightly, built around a problem you bring."
                        .into(),
                topics: mentoring_topics,
                languages: lead.languages.iter().map(|l| l.to_string()).collect(),
                capacity: 2,
                sessions: 4,
                session_minutes: 45,
                cadence: Cadence::Fortnightly,
                slots: vec![],
                delivery: Delivery::Remote,
                status: OfferStatus::Open,
            }),
        ),
        (
            format!("content-{}", lead.id),
            Some(lead.id),
            Body::Content(ContentItem {
                content_type: ContentType::Article,
                title: format!("Where to start with {topic}"),
                url: Some(format!("https://{}/learning/{}", org.domain, lead.id)),
                why: format!("{}'s pick of the one article to read first.", lead.name),
                topics: vec![topic.into()],
                level: Some(Level::Beginner),
                minutes: Some(20),
                curator_name: Some(lead.name.into()),
                items: vec![],
            }),
        ),
    ];
    let admin = &org.people[ADMIN_INDEX];
    if org.slug == "fabrikam" {
        out.push((
            "learning-week".into(),
            Some(admin.id),
            learning_week(now, partners),
        ));
    }
    if org.slug == "northwind" {
        out.push((
            format!("path-{}", lead.id),
            Some(lead.id),
            Body::Content(ContentItem {
                content_type: ContentType::List,
                title: format!("{topic} on-call: where to start"),
                url: None,
                why: format!(
                    "What {} wishes they had read before their first rota.",
                    lead.name
                ),
                topics: vec![topic.into(), "On-call".into()],
                level: Some(Level::Beginner),
                minutes: Some(180),
                curator_name: Some(lead.name.into()),
                items: vec![
                    ListEntry {
                        title: "Google SRE book: being on-call".into(),
                        url: "https://sre.google/sre-book/being-on-call/".into(),
                        note: "Read this first.".into(),
                    },
                    ListEntry {
                        title: "Our incident review template".into(),
                        url: format!("https://{}/learning/incident-review", org.domain),
                        note: String::new(),
                    },
                    ListEntry {
                        title: "Kubernetes failure stories".into(),
                        url: "https://k8s.af/".into(),
                        note: "Pick two and ask: could it happen to us?".into(),
                    },
                ],
            }),
        ));
        out.push((
            "call-incident-reviews".into(),
            Some(admin.id),
            Body::TalkWanted(TalkWanted {
                person: admin.id.into(),
                asker_name: Some(admin.name.into()),
                title: "Wanted: how do you run blameless incident reviews?".into(),
                description: "Our team leads want to hear, from another organisation, how reviews after an incident stay about the system and not the person.".into(),
                session: TalkSession {
                    topics: vec!["Incident response".into(), "Management".into()],
                    format: SessionFormat::Talk,
                    audience: Audience::PeopleManagers,
                    duration_minutes: 45,
                    languages: vec!["en".into()],
                    delivery: Delivery::Remote,
                },
                status: OfferStatus::Open,
            }),
        ));
    }
    if let Some(coach) = org
        .people
        .iter()
        .find(|p| p.formats.contains(&Format::Cohort))
    {
        let ctopic = coach.topics[0].0;
        out.push((
            format!("cohort-{}", coach.id),
            Some(coach.id),
            Body::CohortOffer(CohortOffer {
                person: coach.id.into(),
                owner_name: Some(coach.name.into()),
                title: format!("{ctopic} cohort: six weeks on a real problem"),
                goal: format!("Each member applies {ctopic} to a live problem in their own team and reports back."),
                topics: vec![ctopic.into()],
                seats_total: 12,
                seats_per_org: 4,
                weeks: 6,
                weekly_hours: 2,
                starts_at: now + 2 * week,
                schedule: (0..6).map(|w| Slot { starts_at: now + (2 + w) * week, duration_minutes: 120 }).collect(),
                languages: vec!["en".into()],
                delivery: Delivery::Remote,
                status: OfferStatus::Open,
            }),
        ));
    }
    out
}

/// Content the sample organisation keeps inside: its people find it on
/// their own node (marked so), and nothing of it is signed or shared.
pub fn kept_inside(org: &SampleOrg) -> Vec<(String, Option<&'static str>, Body)> {
    let lead = &org.people[0];
    vec![(
        format!("runbook-{}", lead.id),
        Some(lead.id),
        Body::Content(ContentItem {
            content_type: ContentType::Article,
            title: format!("{}'s on-call runbook", org.name),
            url: Some(format!("https://{}/wiki/on-call-runbook", org.domain)),
            why: "How we page, hand over and review here; for our own people only.".into(),
            topics: vec!["On-call".into()],
            level: Some(Level::Beginner),
            minutes: Some(15),
            curator_name: Some(lead.name.into()),
            items: vec![],
        }),
    )]
}

/// Fabrikam's learning week, four weeks out, Monday 09:00 UTC onwards,
/// open to sessions from `partners`.
fn learning_week(now: i64, partners: &[OrgKey]) -> Body {
    let start = now - now.rem_euclid(86_400) + 28 * 86_400 + 9 * 3600;
    let session =
        |day: i64, id: &str, title: &str, speaker: &str, format, audience, topic: &str| {
            EventSession {
                id: id.into(),
                title: title.into(),
                speaker_name: Some(speaker.into()),
                contributor: None,
                starts_at: start + day * 86_400,
                duration_minutes: 60,
                format,
                audience,
                topics: vec![topic.into()],
            }
        };
    Body::Event(Event {
        title: "Learning Week".into(),
        description: "Five days of talks, workshops and leaders teaching leaders, open to every partner organisation.".into(),
        starts_at: start,
        ends_at: start + 4 * 86_400 + 8 * 3600,
        sessions: vec![
            session(0, "ml-basics", "Machine learning for maintenance engineers", "Lena Hoffmann", SessionFormat::Talk, Audience::Everyone, "Machine learning"),
            session(1, "lean-floor", "Lean on the shop floor", "Kenji Sato", SessionFormat::Workshop, Audience::Everyone, "Lean"),
            session(2, "first-reviews", "Your first performance reviews", "Sofia García", SessionFormat::Discussion, Audience::PeopleManagers, "Management"),
        ],
        languages: vec!["en".into()],
        contributors: partners.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_item_is_a_valid_record_body() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let org = skillmesh_protocol::OrgKey::from(&key.verifying_key());
        let now = 1_800_000_000;
        let mut kinds = std::collections::BTreeSet::new();
        for sample in ORGS {
            for (id, _, body) in items(sample, now, &[org])
                .into_iter()
                .chain(kept_inside(sample))
            {
                kinds.insert(body.kind());
                let record = skillmesh_protocol::Record {
                    header: skillmesh_protocol::Header {
                        version: skillmesh_protocol::RECORD_VERSION,
                        org,
                        id: id.clone(),
                        seq: 1,
                        issued_at: now,
                        expires_at: now + 86_400,
                    },
                    body,
                };
                if let Err(e) = skillmesh_protocol::validate_record(&record) {
                    panic!("{} {id}: {e}", sample.name);
                }
            }
        }
        assert_eq!(
            kinds.len(),
            6,
            "talk, mentoring, content, cohort, event and call for a talk: {kinds:?}"
        );
    }
}
