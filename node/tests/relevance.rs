//! Search relevance over a fixed corpus: experts and offers from four
//! organisations, taken in through `Service::ingest_many` like any
//! federated records, then searched once the index has caught up. For each
//! query the experts a person would expect are in the top 3 (misspellings,
//! synonyms, phrases and prefixes included); retracted records and a
//! blocked organisation's records never appear; facet counts match what the
//! store holds.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::search::{SearchQuery, SearchResults};
use skillmesh_node::service::{InboundSettings, Ingested, Service};
use skillmesh_node::store::Store;
use skillmesh_protocol::kinds::{
    Availability, AvailabilityStatus, Expertise, Format, Level, OrgCard, Topic,
};
use skillmesh_protocol::{Body, Header, Kind, OrgKey, RECORD_VERSION, Record, samples, seal};

const WAIT: Duration = Duration::from_secs(30);

struct Org {
    key: SigningKey,
    name: &'static str,
}

impl Org {
    fn new(n: u8, name: &'static str) -> Org {
        Org {
            key: SigningKey::from_bytes(&[n; 32]),
            name,
        }
    }

    fn key(&self) -> OrgKey {
        OrgKey::from(&self.key.verifying_key())
    }
}

fn expert(
    name: &str,
    headline: &str,
    topics: &[(&str, Level)],
    status: AvailabilityStatus,
) -> Body {
    Body::Expertise(Expertise {
        person: name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase(),
        display_name: Some(name.into()),
        headline: Some(headline.into()),
        topics: topics
            .iter()
            .map(|(t, level)| Topic {
                name: t.to_string(),
                level: *level,
            })
            .collect(),
        languages: vec!["en".into()],
        time_zone: Some("Europe/Lisbon".into()),
        formats: vec![Format::Mentoring],
        availability: Some(Availability {
            status,
            hours_per_month: None,
            note: None,
        }),
        email: None,
        recognition: None,
        takes_questions: false,
    })
}

fn talk(title: &str, summary: &str, topics: &[&str]) -> Body {
    let mut body = samples::body(Kind::TalkOffer);
    if let Body::TalkOffer(t) = &mut body {
        t.title = title.into();
        t.summary = summary.into();
        t.speaker_name = None;
        t.session.topics = topics.iter().map(|t| t.to_string()).collect();
    }
    body
}

fn mentoring(title: &str, topics: &[&str]) -> Body {
    let mut body = samples::body(Kind::MentoringOffer);
    if let Body::MentoringOffer(m) = &mut body {
        m.title = title.into();
        m.description = "Four sessions, one a fortnight.".into();
        m.mentor_name = None;
        m.topics = topics.iter().map(|t| t.to_string()).collect();
    }
    body
}

fn content(title: &str, why: &str, topics: &[&str]) -> Body {
    let mut body = samples::body(Kind::Content);
    if let Body::Content(c) = &mut body {
        c.title = title.into();
        c.why = why.into();
        c.topics = topics.iter().map(|t| t.to_string()).collect();
        c.curator_name = None;
        c.items.clear();
    }
    body
}

use AvailabilityStatus::{Full, Limited, Open};
use Level::{Advanced, Beginner, Expert, Intermediate};
use skillmesh_node::store::Actor;

