//! Synthetic partner organisations and their records, to try a node at
//! size and to measure it: `skillmesh sample-data` stores them as if
//! received. Deterministic for a seed, so two runs (or two machines) hold
//! the same data; pure, like the rest of this crate (the caller passes
//! `now`).
//!
//! The text is made to behave like real listings under search: topics
//! are drawn with a skewed (Zipf-like) popularity, so a few are in many
//! records and most in few; titles, summaries, names, languages and time
//! zones vary; every kind a partner publishes appears, in proportions
//! like the demo's (mostly expertise listings, then offers and content).
//!
//! The keys are derived from the seed and are sample keys only: anyone
//! with the seed can sign as these organisations, which is the point.

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use crate::keys::OrgKey;
use crate::kinds::*;
use crate::record::{Body, Header, Kind, RECORD_VERSION, Record};

/// How long a synthetic record is valid: 90 days from `now`.
pub const LIFETIME_SECS: i64 = 90 * 24 * 3600;

/// Topics people list, most popular first (popularity falls with rank).
const TOPICS: [&str; 96] = [
    "Leadership",
    "Kubernetes",
    "Incident response",
    "Product discovery",
    "Feedback",
    "Python",
    "Data analysis",
    "Security",
    "Hiring",
    "Negotiation",
    "Machine learning",
    "Rust",
    "Observability",
    "Accessibility",
    "Onboarding",
    "Pricing",
    "PostgreSQL",
    "Public speaking",
    "Coaching",
    "Design systems",
    "Roadmaps",
    "Testing",
    "Budgets",
    "Compliance",
    "Writing",
    "Strategy",
    "Caching",
    "Interviews",
    "Sales engineering",
    "Customer research",
    "JavaScript",
    "TypeScript",
    "Go",
    "Java",
    "Terraform",
    "Cloud costs",
    "On-call",
    "Architecture",
    "Mentoring",
    "Facilitation",
    "Change management",
    "Supply chain",
    "Forecasting",
    "Statistics",
    "SQL",
    "Data engineering",
    "Privacy",
    "Threat modelling",
    "Networking",
    "Linux",
    "Performance",
    "Mobile apps",
    "User research",
    "Service design",
    "Content design",
    "Brand",
    "Marketing analytics",
    "Partnerships",
    "Procurement",
    "Contracts",
    "Finance for engineers",
    "Team health",
    "Remote work",
    "Conflict",
    "Difficult conversations",
    "Delegation",
    "Time management",
    "OKRs",
    "Agile coaching",
    "Kanban",
    "Release management",
    "Continuous delivery",
    "Code review",
    "Pair programming",
    "Refactoring",
    "Domain-driven design",
    "Event sourcing",
    "Distributed systems",
    "Databases",
    "Search",
    "Recommendation systems",
    "Computer vision",
    "Natural language processing",
    "Embedded systems",
    "Robotics",
    "Energy markets",
    "Logistics",
    "Healthcare IT",
    "Accounting",
    "Tax",
    "Legal operations",
    "Sustainability",
    "Diversity and inclusion",
    "Wellbeing",
    "Career growth",
    "Storytelling",
];

const FIRST_NAMES: [&str; 40] = [
    "Ana", "Tomás", "Priya", "Lena", "Marco", "Chen", "Amara", "Sam", "Aisha", "Jonas", "Sofia",
    "Mateo", "Yuki", "Olga", "Kwame", "Ingrid", "Ravi", "Fatima", "Lucas", "Emma", "Noah", "Zara",
    "Hugo", "Mei", "Omar", "Elif", "Pedro", "Nina", "Felix", "Leila", "Diego", "Hana", "Ivan",
    "Chloé", "Arjun", "Maya", "Kofi", "Sara", "Erik", "Lucía",
];

const SURNAMES: [&str; 40] = [
    "Silva", "Ferreira", "Raman", "Vogel", "Rossi", "Wei", "Okafor", "Turner", "Bello", "Berg",
    "Costa", "García", "Tanaka", "Ivanova", "Mensah", "Larsen", "Iyer", "Haddad", "Martin",
    "Dubois", "Schmidt", "Khan", "Lefèvre", "Zhang", "Nasser", "Yilmaz", "Santos", "Novak",
    "Weber", "Farah", "López", "Sato", "Petrov", "Moreau", "Mehta", "Cohen", "Asante", "Lind",
    "Nilsson", "Romero",
];

const ORG_WORDS: [&str; 24] = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Blue Harbor",
    "Tailspin",
    "Litware",
    "Proseware",
    "Adatum",
    "Woodgrove",
    "Alpine",
    "Coho",
    "Lucerne",
    "Margie's",
    "Trey",
    "Wingtip",
    "Humongous",
    "Fourth Coffee",
    "Graphic Design",
    "Southridge",
    "Consolidated",
    "Relecloud",
    "VanArsdel",
    "Wide World",
    "Tasmanian",
];

