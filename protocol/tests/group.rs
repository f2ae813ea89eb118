//! `answer.group`: a cohort's roster travels sealed and opens unchanged,
//! only with an acceptance, and within the cohort size.

use ed25519_dalek::SigningKey;
use skillmesh_protocol::kinds::{Decision, Group, GroupMember, Slot};
use skillmesh_protocol::limits::COHORT_MAX_SEATS;
use skillmesh_protocol::samples::{self, SAMPLE_TIME};
use skillmesh_protocol::{Body, Kind, OrgKey, Record, Rejection, open, seal};

fn answer_with(group: Group, decision: Decision) -> (SigningKey, Record) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut record = samples::record(OrgKey::from(&key.verifying_key()), Kind::Answer);
    record.header.seq = 3;
    if let Body::Answer(a) = &mut record.body {
        a.decision = decision;
        if decision == Decision::Declined {
            a.contact = None;
        }
        a.group = Some(group);
    }
    (key, record)
}

fn group(members: usize) -> Group {
    Group {
        goal: "Run a fair first review".into(),
        starts_at: SAMPLE_TIME,
        weeks: 6,
        weekly_hours: 2,
        schedule: vec![Slot {
            starts_at: SAMPLE_TIME + 86_400,
            duration_minutes: 90,
        }],
        members: (0..members)
            .map(|i| GroupMember {
                org: OrgKey::from_bytes([i as u8; 32]),
                name: (i % 2 == 0).then(|| format!("Member {i}")),
            })
            .collect(),
    }
}

#[test]
fn a_roster_opens_unchanged() {
    let (key, record) = answer_with(group(3), Decision::Accepted);
    let envelope = seal(&record, &key).expect("seal");
    assert_eq!(open(envelope.as_bytes(), SAMPLE_TIME), Ok(record));
}

#[test]
fn a_roster_travels_only_with_an_acceptance_and_within_the_cohort_size() {
    let (key, declined) = answer_with(group(1), Decision::Declined);
    assert!(matches!(
        seal(&declined, &key),
        Err(Rejection::Malformed(_))
    ));
    let (key, crowded) = answer_with(group(usize::from(COHORT_MAX_SEATS) + 1), Decision::Accepted);
    assert!(matches!(
        seal(&crowded, &key),
        Err(Rejection::Oversize { .. })
    ));
}