/// The corpus: (organisation, record id, body).
fn corpus() -> Vec<(usize, &'static str, Body)> {
    vec![
        // Northwind
        (
            0,
            "tomas",
            expert(
                "Tomás Ferreira",
                "Staff engineer, runs Kubernetes in production",
                &[("Kubernetes", Expert), ("Incident response", Advanced)],
                Open,
            ),
        ),
        (
            0,
            "ines",
            expert(
                "Inês Costa",
                "Platform engineer learning Kubernetes",
                &[("Kubernetes", Beginner), ("Go", Intermediate)],
                Open,
            ),
        ),
        (
            0,
            "amara",
            expert(
                "Amara Okafor",
                "Engineering manager for three teams",
                &[("Feedback", Expert), ("Management", Advanced)],
                Limited,
            ),
        ),
        (
            0,
            "k8s-mentoring",
            mentoring("Running Kubernetes in production", &["Kubernetes"]),
        ),
        // Contoso
        (
            1,
            "priya",
            expert(
                "Priya Raman",
                "Machine learning engineer, recommender systems",
                &[("Machine learning", Expert), ("Python", Advanced)],
                Open,
            ),
        ),
        (
            1,
            "chen",
            expert(
                "Chen Wei",
                "Frontend lead",
                &[
                    ("JavaScript", Expert),
                    ("TypeScript", Advanced),
                    ("Accessibility", Intermediate),
                ],
                Open,
            ),
        ),
        (
            1,
            "sam",
            expert(
                "Sam Okoro",
                "SRE and incident commander",
                &[
                    ("Incident response", Expert),
                    ("On-call", Expert),
                    ("PostgreSQL", Intermediate),
                ],
                Full,
            ),
        ),
        (
            1,
            "heroes",
            talk(
                "Incident response without heroes",
                "Rotas, runbooks and calm.",
                &["Incident response", "On-call"],
            ),
        ),
        (
            1,
            "postmortems",
            talk(
                "Postmortems that teach",
                "Blameless reviews of every incident, and the response drills that follow.",
                &["Reliability"],
            ),
        ),
        // Fabrikam
        (
            2,
            "lena",
            expert(
                "Lena Fischer",
                "Data scientist: ML and statistics",
                &[("ML", Advanced), ("Statistics", Expert)],
                Open,
            ),
        ),
        (
            2,
            "marco",
            expert(
                "Marco Rossi",
                "Cluster networking on k8s",
                &[("k8s", Advanced), ("Networking", Expert)],
                Open,
            ),
        ),
        (
            2,
            "yuki",
            expert(
                "Yuki Tanaka",
                "Coach for new managers",
                &[("Leadership", Expert), ("Coaching", Expert)],
                Open,
            ),
        ),
        (
            2,
            "ml-reading",
            content(
                "Reading list: machine learning foundations",
                "Where to start.",
                &["Machine learning"],
            ),
        ),
        // Woodgrove: ordinary records around the others.
        (
            3,
            "budgets",
            talk(
                "Budgets in practice",
                "Planning the year's spend.",
                &["Finance"],
            ),
        ),
        (
            3,
            "hiring",
            talk(
                "Hiring your first engineers",
                "Interviews that work.",
                &["Hiring"],
            ),
        ),
        (
            3,
            "design",
            talk(
                "Design reviews",
                "Fast feedback on product design.",
                &["Design"],
            ),
        ),
        (
            3,
            "response-times",
            talk(
                "Web response times",
                "Caching and databases.",
                &["Performance"],
            ),
        ),
        (
            3,
            "pricing",
            content("Pricing strategy", "A classic.", &["Pricing"]),
        ),
        (
            3,
            "kanban",
            expert(
                "Olu Adeyemi",
                "Delivery lead",
                &[("Kanban", Expert), ("Roadmaps", Advanced)],
                Open,
            ),
        ),
        (
            3,
            "security",
            expert(
                "Ana Lima",
                "Application security engineer",
                &[("Security", Expert), ("Threat modelling", Advanced)],
                Limited,
            ),
        ),
    ]
}

struct Fixture {
    service: Service,
    orgs: Vec<Org>,
    _dir: tempfile::TempDir,
    now: i64,
}

impl Fixture {
    /// The corpus above, from four organisations.
    fn new() -> Fixture {
        let f = Fixture::empty();
        for (i, id, body) in corpus() {
            f.ingest(i, id, 1, body);
        }
        assert!(
            f.service.search_engine().wait_indexed(WAIT),
            "index caught up"
        );
        f
    }

