//! The store against real sled databases in temp dirs: the `seq` rule,
//! tombstones, expiry, purges, counters, persistence, people and audit.

use ed25519_dalek::SigningKey;
use skillmesh_protocol::samples::{self, SAMPLE_TIME};
use skillmesh_protocol::{Envelope, Kind, OrgKey, Record, seal};
use skillmesh_store::{Account, AuditEntry, AuditFilter, Person, PutOutcome, Role, Store};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn org(k: &SigningKey) -> OrgKey {
    OrgKey::from(&k.verifying_key())
}

fn signed(k: &SigningKey, id: &str, seq: u64, kind: Kind) -> (Record, Envelope) {
    let mut r = samples::record(org(k), kind);
    r.header.id = id.into();
    r.header.seq = seq;
    let e = seal(&r, k).expect("seal");
    (r, e)
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    (dir, store)
}

#[test]
fn higher_seq_replaces_lower_and_equal_or_lower_is_stale() {
    let (_d, store) = open();
    let k = key(1);
    let (r1, e1) = signed(&k, "a", 1, Kind::TalkOffer);
    let (r3, e3) = signed(&k, "a", 3, Kind::TalkOffer);
    let (r2, e2) = signed(&k, "a", 2, Kind::TalkOffer);
    assert_eq!(
        store.put_record(&r1, &e1, SAMPLE_TIME).expect("put"),
        PutOutcome::Inserted
    );
    assert_eq!(
        store.put_record(&r3, &e3, SAMPLE_TIME).expect("put"),
        PutOutcome::Replaced { old_seq: 1 }
    );
    assert_eq!(
        store.put_record(&r2, &e2, SAMPLE_TIME).expect("put"),
        PutOutcome::Stale { held_seq: 3 }
    );
    assert_eq!(
        store.put_record(&r3, &e3, SAMPLE_TIME).expect("put"),
        PutOutcome::Stale { held_seq: 3 }
    );
    let row = store.get_record(&org(&k), "a").expect("get").expect("row");
    assert_eq!(row.seq, 3);
    assert_eq!(row.envelope, e3);
    assert_eq!(row.record().expect("parse"), r3);
    assert_eq!(store.org_record_count(&org(&k)).expect("count"), 1);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn a_tombstone_wins_over_lower_seqs_and_outlives_what_it_replaced() {
    let (_d, store) = open();
    let k = key(2);
    let (mut r1, _) = signed(&k, "m", 1, Kind::MentoringOffer);
    r1.header.expires_at = SAMPLE_TIME + 200 * 86_400;
    let e1 = seal(&r1, &k).expect("seal");
    store.put_record(&r1, &e1, SAMPLE_TIME).expect("put");
    let (t, et) = signed(&k, "m", 2, Kind::Retraction);
    assert!(t.header.expires_at < r1.header.expires_at);
    store
        .put_record(&t, &et, SAMPLE_TIME)
        .expect("put tombstone");
    let row = store.get_record(&org(&k), "m").expect("get").expect("row");
    assert!(row.tombstone);
    assert_eq!(
        row.expires_at, r1.header.expires_at,
        "tombstone kept as long as the record"
    );
    // The old version arriving again (gossip, sync) does not resurrect it.
    assert!(
        !store
            .put_record(&r1, &e1, SAMPLE_TIME)
            .expect("put")
            .changed()
    );
    assert!(
        store
            .get_record(&org(&k), "m")
            .expect("get")
            .expect("row")
            .tombstone
    );
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn a_batch_applies_the_seq_rule_between_its_own_records() {
    let (_d, store) = open();
    let k = key(3);
    let (a2, ea2) = signed(&k, "x", 2, Kind::Content);
    let (a1, ea1) = signed(&k, "x", 1, Kind::Content);
    let (b1, eb1) = signed(&k, "y", 1, Kind::Content);
    let out = store
        .put_records(&[(&a2, &ea2), (&a1, &ea1), (&b1, &eb1)], SAMPLE_TIME)
        .expect("batch");
    assert_eq!(
        out,
        vec![
            PutOutcome::Inserted,
            PutOutcome::Stale { held_seq: 2 },
            PutOutcome::Inserted
        ]
    );
    assert_eq!(store.org_record_count(&org(&k)).expect("count"), 2);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn live_counts_leave_out_tombstones_through_retraction_republishing_and_purges() {
    let (_d, store) = open();
    let k = key(6);
    let o = org(&k);
    for id in ["a", "b", "c"] {
        let (r, e) = signed(&k, id, 1, Kind::TalkOffer);
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    }
    assert_eq!(store.org_live_count(&o).expect("live"), 3);
    // Withdrawn: a row still (a tombstone), no longer live.
    let (r, e) = signed(&k, "a", 2, Kind::Retraction);
    store.put_record(&r, &e, SAMPLE_TIME).expect("retract");
    assert_eq!(store.org_live_count(&o).expect("live"), 2);
    assert_eq!(store.org_record_count(&o).expect("rows"), 3);
    // A retraction of something never held is a tombstone only.
    let (r, e) = signed(&k, "never", 1, Kind::Retraction);
    store.put_record(&r, &e, SAMPLE_TIME).expect("retract");
    assert_eq!(store.org_live_count(&o).expect("live"), 2);
    // Published again after the withdrawal: live again.
    let (r, e) = signed(&k, "a", 3, Kind::TalkOffer);
    store.put_record(&r, &e, SAMPLE_TIME).expect("republish");
    assert_eq!(store.org_live_count(&o).expect("live"), 3);
    assert!(store.check_consistency().expect("check").is_empty());
    assert_eq!(store.purge_org(&o).expect("purge"), 4);
    assert_eq!(store.org_live_count(&o).expect("live"), 0);
    assert!(store.live_counts().expect("counts").is_empty());
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn expired_rows_and_blocked_organisations_are_purged_with_their_counters() {
    let (_d, store) = open();
    let (ka, kb) = (key(4), key(5));
    for i in 0..5 {
        let (r, e) = signed(&ka, &format!("a{i}"), 1, Kind::TalkOffer);
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
        let (r, e) = signed(&kb, &format!("b{i}"), 1, Kind::TalkOffer);
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    }
    let mut short = samples::record(org(&ka), Kind::Event);
    short.header.id = "short".into();
    short.header.expires_at = SAMPLE_TIME + 10;
    let es = seal(&short, &ka).expect("seal");
    store.put_record(&short, &es, SAMPLE_TIME).expect("put");
    assert_eq!(store.record_count().expect("count"), 11);

    assert_eq!(store.purge_expired(SAMPLE_TIME + 10).expect("purge"), 1);
    assert!(store.get_record(&org(&ka), "short").expect("get").is_none());
    assert_eq!(store.purge_org(&org(&kb)).expect("purge org"), 5);
    assert!(store.records_of(&org(&kb)).expect("list").is_empty());
    assert_eq!(store.record_counts().expect("counts"), vec![(org(&ka), 5)]);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = key(6);
    let (r, e) = signed(&k, "keep", 4, Kind::CohortOffer);
    let person = Person::new("ana", "Ana", "ana@example.org", 1);
    {
        let store = Store::open(dir.path()).expect("open");
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
        store
            .add_account(
                &Account {
                    username: "ana@example.org".into(),
                    role: Role::Admin,
                    person_id: Some("ana".into()),
                    password_hash: "$argon2id$placeholder".into(),
                    created_at: 1,
                    calendar_token_sha256: None,
                    sso_subject: None,
                    deactivated_at: None,
                },
                Some(&person),
                &AuditEntry {
                    at: 1,
                    actor: "cli".into(),
                    action: "user_added".into(),
                    org: None,
                    record_id: Some("ana".into()),
                    detail: "ana@example.org (admin)".into(),
                    claimed_org: None,
                    count: 1,
                },
            )
            .expect("account");
    }
    let store = Store::open(dir.path()).expect("reopen");
    assert_eq!(
        store
            .get_record(&org(&k), "keep")
            .expect("get")
            .expect("row")
            .seq,
        4
    );
    let back = store.person("ana").expect("get").expect("person");
    assert_eq!(back, person);
    assert!(!back.sharing.any(), "nothing is shared by default");
    assert_eq!(
        store
            .account("ana@example.org")
            .expect("get")
            .expect("acct")
            .role,
        Role::Admin
    );
    assert!(store.add_person(&person).is_err(), "ids are unique");
}

#[test]
fn audit_log_filters_by_org_action_and_time_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = |at: i64, action: &str, org: &str| AuditEntry {
        at,
        actor: "node".into(),
        action: action.into(),
        org: Some(org.into()),
        record_id: None,
        detail: String::new(),
        claimed_org: None,
        count: 1,
    };
    {
        let store = Store::open(dir.path()).expect("open");
        store
            .audit(&[
                entry(100, "record_received", "aa"),
                entry(200, "record_rejected", "bb"),
            ])
            .expect("audit");
    }
    // Counters continue after a reopen: nothing is overwritten.
    let store = Store::open(dir.path()).expect("reopen");
    store
        .audit(&[
            entry(200, "record_received", "aa"),
            entry(300, "policy_changed", "aa"),
        ])
        .expect("audit");
    let all = store.audit_log(&AuditFilter::default()).expect("log");
    assert_eq!(
        all.iter().map(|e| e.at).collect::<Vec<_>>(),
        vec![300, 200, 200, 100]
    );
    let aa = store
        .audit_log(&AuditFilter {
            org: Some("aa".into()),
            ..Default::default()
        })
        .expect("log");
    assert_eq!(aa.len(), 3);
    let day = store
        .audit_log(&AuditFilter {
            since: Some(150),
            until: Some(300),
            ..Default::default()
        })
        .expect("log");
    assert_eq!(day.len(), 2);
    let rejected = store
        .audit_log(&AuditFilter {
            action: Some("record_rejected".into()),
            ..Default::default()
        })
        .expect("log");
    assert_eq!(rejected.len(), 1);
}

#[test]
fn fingerprints_follow_inserts_replacements_expiry_and_purges() {
    use skillmesh_protocol::fingerprint::Accumulator;
    let (_d, store) = open();
    use skillmesh_protocol::fingerprint::envelope_digest;
    let (ka, kb) = (key(6), key(7));
    let (a, b) = (org(&ka), org(&kb));
    let mut digests = std::collections::HashMap::new();
    for (k, id, seq) in [(&ka, "x", 1), (&ka, "y", 1), (&kb, "z", 3)] {
        let (r, e) = signed(k, id, seq, Kind::TalkOffer);
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
        digests.insert(id, envelope_digest(e.as_bytes()));
    }
    let mut want_a = Accumulator::new();
    want_a.add(&a, "x", 1, &digests["x"]);
    want_a.add(&a, "y", 1, &digests["y"]);
    assert_eq!(store.fingerprint_of(&a).expect("fp"), want_a);
    // A newer version (here a retraction) replaces the item.
    let (r, e) = signed(&ka, "x", 2, Kind::Retraction);
    store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    want_a.remove(&a, "x", 1, &digests["x"]);
    want_a.add(&a, "x", 2, &envelope_digest(e.as_bytes()));
    assert_eq!(store.fingerprint_of(&a).expect("fp"), want_a);
    let mut all = want_a;
    all.add(&b, "z", 3, &digests["z"]);
    assert_eq!(store.fingerprint_all().expect("all"), all);
    // Purging an organisation takes its items out, and its accumulator goes.
    store.purge_org(&b).expect("purge");
    assert_eq!(store.fingerprint_all().expect("all"), want_a);
    assert_eq!(store.fingerprints().expect("list"), vec![(a, want_a)]);
    // So does expiry.
    store.purge_expired(i64::MAX).expect("purge");
    assert_eq!(store.fingerprint_all().expect("all"), Accumulator::new());
    assert!(store.fingerprints().expect("list").is_empty());
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn scan_seqs_reads_a_half_open_range_of_ids() {
    let (_d, store) = open();
    let ka = key(8);
    for id in ["a", "b", "c", "d"] {
        let (r, e) = signed(&ka, id, 1, Kind::TalkOffer);
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    }
    let read = |lower: &str, upper: Option<&str>| {
        let mut seen = Vec::new();
        store
            .scan_seqs(&org(&ka), lower, upper, |id, seq, _| {
                seen.push((id.to_string(), seq));
                true
            })
            .expect("scan");
        seen
    };
    assert_eq!(read("b", Some("d")), [("b".into(), 1), ("c".into(), 1)]);
    assert_eq!(read("c", None), [("c".into(), 1), ("d".into(), 1)]);
    assert_eq!(read("d", Some("b")), Vec::<(String, u64)>::new());
}

#[test]
fn opening_a_schema_2_store_computes_the_fingerprints() {
    use skillmesh_store::storage::{self, Batch, Kv};
    let dir = tempfile::tempdir().expect("tempdir");
    let ka = key(9);
    let mut digests = Vec::new();
    {
        let store = Store::open(dir.path()).expect("open");
        for id in ["p", "q"] {
            let (r, e) = signed(&ka, id, 2, Kind::TalkOffer);
            store.put_record(&r, &e, SAMPLE_TIME).expect("put");
            digests.push(skillmesh_protocol::fingerprint::envelope_digest(
                e.as_bytes(),
            ));
        }
    }
    // Make it look like a store written before fingerprints existed, with
    // the sync index as it was then (seq alone).
    {
        let kv = storage::open(dir.path()).expect("kv");
        let mut b = Batch::new();
        let seq_keys: Vec<Vec<u8>> = kv
            .scan_prefix(b"seq/")
            .map(|r| r.expect("scan").0)
            .collect();
        assert_eq!(seq_keys.len(), 2);
        for k in seq_keys {
            b.put(k, 2u64.to_be_bytes().to_vec());
        }
        let fp_keys: Vec<Vec<u8>> = kv.scan_prefix(b"fp/").map(|r| r.expect("scan").0).collect();
        assert_eq!(fp_keys.len(), 1);
        for k in fp_keys {
            b.delete(k);
        }
        b.delete(b"meta/fp-all".to_vec());
        b.put(b"meta/schema".to_vec(), 2u32.to_be_bytes().to_vec());
        kv.commit(b).expect("commit");
    }
    let store = Store::open(dir.path()).expect("migrate");
    let mut want = skillmesh_protocol::fingerprint::Accumulator::new();
    want.add(&org(&ka), "p", 2, &digests[0]);
    want.add(&org(&ka), "q", 2, &digests[1]);
    assert_eq!(store.fingerprint_all().expect("all"), want);
    assert!(store.check_consistency().expect("check").is_empty());
}

#[test]
fn of_two_versions_with_the_same_seq_the_lower_digest_wins_in_any_order() {
    use skillmesh_protocol::fingerprint::envelope_digest;
    let k = key(10);
    let (r1, e1) = signed(&k, "twice", 4, Kind::TalkOffer);
    let mut r2 = r1.clone();
    if let skillmesh_protocol::Body::TalkOffer(t) = &mut r2.body {
        t.title = "Another title for the same seq".into();
    }
    let e2 = seal(&r2, &k).expect("seal");
    let (winner, loser) = if envelope_digest(e1.as_bytes()) < envelope_digest(e2.as_bytes()) {
        ((&r1, &e1), (&r2, &e2))
    } else {
        ((&r2, &e2), (&r1, &e1))
    };
    // Loser first: the winner replaces it.
    let (_d1, one) = open();
    one.put_record(loser.0, loser.1, SAMPLE_TIME).expect("put");
    assert_eq!(
        one.put_record(winner.0, winner.1, SAMPLE_TIME)
            .expect("put"),
        PutOutcome::Equivocation { seq: 4, won: true }
    );
    // Winner first: the loser is ignored.
    let (_d2, other) = open();
    other
        .put_record(winner.0, winner.1, SAMPLE_TIME)
        .expect("put");
    assert_eq!(
        other
            .put_record(loser.0, loser.1, SAMPLE_TIME)
            .expect("put"),
        PutOutcome::Equivocation { seq: 4, won: false }
    );
    // The same version again is merely stale.
    assert_eq!(
        other
            .put_record(winner.0, winner.1, SAMPLE_TIME)
            .expect("put"),
        PutOutcome::Stale { held_seq: 4 }
    );
    for store in [&one, &other] {
        let row = store
            .get_record(&org(&k), "twice")
            .expect("get")
            .expect("row");
        assert_eq!(&row.envelope, winner.1);
        assert!(store.check_consistency().expect("check").is_empty());
    }
    assert_eq!(
        one.fingerprint_all().expect("fp"),
        other.fingerprint_all().expect("fp")
    );
}
