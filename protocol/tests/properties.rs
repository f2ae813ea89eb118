//! Property tests: sealing then opening any valid record gives it back
//! unchanged, and flipping any single bit anywhere in an envelope makes it
//! rejected.

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use skillmesh_protocol::kinds::{Level, Topic};
use skillmesh_protocol::limits::{MAX_LIFETIME_SECS, MAX_SEQ};
use skillmesh_protocol::samples::{self, SAMPLE_TIME};
use skillmesh_protocol::{Body, Kind, OrgKey, Record, open, seal};

/// One line of printable text, any script, within the title bound.
fn line() -> impl Strategy<Value = String> {
    "[^\\p{C}\\p{Zl}\\p{Zp}]{1,50}".prop_filter("not blank", |s| !s.trim().is_empty())
}

/// A topic name: at most 16 characters, so at most 64 bytes in UTF-8.
fn topic() -> impl Strategy<Value = String> {
    "[^\\p{C}\\p{Zl}\\p{Zp}]{1,16}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn record() -> impl Strategy<Value = (SigningKey, Record)> {
    (
        any::<[u8; 32]>(),
        prop::sample::select(Kind::ALL.to_vec()),
        "[A-Za-z0-9._-]{1,64}",
        1..=MAX_SEQ,
        0..(SAMPLE_TIME * 2),
        1..=MAX_LIFETIME_SECS,
        line(),
        prop::collection::vec((topic(), 0..4u8), 0..8),
    )
        .prop_map(
            |(seed, kind, id, seq, issued_at, lifetime, title, topics)| {
                let key = SigningKey::from_bytes(&seed);
                let org = OrgKey::from(&key.verifying_key());
                let mut record = samples::record(org, kind);
                record.header.id = id;
                record.header.seq = seq;
                record.header.issued_at = issued_at;
                record.header.expires_at = issued_at + lifetime;
                let topic_names: Vec<String> = topics.iter().map(|(t, _)| t.clone()).collect();
                match &mut record.body {
                    Body::OrgCard(b) => b.name = title,
                    Body::Expertise(b) => {
                        b.headline = Some(title);
                        b.topics = topics
                            .into_iter()
                            .map(|(name, l)| Topic {
                                name,
                                level: [
                                    Level::Beginner,
                                    Level::Intermediate,
                                    Level::Advanced,
                                    Level::Expert,
                                ][usize::from(l)],
                            })
                            .collect();
                    }
                    Body::TalkOffer(b) => {
                        b.title = title;
                        b.session.topics = topic_names;
                    }
                    Body::MentoringOffer(b) => {
                        b.title = title;
                        b.topics = topic_names;
                    }
                    Body::CohortOffer(b) => {
                        b.goal = title;
                        b.topics = topic_names;
                    }
                    Body::Event(b) => b.title = title,
                    Body::Content(b) => {
                        b.title = title;
                        b.topics = topic_names;
                    }
                    Body::Retraction(b) => b.reason = Some(title),
                    Body::Request(b) => b.goal = title,
                    Body::Answer(b) => b.reply = title,
                    Body::TalkWanted(b) => {
                        b.title = title;
                        b.session.topics = topic_names;
                    }
                    Body::ImpactSummary(b) => b.sessions_given = title.len() as u32,
                    Body::Kudos(b) => b.message = title,
                    Body::FollowerCount(b) => b.followers = title.len() as u32,
                    Body::QuotaNotice(b) => b.held = title.len() as u64,
                }
                (key, record)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seal_then_open_round_trips((key, record) in record()) {
        let envelope = seal(&record, &key).expect("valid record seals");
        let opened = open(envelope.as_bytes(), record.header.issued_at).expect("opens");
        prop_assert_eq!(opened, record);
    }

    #[test]
    fn any_flipped_bit_is_rejected((key, record) in record(), at in any::<prop::sample::Index>(), bit in 0..8u8) {
        let envelope = seal(&record, &key).expect("valid record seals");
        let mut bytes = envelope.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(open(&bytes, record.header.issued_at).is_err(), "flip at byte {} accepted", i);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = open(&bytes, SAMPLE_TIME);
    }
}