    /// Four organisations' cards and nothing else.
    fn empty() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
        let service = Service::new(
            "Tailspin".into(),
            OrgIdentity::generate().expect("key"),
            store,
            InboundSettings::default(),
        )
        .expect("service");
        let orgs = vec![
            Org::new(1, "Northwind"),
            Org::new(2, "Contoso"),
            Org::new(3, "Fabrikam"),
            Org::new(4, "Woodgrove"),
        ];
        let f = Fixture {
            service,
            orgs,
            _dir: dir,
            now: skillmesh_node::clock::now(),
        };
        for (i, org) in f.orgs.iter().enumerate() {
            let card = OrgCard {
                name: org.name.into(),
                summary: String::new(),
                website: None,
                languages: Vec::new(),
            };
            f.ingest(i, "org-card", 1, Body::OrgCard(card));
        }
        f
    }

    fn ingest(&self, org: usize, id: &str, seq: u64, body: Body) {
        let org = &self.orgs[org];
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org: org.key(),
                id: id.into(),
                seq,
                issued_at: self.now - 60,
                expires_at: self.now + 30 * 86_400,
            },
            body,
        };
        let envelope = seal(&record, &org.key).expect("seal");
        let out = self
            .service
            .ingest(envelope.as_bytes(), &Actor::person("test"))
            .expect("ingest");
        assert!(matches!(out, Ok(Ingested::Stored { .. })), "{id}: {out:?}");
    }

    fn search(&self, q: &str) -> SearchResults {
        self.service.search(
            &SearchQuery {
                q: q.into(),
                ..SearchQuery::default()
            },
            skillmesh_node::clock::now(),
        )
    }

    fn ids(&self, q: &str) -> Vec<String> {
        self.search(q).hits.into_iter().map(|h| h.id).collect()
    }
}

fn top3(ids: &[String]) -> &[String] {
    &ids[..ids.len().min(3)]
}

