//! One believable record of every kind, for tests, test vectors and
//! documentation. Not used by the node's own logic.

use crate::keys::OrgKey;
use crate::kinds::*;
use crate::record::{Body, Header, Kind, RECORD_VERSION, Record};

/// 2025-01-01T00:00:00Z: `issued_at` of every sample.
pub const SAMPLE_TIME: i64 = 1_735_689_600;
/// Lifetime of every sample: 90 days.
pub const SAMPLE_LIFETIME: i64 = 90 * 24 * 3600;

/// A header for `org` and `id` at [`SAMPLE_TIME`].
pub fn header(org: OrgKey, id: &str, seq: u64) -> Header {
    Header {
        version: RECORD_VERSION,
        org,
        id: id.to_string(),
        seq,
        issued_at: SAMPLE_TIME,
        expires_at: SAMPLE_TIME + SAMPLE_LIFETIME,
    }
}

/// A sample body of `kind`.
pub fn body(kind: Kind) -> Body {
    match kind {
        Kind::OrgCard => Body::OrgCard(OrgCard {
            name: "Northwind Traders".into(),
            summary: "Logistics software, 1,200 people, engineering hubs in Lisbon and Leeds."
                .into(),
            website: Some("https://northwind.example".into()),
            languages: vec!["en".into(), "pt-PT".into()],
        }),
        Kind::Expertise => Body::Expertise(Expertise {
            person: "p-tomas".into(),
            display_name: Some("Tomás Ferreira".into()),
            headline: Some("Staff engineer, runs Kubernetes in production".into()),
            topics: vec![
                Topic {
                    name: "Kubernetes".into(),
                    level: Level::Expert,
                },
                Topic {
                    name: "Incident response".into(),
                    level: Level::Advanced,
                },
            ],
            languages: vec!["en".into(), "pt".into()],
            time_zone: Some("Europe/Lisbon".into()),
            formats: vec![Format::Talk, Format::Mentoring, Format::CodeReview],
            availability: Some(Availability {
                status: AvailabilityStatus::Open,
                hours_per_month: Some(2),
                note: None,
            }),
            email: None,
            recognition: Some(RecognitionSummary {
                people_helped: 6,
                organisations_reached: 2,
                sessions: 9,
                minutes: 405,
                cohorts_run: 0,
                kudos: 3,
                curated: 5,
                observed: 2,
            }),
            takes_questions: false,
        }),
        Kind::TalkOffer => Body::TalkOffer(TalkOffer {
            person: "p-tomas".into(),
            speaker_name: Some("Tomás Ferreira".into()),
            title: "What our first year of on-call taught us".into(),
            summary: "Pager fatigue, runbooks nobody reads, and the three changes that helped."
                .into(),
            session: TalkSession {
                topics: vec!["Incident response".into(), "On-call".into()],
                format: SessionFormat::Talk,
                audience: Audience::Everyone,
                duration_minutes: 45,
                languages: vec!["en".into()],
                delivery: Delivery::Remote,
            },
            status: OfferStatus::Open,
        }),
        Kind::MentoringOffer => Body::MentoringOffer(MentoringOffer {
            person: "p-tomas".into(),
            mentor_name: Some("Tomás Ferreira".into()),
            title: "Running Kubernetes in production".into(),
            description: "Four sessions on cluster upgrades, capacity and incident handling."
                .into(),
            topics: vec!["Kubernetes".into()],
            languages: vec!["en".into()],
            capacity: 2,
            sessions: 4,
            session_minutes: 45,
            cadence: Cadence::Fortnightly,
            slots: vec![Slot {
                starts_at: SAMPLE_TIME + 7 * 86_400,
                duration_minutes: 45,
            }],
            delivery: Delivery::Remote,
            status: OfferStatus::Open,
        }),
        Kind::CohortOffer => Body::CohortOffer(CohortOffer {
            person: "p-amara".into(),
            owner_name: Some("Amara Okafor".into()),
            title: "New managers: your first performance review".into(),
            goal: "Each member runs a fair, well-prepared review with their own team.".into(),
            topics: vec!["Management".into(), "Feedback".into()],
            seats_total: 12,
            seats_per_org: 4,
            weeks: 6,
            weekly_hours: 2,
            starts_at: SAMPLE_TIME + 14 * 86_400,
            schedule: vec![Slot {
                starts_at: SAMPLE_TIME + 14 * 86_400,
                duration_minutes: 120,
            }],
            languages: vec!["en".into()],
            delivery: Delivery::Remote,
            status: OfferStatus::Open,
        }),
        Kind::Event => Body::Event(Event {
            title: "Learning Week, 9-13 March".into(),
            description: "Talks, workshops and leaders teaching leaders, from three organisations."
                .into(),
            starts_at: SAMPLE_TIME + 30 * 86_400,
            ends_at: SAMPLE_TIME + 35 * 86_400,
            sessions: vec![EventSession {
                id: "s1".into(),
                title: "Giving feedback that lands".into(),
                speaker_name: Some("Amara Okafor".into()),
                contributor: None,
                starts_at: SAMPLE_TIME + 30 * 86_400 + 36_000,
                duration_minutes: 60,
                format: SessionFormat::Workshop,
                audience: Audience::PeopleManagers,
                topics: vec!["Feedback".into()],
            }],
            languages: vec!["en".into()],
            contributors: vec![OrgKey::from_bytes([0x5c; 32])],
        }),
        Kind::Content => Body::Content(ContentItem {
            content_type: ContentType::Article,
            title: "Google SRE book: being on-call".into(),
            url: Some("https://sre.google/sre-book/being-on-call/".into()),
            why: "The clearest account of sustainable on-call load.".into(),
            topics: vec!["On-call".into()],
            level: Some(Level::Intermediate),
            minutes: Some(30),
            curator_name: Some("Tomás Ferreira".into()),
            items: vec![],
        }),
        Kind::TalkWanted => Body::TalkWanted(TalkWanted {
            person: "p-priya".into(),
            asker_name: Some("Priya Raman".into()),
            title: "How do you run blameless incident reviews?".into(),
            description: "Our team leads want to hear how another organisation does it.".into(),
            session: TalkSession {
                topics: vec!["Incident response".into()],
                format: SessionFormat::Talk,
                audience: Audience::PeopleManagers,
                duration_minutes: 45,
                languages: vec!["en".into()],
                delivery: Delivery::Remote,
            },
            status: OfferStatus::Open,
        }),
        Kind::ImpactSummary => Body::ImpactSummary(ImpactSummary {
            period_start: SAMPLE_TIME - 90 * 86_400,
            period_end: SAMPLE_TIME,
            topic: None,
            sessions_given: 14,
            minutes_given: 930,
            participants: 31,
            connections: 27,
            requests_received: 35,
            requests_received_answered: 33,
            requests_made: 22,
            requests_made_answered: 20,
            median_minutes_to_answer: Some(340),
            feedback: 18,
            average_rating_tenths: Some(44),
            skill_before_tenths: Some(23),
            skill_after_tenths: Some(36),
        }),
        Kind::Kudos => Body::Kudos(Kudos {
            offer_org: OrgKey::from_bytes([0x5a; 32]),
            request_id: "req-1".into(),
            from_name: Some("Aisha Bello".into()),
            message: "The runbook template already saved us an hour on Tuesday. Thank you!".into(),
        }),
        Kind::FollowerCount => Body::FollowerCount(FollowerCount {
            list_org: OrgKey::from_bytes([0x5a; 32]),
            list_id: "content-oncall-path".into(),
            followers: 3,
        }),
        Kind::QuotaNotice => Body::QuotaNotice(QuotaNotice {
            publisher: OrgKey::from_bytes([0x5a; 32]),
            record_id: "talk-incident-reviews".into(),
            held: 10_000,
            limit: 10_000,
        }),
        Kind::Retraction => Body::Retraction(Retraction {
            reason: Some("offer closed".into()),
        }),
        Kind::Request => Body::Request(Request {
            offer_org: OrgKey::from_bytes([0x5a; 32]),
            offer_id: "mentoring-tomas".into(),
            requester: "aisha".into(),
            requester_name: Some("Aisha Bello".into()),
            goal: "Get better at running on-call for my team.".into(),
            preferred_times: "Tuesday or Thursday mornings".into(),
            message: "We moved to Kubernetes last quarter.".into(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
            ask: None,
        }),
        Kind::Answer => Body::Answer(Answer {
            request_org: OrgKey::from_bytes([0x5b; 32]),
            request_id: "req-1".into(),
            decision: Decision::Accepted,
            reply: "Happy to. First session next Tuesday?".into(),
            contact: Some(Contact {
                name: "Tomás Ferreira".into(),
                email: Some("tomas@northwind.example".into()),
            }),
            group: None,
        }),
    }
}

/// A sample record of `kind` from `org`.
pub fn record(org: OrgKey, kind: Kind) -> Record {
    Record {
        header: header(org, &format!("sample-{kind}"), 1),
        body: body(kind),
    }
}