const ORG_TRADES: [&str; 12] = [
    "Logistics",
    "Health",
    "Energy",
    "Software",
    "Bank",
    "Insurance",
    "Retail",
    "Manufacturing",
    "Media",
    "Travel",
    "Telecom",
    "Foods",
];

/// Languages, the first far more common than the rest.
const LANGUAGES: [&str; 10] = ["en", "de", "fr", "es", "pt", "nl", "it", "pl", "sv", "ja"];

const TIME_ZONES: [&str; 10] = [
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Stockholm",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Tokyo",
];

const ROLES: [&str; 12] = [
    "Staff engineer",
    "Engineering manager",
    "Product manager",
    "Data scientist",
    "Designer",
    "Head of people",
    "Security lead",
    "Finance partner",
    "Site reliability engineer",
    "Researcher",
    "Sales director",
    "Operations lead",
];

const TITLES: [&str; 10] = [
    "{a} in practice",
    "What we learned about {a}",
    "{a} without the jargon",
    "{a} and {b}: a field guide",
    "Getting started with {a}",
    "{a} at scale",
    "Common mistakes in {a}",
    "{a} for {b} teams",
    "A year of {a}",
    "From zero to {a}",
];

const SENTENCES: [&str; 12] = [
    "How our team approaches {a}, with the real examples that changed our minds.",
    "Bring a problem from your own work on {a}; we will look at it together.",
    "The three habits that made {a} easier for us, and one that did not work.",
    "For people who already know {b} and want to get better at {a}.",
    "We moved to {a} last year: what it cost, what it saved and what we would redo.",
    "Short exercises on {a}, in pairs, then a discussion of what you found.",
    "A practical look at {a}, its trade-offs with {b}, and when to choose either.",
    "Stories from running {a} in production, and the checklist we use now.",
    "What a beginner needs to know about {a} in the first month.",
    "Questions welcome: this is a conversation about {a} more than a lecture.",
    "Based on mistakes we made with {a} so you do not have to make them.",
    "How {a} and {b} fit together in a team of ten.",
];

/// A small deterministic random source (SplitMix64): enough to vary text,
/// not for anything secret.
struct Draw(u64);

