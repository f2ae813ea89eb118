//! A write the store reports as done survives `kill -9`.
//!
//! The parent test re-runs this test binary as a child process (the ignored
//! `child_writer` test, told what to do through environment variables) that
//! writes records, people and audit entries, printing `ack N` after each
//! write returns. The parent kills it with SIGKILL at a random moment,
//! reopens the store, and checks that every acknowledged write is there and
//! that the store's invariants hold. Several rounds run on the same store.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use skillmesh_protocol::samples::{self, SAMPLE_TIME};
use skillmesh_protocol::{Kind, OrgKey, seal};
use skillmesh_store::{AuditEntry, Person, Store};

const DIR_VAR: &str = "SKILLMESH_TEST_DURABILITY_DIR";
const ROUND_VAR: &str = "SKILLMESH_TEST_DURABILITY_ROUND";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn person(id: &str) -> Person {
    Person::new(id, &format!("Person {id}"), &format!("{id}@example.org"), 0)
}

/// Write number `i` of `round`: a new record; every third write also
/// replaces an earlier record with seq 2; every fifth adds a person.
fn write(store: &Store, round: u32, i: u64) {
    let k = key();
    let org = OrgKey::from(&k.verifying_key());
    let mut r = samples::record(org, Kind::TalkOffer);
    r.header.id = format!("r{round}-{i}");
    let e = seal(&r, &k).expect("seal");
    if i % 3 == 2 {
        let mut older = samples::record(org, Kind::TalkOffer);
        older.header.id = format!("r{round}-{}", i / 2);
        older.header.seq = 2;
        let eo = seal(&older, &k).expect("seal");
        store
            .put_records(&[(&r, &e), (&older, &eo)], SAMPLE_TIME)
            .expect("put");
    } else {
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    }
    if i.is_multiple_of(5) {
        store
            .add_person(&person(&format!("p{round}-{i}")))
            .expect("person");
        store
            .audit(&[AuditEntry {
                at: SAMPLE_TIME,
                actor: "test".into(),
                action: "person_added".into(),
                org: None,
                record_id: None,
                detail: format!("p{round}-{i}"),
                claimed_org: None,
                count: 1,
            }])
            .expect("audit");
    }
}

/// Checks that every write up to and including `last_ack` of `round` is present.
fn check_acknowledged(store: &Store, round: u32, last_ack: u64) {
    let org = OrgKey::from(&key().verifying_key());
    for i in 0..=last_ack {
        let row = store
            .get_record(&org, &format!("r{round}-{i}"))
            .expect("get")
            .unwrap_or_else(|| panic!("acknowledged record r{round}-{i} lost"));
        if (0..=last_ack).any(|j| j % 3 == 2 && j / 2 == i) {
            assert_eq!(row.seq, 2, "acknowledged update of r{round}-{i} lost");
        }
        if i.is_multiple_of(5) {
            assert!(
                store
                    .person(&format!("p{round}-{i}"))
                    .expect("get")
                    .is_some(),
                "person p{round}-{i} lost"
            );
        }
    }
}

#[test]
#[ignore = "run by `acknowledged_writes_survive_kill_9` as its child process"]
fn child_writer() {
    let (Some(dir), Some(round)) = (std::env::var_os(DIR_VAR), std::env::var(ROUND_VAR).ok())
    else {
        return;
    };
    let round: u32 = round.parse().expect("round");
    let store = Store::open(std::path::Path::new(&dir)).expect("child opens store");
    for i in 0.. {
        write(&store, round, i);
        println!("ack {i}");
    }
}

fn random_below(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    u64::from(nanos).wrapping_mul(6364136223846793005) % n
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut acked_per_round = Vec::new();
    for round in 0..4u32 {
        let mut child = Command::new(&exe)
            .args([
                "child_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let ack = line
                    .strip_prefix("ack ")
                    .and_then(|n| n.parse::<u64>().ok());
                if let Some(n) = ack
                    && tx.send(n).is_err()
                {
                    break;
                }
            }
        });
        // Wait for the first acknowledgement, then kill at a random moment.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child acknowledged a write");
        let deadline = Instant::now() + Duration::from_millis(50 + random_below(400));
        let mut last = first;
        while Instant::now() < deadline {
            if let Ok(n) = rx.recv_timeout(Duration::from_millis(5)) {
                last = n;
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        reader.join().expect("reader");
        // Acks printed before the kill but read only now still count.
        while let Ok(n) = rx.try_recv() {
            last = n;
        }
        acked_per_round.push(last);

        let store = Store::open(dir.path()).expect("reopen after kill -9");
        let problems = store.check_consistency().expect("check");
        assert!(
            problems.is_empty(),
            "inconsistent after kill -9 in round {round}: {problems:?}"
        );
        for (r, &last) in acked_per_round.iter().enumerate() {
            check_acknowledged(&store, r as u32, last);
        }
    }
    assert!(acked_per_round.iter().all(|&n| n > 0));
}