#[test]
fn expected_experts_are_in_the_top_three() {
    let f = Fixture::new();
    let cases: &[(&str, &[&str], &str)] = &[
        ("kubernetes", &["tomas", "k8s-mentoring"], "a topic"),
        (
            "Kubernetes production",
            &["tomas", "k8s-mentoring"],
            "two words",
        ),
        (
            "kubernets",
            &["tomas", "k8s-mentoring"],
            "a misspelling (one edit)",
        ),
        ("kuberntes", &["tomas"], "a misspelling (a transposition)"),
        ("kuber", &["tomas", "k8s-mentoring"], "a prefix being typed"),
        ("k8s", &["tomas", "marco"], "a synonym, both ways"),
        ("ML", &["priya", "lena"], "a synonym naming a phrase"),
        (
            "machine learning",
            &["priya", "lena"],
            "a phrase naming a synonym",
        ),
        ("js", &["chen"], "js = javascript"),
        ("javascrpt", &["chen"], "a misspelling"),
        ("\"incident response\"", &["sam", "heroes"], "a phrase"),
        (
            "incident respnse",
            &["sam", "heroes"],
            "a misspelling after a word",
        ),
        ("postgres", &["sam"], "postgres = postgresql"),
        ("leadership coaching", &["yuki"], "two topics"),
        ("coaches", &["yuki"], "stemming"),
        ("managers feedback", &["amara"], "stemming and a topic"),
        ("security", &["security"], "a single topic"),
        ("Tomás", &["tomas"], "a name, accented"),
        ("tomas", &["tomas"], "a name, unaccented"),
    ];
    let mut failures = Vec::new();
    for (q, expected, why) in cases {
        let ids = f.ids(q);
        for e in *expected {
            if !top3(&ids).iter().any(|id| id == e) {
                failures.push(format!(
                    "{q:?} ({why}): expected {e} in the top 3, got {ids:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_phrase_needs_its_words_together() {
    let f = Fixture::new();
    let apart = f.ids("incident response");
    assert!(apart.contains(&"postmortems".to_string()), "{apart:?}");
    let together = f.ids("\"incident response\"");
    assert!(
        !together.contains(&"postmortems".to_string()),
        "{together:?}"
    );
    assert!(
        !together.contains(&"response-times".to_string()),
        "{together:?}"
    );
}

#[test]
fn level_availability_and_text_weigh_in() {
    let f = Fixture::new();
    let ids = f.ids("kubernetes");
    let at = |id: &str| ids.iter().position(|x| x == id).unwrap_or(usize::MAX);
    assert!(
        at("tomas") < at("ines"),
        "an expert above a beginner: {ids:?}"
    );
    let hits = f.search("kubernetes").hits;
    let tomas = hits.iter().find(|h| h.id == "tomas").expect("tomas");
    assert!(
        tomas
            .highlights
            .iter()
            .any(|h| h.field == "topic"
                && h.parts.iter().any(|p| p.matched && p.text == "Kubernetes")),
        "says why it matched: {:?}",
        tomas.highlights
    );
    // Typo tolerance never outranks the exact word.
    let ids = f.ids("design");
    assert_eq!(ids.first().map(String::as_str), Some("design"), "{ids:?}");
}

#[test]
fn retracted_and_blocked_records_never_appear() {
    let f = Fixture::new();
    assert!(f.ids("kubernetes").contains(&"tomas".to_string()));
    f.ingest(0, "tomas", 2, Body::Retraction(Default::default()));
    for q in ["kubernetes", "kubernets", "Tomás", "k8s", ""] {
        assert!(!f.ids(q).contains(&"tomas".to_string()), "{q:?} right away");
    }
    assert!(f.service.search_engine().wait_indexed(WAIT));
    for q in ["kubernetes", "kubernets", "Tomás", "k8s"] {
        assert!(
            !f.ids(q).contains(&"tomas".to_string()),
            "{q:?} after the commit"
        );
    }

    let fabrikam = f.orgs[2].key();
    f.service
        .block_org(&fabrikam, &Actor::person("admin"))
        .expect("block");
    let fabrikam_ids = ["lena", "marco", "yuki", "ml-reading"];
    for q in ["ML", "k8s", "coaching", "machine learning", ""] {
        let ids = f.ids(q);
        assert!(
            !ids.iter().any(|id| fabrikam_ids.contains(&id.as_str())),
            "{q:?}: {ids:?}"
        );
    }
    assert!(f.service.search_engine().wait_indexed(WAIT));
    let stats = f.service.search_engine().index_stats().expect("index");
    let held = f
        .service
        .store_for_tests()
        .record_counts()
        .expect("counts")
        .into_iter()
        .filter(|(o, _)| *o == fabrikam)
        .count();
    assert_eq!(held, 0, "purged from the store");
    // 20 records, less Tomás's listing and Fabrikam's 4.
    assert_eq!(stats.docs, 15, "{stats:?}");
    // Ingesting a blocked organisation's record is refused, so it never
    // reaches search either.
    f.ingest_refused(2, "new", body_for_blocked());
    assert!(f.ids("statistics").is_empty());
}

fn body_for_blocked() -> Body {
    expert("New Person", "Statistics", &[("Statistics", Expert)], Open)
}

impl Fixture {
    fn ingest_refused(&self, org: usize, id: &str, body: Body) {
        let org = &self.orgs[org];
        let mut record = samples::record(org.key(), Kind::Expertise);
        record.header.id = id.into();
        record.header.issued_at = self.now - 60;
        record.header.expires_at = self.now + 86_400;
        record.body = body;
        let envelope = seal(&record, &org.key).expect("seal");
        let out = self
            .service
            .ingest(envelope.as_bytes(), &Actor::person("test"))
            .expect("ingest");
        assert!(matches!(out, Ok(Ingested::NotAdmitted(_))), "{out:?}");
    }
}

#[test]
fn facet_counts_match_the_store() {
    let f = Fixture::new();
    let all = f.search("");
    // What the store holds that is searchable, per organisation and kind.
    let mut per_org: HashMap<String, usize> = HashMap::new();
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    let mut held = 0;
    for org in &f.orgs {
        for row in f
            .service
            .store_for_tests()
            .records_of(&org.key())
            .expect("rows")
        {
            let record = row.record().expect("record");
            if row.tombstone || record.kind() == Kind::OrgCard {
                continue;
            }
            held += 1;
            *per_org.entry(org.key().to_hex()).or_default() += 1;
            *per_kind.entry(record.kind().to_string()).or_default() += 1;
        }
    }
    assert_eq!(all.total, held);
    let facet = |r: &SearchResults, name: &str| -> HashMap<String, usize> {
        r.facets
            .iter()
            .find(|f| f.name == name)
            .expect("facet")
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect()
    };
    assert_eq!(facet(&all, "org"), per_org);
    assert_eq!(facet(&all, "kind"), per_kind);
    let orgs = &all
        .facets
        .iter()
        .find(|f| f.name == "org")
        .expect("org")
        .values;
    assert!(orgs.iter().any(|v| v.label == "Contoso"), "{orgs:?}");

    // With text and a filter, facets count every match, not just a page.
    let k = f.search("kubernetes");
    let kinds = facet(&k, "kind");
    assert_eq!(kinds.values().sum::<usize>(), k.total);
    assert_eq!(kinds.get("mentoring_offer"), Some(&1));
    let experts = f.service.search(
        &SearchQuery {
            q: "kubernetes".into(),
            kind: "expertise".into(),
            ..SearchQuery::default()
        },
        skillmesh_node::clock::now(),
    );
    assert_eq!(experts.total, kinds["expertise"]);
    assert!(experts.hits.iter().all(|h| h.kind == Kind::Expertise));
    let availability = facet(&f.search("incident response"), "availability");
    assert_eq!(availability.get("full"), Some(&1), "{availability:?}");
}

#[test]
fn pages_are_stable_and_cover_every_match_once() {
    let f = Fixture::new();
    for i in 0..45 {
        f.ingest(
            3,
            &format!("filler-{i}"),
            1,
            talk("Practice sessions", "Weekly practice.", &["Practice"]),
        );
    }
    assert!(f.service.search_engine().wait_indexed(WAIT));
    let page = |n: usize| {
        f.service
            .search(
                &SearchQuery {
                    q: "practice".into(),
                    page: n,
                    ..SearchQuery::default()
                },
                skillmesh_node::clock::now(),
            )
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect::<Vec<_>>()
    };
    let first: Vec<Vec<String>> = (1..=4).map(page).collect();
    let again: Vec<Vec<String>> = (1..=4).map(page).collect();
    assert_eq!(first, again, "the same pages every time");
    let all: Vec<&String> = first.iter().flatten().collect();
    let unique: std::collections::HashSet<&&String> = all.iter().collect();
    assert_eq!(all.len(), unique.len(), "no result on two pages");
    assert!(all.len() >= 46, "{}", all.len());
}

/// The demo's own records, as a partner's node holds them: every sample
/// organisation's offers, content, events and calls, and the listings of
/// the people who share one.
fn demo_fixture() -> Fixture {
    use skillmesh_node::demo::sample_data;
    let f = Fixture::empty();
    let partners: Vec<OrgKey> = f.orgs.iter().map(Org::key).collect();
    // As many sample organisations as the fixture has keys for (the demo
    // runs three).
    for i in 0..sample_data::ORGS.len().min(f.orgs.len()) {
        let (_, _, sample) = sample_data::org(i);
        for p in sample.people.iter().filter(|p| p.shares) {
            let mut body = expert(p.name, p.headline, p.topics, AvailabilityStatus::Open);
            if let Body::Expertise(e) = &mut body {
                e.person = format!("demo-{}", p.id);
            }
            f.ingest(i, &format!("demo-person-{}", p.id), 1, body);
        }
        for (id, _, body) in sample_data::items(sample, f.now, &partners) {
            f.ingest(i, &format!("demo-{id}"), 1, body);
        }
    }
    assert!(
        f.service.search_engine().wait_indexed(WAIT),
        "index caught up"
    );
    f
}

/// Several words with a typo in one find what each word finds: for
/// `kubernets incident`, the demo's Kubernetes mentoring offer (topics
/// Kubernetes and incident response, nothing else) ranks first, above the
/// same expert's talk that also covers on-call, and the results are those
/// of the words spelled right, in the same order.
#[test]
fn a_typo_in_one_of_several_words_finds_what_each_word_finds() {
    let f = demo_fixture();
    let typo = f.ids("kubernets incident");
    assert_eq!(
        typo.first().map(String::as_str),
        Some("demo-mentoring-tomas"),
        "{typo:?}"
    );
    assert_eq!(typo, f.ids("kubernetes incident"));
    for q in ["kubernets", "incident"] {
        let one = f.ids(q);
        assert!(
            typo.iter().all(|id| one.contains(id)),
            "{q:?} finds {one:?}, which lacks some of {typo:?}"
        );
    }
}