impl Draw {
    fn new(seed: u64, salt: u64) -> Draw {
        Draw(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// An index in `0..n` where rank `r` comes up about 1/(r+1) as often
    /// as rank 0 (a Zipf-like skew): the product of two uniform draws.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let v = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * v * n as f64) as usize).min(n - 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A network of `orgs` synthetic organisations, from `seed`.
#[derive(Clone, Debug)]
pub struct SyntheticNetwork {
    seed: u64,
    orgs: u32,
}

impl SyntheticNetwork {
    /// `orgs` is at least 1.
    pub fn new(seed: u64, orgs: u32) -> SyntheticNetwork {
        SyntheticNetwork {
            seed,
            orgs: orgs.max(1),
        }
    }

    pub fn orgs(&self) -> u32 {
        self.orgs
    }

    /// The signing key of organisation `n` (of `0..orgs`).
    pub fn key(&self, n: u32) -> SigningKey {
        let digest = Sha256::new()
            .chain_update(b"skillmesh synthetic organisation\0")
            .chain_update(self.seed.to_be_bytes())
            .chain_update(n.to_be_bytes())
            .finalize();
        SigningKey::from_bytes(&digest.into())
    }

    /// Record `i` of the network (records go round the organisations, so
    /// record `i` is organisation `i % orgs`'s): the first record of each
    /// organisation is its card; the rest are drawn from the published
    /// kinds. Issued at the start of `now`'s day (UTC), valid for
    /// [`LIFETIME_SECS`]: loading the same seed twice in a day gives the
    /// very same records, which a node then already holds.
    pub fn record(&self, i: u64, now: i64) -> (u32, Record) {
        let day = now - now.rem_euclid(86_400);
        let org_n = (i % u64::from(self.orgs)) as u32;
        let key = self.key(org_n);
        let org = OrgKey::from(&key.verifying_key());
        let mut draw = Draw::new(self.seed, i);
        let (kind, body) = if i < u64::from(self.orgs) {
            (Kind::OrgCard, self.org_card(org_n, &mut draw))
        } else {
            let kind = pick_kind(&mut draw);
            (kind, body(kind, org_n, i, day, &mut draw))
        };
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org,
                id: format!("{}-{i}", kind.as_str().replace('_', "-")),
                seq: 1,
                issued_at: day,
                expires_at: day + LIFETIME_SECS,
            },
            body,
        };
        (org_n, record)
    }

    /// The name of organisation `n`.
    pub fn org_name(&self, n: u32) -> String {
        let mut draw = Draw::new(self.seed, u64::from(n) ^ 0x0a5c_0000_0000);
        let word = ORG_WORDS[n as usize % ORG_WORDS.len()];
        let trade = draw.pick(&ORG_TRADES);
        match n as usize / ORG_WORDS.len() {
            0 => format!("{word} {trade}"),
            k => format!("{word} {trade} {k}"),
        }
    }

    fn org_card(&self, n: u32, draw: &mut Draw) -> Body {
        let name = self.org_name(n);
        let people = 50 + draw.below(20_000);
        Body::OrgCard(OrgCard {
            summary: format!(
                "{} people; strong in {} and {}.",
                people,
                TOPICS[draw.skewed(TOPICS.len())],
                TOPICS[draw.skewed(TOPICS.len())]
            ),
            website: Some(format!("https://org-{n}.example")),
            languages: languages(draw),
            name,
        })
    }
}

/// The kind of a record after an organisation's card: mostly expertise
/// listings, then offers and content, a few calls for talks.
fn pick_kind(draw: &mut Draw) -> Kind {
    match draw.below(100) {
        0..40 => Kind::Expertise,
        40..55 => Kind::TalkOffer,
        55..70 => Kind::MentoringOffer,
        70..75 => Kind::CohortOffer,
        75..95 => Kind::Content,
        _ => Kind::TalkWanted,
    }
}

/// Two distinct topics: the record's main one, drawn by popularity, and
/// another drawn evenly.
fn two_topics(draw: &mut Draw) -> (&'static str, &'static str) {
    let n = TOPICS.len();
    let a = draw.skewed(n);
    let b = (a + 1 + draw.below(n - 1)) % n;
    (TOPICS[a], TOPICS[b])
}

fn fill(template: &str, a: &str, b: &str) -> String {
    template.replace("{a}", a).replace("{b}", &b.to_lowercase())
}

fn languages(draw: &mut Draw) -> Vec<String> {
    let first = if draw.chance(60) {
        "en"
    } else {
        draw.pick(&LANGUAGES)
    };
    let mut out = vec![first.to_string()];
    if draw.chance(30) {
        let second = draw.pick(&LANGUAGES);
        if second != first {
            out.push(second.to_string());
        }
    }
    out
}

fn body(kind: Kind, org_n: u32, i: u64, now: i64, draw: &mut Draw) -> Body {
    let (a, b) = two_topics(draw);
    let title = fill(draw.pick(&TITLES), a, b);
    let text = format!(
        "{} {}",
        fill(draw.pick(&SENTENCES), a, b),
        fill(draw.pick(&SENTENCES), b, a)
    );
    let name = format!("{} {}", draw.pick(&FIRST_NAMES), draw.pick(&SURNAMES));
    let person = format!("p-{org_n}-{}", i % 997);
    let topics = vec![a.to_string(), b.to_string()];
    let langs = languages(draw);
    let delivery = [Delivery::Remote, Delivery::InPerson, Delivery::Hybrid][draw.below(3)];
    let week = 7 * 86_400;
    match kind {
        Kind::Expertise => Body::Expertise(Expertise {
            person,
            display_name: Some(name),
            headline: Some(format!("{}, {}", draw.pick(&ROLES), a.to_lowercase())),
            topics: [a, b]
                .iter()
                .map(|t| Topic {
                    name: t.to_string(),
                    level: [Level::Intermediate, Level::Advanced, Level::Expert][draw.below(3)],
                })
                .collect(),
            languages: langs,
            time_zone: Some(draw.pick(&TIME_ZONES).to_string()),
            formats: [
                Format::Talk,
                Format::Mentoring,
                Format::CodeReview,
                Format::Workshop,
            ][..1 + draw.below(4)]
                .to_vec(),
            availability: Some(Availability {
                status: [
                    AvailabilityStatus::Open,
                    AvailabilityStatus::Limited,
                    AvailabilityStatus::Full,
                ][draw.below(3)],
                hours_per_month: Some(1 + draw.below(8) as u16),
                note: None,
            }),
            email: None,
            recognition: None,
            takes_questions: false,
        }),
        Kind::TalkOffer | Kind::TalkWanted => {
            let session = TalkSession {
                topics,
                format: [
                    SessionFormat::Talk,
                    SessionFormat::Workshop,
                    SessionFormat::Discussion,
                ][draw.below(3)],
                audience: [
                    Audience::Everyone,
                    Audience::SeniorLeaders,
                    Audience::PeopleManagers,
                ][draw.below(3)],
                duration_minutes: [30, 45, 60, 90][draw.below(4)],
                languages: langs,
                delivery,
            };
            if kind == Kind::TalkOffer {
                Body::TalkOffer(TalkOffer {
                    person,
                    speaker_name: Some(name),
                    title,
                    summary: text,
                    session,
                    status: OfferStatus::Open,
                })
            } else {
                Body::TalkWanted(TalkWanted {
                    person,
                    asker_name: Some(name),
                    title: format!("Wanted: {}", title.to_lowercase()),
                    description: text,
                    session,
                    status: OfferStatus::Open,
                })
            }
        }
        Kind::MentoringOffer => Body::MentoringOffer(MentoringOffer {
            person,
            mentor_name: Some(name),
            title: format!("Mentoring: {}", title.to_lowercase()),
            description: text,
            topics,
            languages: langs,
            capacity: 1 + draw.below(3) as u8,
            sessions: 3 + draw.below(6) as u8,
            session_minutes: [30, 45, 60][draw.below(3)],
            cadence: [Cadence::Weekly, Cadence::Fortnightly, Cadence::Monthly][draw.below(3)],
            slots: Vec::new(),
            delivery,
            status: OfferStatus::Open,
        }),
        Kind::CohortOffer => {
            let starts_at = now + (2 + draw.below(8) as i64) * week;
            Body::CohortOffer(CohortOffer {
                person,
                owner_name: Some(name),
                title: format!("Cohort: {}", title.to_lowercase()),
                goal: text,
                topics,
                seats_total: 8 + draw.below(8) as u8,
                seats_per_org: 2 + draw.below(3) as u8,
                weeks: 4 + draw.below(9) as u8,
                weekly_hours: 1 + draw.below(3) as u8,
                starts_at,
                schedule: vec![Slot {
                    starts_at,
                    duration_minutes: 90,
                }],
                languages: langs,
                delivery,
                status: OfferStatus::Open,
            })
        }
        _ => Body::Content(ContentItem {
            content_type: [ContentType::Article, ContentType::Video, ContentType::Book]
                [draw.below(3)],
            title,
            url: Some(format!("https://org-{org_n}.example/learning/{i}")),
            why: text,
            topics,
            level: Some([Level::Beginner, Level::Intermediate, Level::Advanced][draw.below(3)]),
            minutes: Some(5 + draw.below(120) as u32),
            curator_name: Some(name),
            items: vec![],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{open, seal};
    use std::collections::{HashMap, HashSet};

    /// 2027-01-15T08:00:00Z.
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn every_record_is_valid_signed_by_its_organisation_and_the_same_for_a_seed() {
        let net = SyntheticNetwork::new(7, 20);
        let mut kinds = HashMap::new();
        let mut titles = HashSet::new();
        for i in 0..2_000 {
            let (org_n, record) = net.record(i, NOW);
            let key = net.key(org_n);
            assert_eq!(record.header.org, OrgKey::from(&key.verifying_key()));
            let envelope = seal(&record, &key).expect("seals");
            assert_eq!(open(envelope.as_bytes(), NOW).expect("valid"), record);
            *kinds.entry(record.body.kind()).or_insert(0) += 1;
            titles.insert(record.body.title());
            assert_eq!(net.record(i, NOW + 3_600).1, record, "the same all day");
        }
        assert_eq!(kinds[&Kind::OrgCard], 20);
        for kind in [
            Kind::Expertise,
            Kind::TalkOffer,
            Kind::MentoringOffer,
            Kind::CohortOffer,
            Kind::Content,
            Kind::TalkWanted,
        ] {
            assert!(
                kinds.get(&kind).copied().unwrap_or(0) > 20,
                "{kind}: {kinds:?}"
            );
        }
        assert!(titles.len() > 1_000, "{} distinct titles", titles.len());
        assert_ne!(
            SyntheticNetwork::new(8, 20).record(30, NOW).1,
            net.record(30, NOW).1,
            "another seed, other data"
        );
    }

    #[test]
    fn topic_popularity_is_skewed() {
        let net = SyntheticNetwork::new(1, 10);
        let mut counts: HashMap<String, usize> = HashMap::new();
        for i in 10..5_000 {
            if let Body::MentoringOffer(m) = net.record(i, NOW).1.body {
                *counts.entry(m.topics[0].clone()).or_default() += 1;
            }
        }
        let top = counts.get(TOPICS[0]).copied().unwrap_or(0);
        let tail = counts.get(TOPICS[90]).copied().unwrap_or(0);
        assert!(top > 5 * tail.max(1), "top {top}, tail {tail}");
    }
}
