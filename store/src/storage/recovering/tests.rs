//! The recovery logic over an engine that fails as sled does: a disk in
//! memory that can be made full, and an engine that, once a write failed,
//! refuses every write until it is opened again.

use proptest::prelude::*;

use super::super::testing::{Disk, FaultyOpener};
use super::*;

const FAST: Duration = Duration::from_millis(5);

fn store(disk: &Arc<Disk>) -> Recovering<FaultyOpener> {
    Recovering::open_with(FaultyOpener(disk.clone()), FAST, FAST * 4).expect("open")
}

fn put(kv: &dyn Kv, key: &str) -> Result<(), StorageError> {
    let mut b = Batch::new();
    b.put(key.as_bytes(), key.as_bytes());
    kv.commit(b)
}

fn has(kv: &dyn Kv, key: &str) -> bool {
    kv.get(key.as_bytes()).expect("get").is_some()
}

/// Polls `done` until it holds, failing after `within`.
fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Lets the engine open again, and checks that the store then recovers
/// by itself with `before` kept and takes a write.
fn recovers_once_it_opens(disk: &Disk, kv: &Recovering<FaultyOpener>) {
    disk.refuse_open.store(false, Ordering::Release);
    wait_until("the store recovers", Duration::from_secs(5), || {
        kv.write_fault().is_none()
    });
    assert!(has(kv, "before"));
    put(kv, "after").expect("write");
}

#[test]
fn a_full_disk_refuses_writes_and_the_store_recovers_by_itself_when_space_returns() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    put(&kv, "before").expect("a write with room");
    assert_eq!(kv.write_fault(), None);

    disk.full.store(true, Ordering::Release);
    let err = put(&kv, "during").expect_err("the disk is full");
    let StorageError::Unwritable(fault) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(fault.cause, FaultCause::DiskFull);
    assert!(fault.reads_work);
    assert_eq!(kv.write_fault().as_ref(), Some(fault));
    // Later writes are refused without reaching the engine.
    let applies = disk.applies.load(Ordering::Acquire);
    for i in 0..5 {
        assert!(matches!(
            put(&kv, &format!("refused{i}")),
            Err(StorageError::Unwritable(_))
        ));
    }
    assert_eq!(disk.applies.load(Ordering::Acquire), applies);
    assert!(has(&kv, "before"), "reads go on");
    // Still full: the recovery thread keeps probing and leaves the engine.
    std::thread::sleep(FAST * 10);
    assert_eq!(disk.opens.load(Ordering::Acquire), 1);
    assert!(kv.write_fault().is_some());

    disk.full.store(false, Ordering::Release);
    // No write is needed: the recovery thread reopens the engine.
    wait_until("the store recovers", Duration::from_secs(5), || {
        kv.write_fault().is_none()
    });
    assert_eq!(kv.recoveries(), 1);
    assert_eq!(disk.opens.load(Ordering::Acquire), 2);
    put(&kv, "after").expect("writes work again");
    assert!(has(&kv, "before") && has(&kv, "after"));
    assert!(!has(&kv, "during"), "the write that failed is gone");
    assert!(!has(&kv, "refused0"));
}

#[test]
fn a_write_after_space_returns_recovers_the_store_itself() {
    let disk = Arc::new(Disk::default());
    // Attempts due at once: the write does not wait for the thread.
    let kv = Recovering::open_with(FaultyOpener(disk.clone()), Duration::ZERO, FAST).expect("open");
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "during").is_err());
    disk.full.store(false, Ordering::Release);
    put(&kv, "after").expect("the write reopens the store and succeeds");
    assert!(has(&kv, "after"));
    assert_eq!(kv.write_fault(), None);
}

#[test]
fn a_scan_in_flight_goes_on_across_a_reopen_without_holding_it_up() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    let mut b = Batch::new();
    let n = CHUNK * 3 + 7;
    for i in 0..n {
        b.put(format!("k{i:05}").into_bytes(), b"v".to_vec());
    }
    kv.commit(b).expect("commit");

    let mut scan = kv.scan_prefix(b"k");
    let first: Vec<Entry> = scan.by_ref().take(10).map(|r| r.expect("entry")).collect();
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "k99999-failed").is_err());
    disk.full.store(false, Ordering::Release);
    // The scan is paused mid-way; the reopen does not wait for it (that
    // would take DRAIN_WAIT).
    wait_until("the store recovers", Duration::from_secs(2), || {
        kv.write_fault().is_none()
    });
    assert_eq!(kv.recoveries(), 1);
    let rest: Vec<Entry> = scan.map(|r| r.expect("entry")).collect();
    let keys: Vec<Vec<u8>> = first.into_iter().chain(rest).map(|(k, _)| k).collect();
    let want: Vec<Vec<u8>> = (0..n).map(|i| format!("k{i:05}").into_bytes()).collect();
    assert_eq!(keys, want);
}

#[test]
fn no_acknowledged_write_is_lost_when_writers_race_a_fault_and_a_reopen() {
    let disk = Arc::new(Disk::default());
    let kv = Arc::new(store(&disk));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (kv, stop) = (kv.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Acquire) {
                    let key = format!("w{w}-{i}");
                    if put(kv.as_ref(), &key).is_ok() {
                        acked.push(key);
                    }
                    i += 1;
                }
                acked
            })
        })
        .collect();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(20));
        disk.full.store(true, Ordering::Release);
        wait_until("a write fails", Duration::from_secs(5), || {
            kv.write_fault().is_some()
        });
        std::thread::sleep(Duration::from_millis(20));
        disk.full.store(false, Ordering::Release);
        wait_until("the store recovers", Duration::from_secs(5), || {
            kv.write_fault().is_none()
        });
    }
    stop.store(true, Ordering::Release);
    let acked: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    assert!(kv.recoveries() >= 5);
    assert!(!acked.is_empty());
    drop(kv);
    // What a fresh open finds is what was flushed.
    let reopened = store(&disk);
    let missing: Vec<&String> = acked.iter().filter(|k| !has(&reopened, k)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
}

/// A commit is one operation on one engine: a reopen cannot slip in
/// between its apply and its flush (the batch would be applied to the old
/// engine, lost with it, and flushed, "durably", on the new one).
#[test]
fn a_reopen_waits_for_a_commit_in_flight_and_the_commit_is_not_acknowledged_on_another_engine() {
    let disk = Arc::new(Disk::default());
    let kv = Arc::new(store(&disk));
    disk.pause.hold(b"slow");
    let writer = {
        let kv = kv.clone();
        std::thread::spawn(move || put(kv.as_ref(), "slow"))
    };
    disk.pause.wait_applied();
    // Another write fails: the engine is poisoned, the disk has room again.
    disk.full.store(true, Ordering::Release);
    assert!(put(kv.as_ref(), "fails").is_err());
    disk.full.store(false, Ordering::Release);
    // The recovery thread is reopening by now, waiting for the engine.
    std::thread::sleep(Duration::from_millis(100));
    disk.pause.release_apply();
    // Time for the reopen to happen if the commit in flight let it.
    std::thread::sleep(Duration::from_millis(200));
    disk.pause.release_flush();
    let slow = writer.join().expect("writer");
    // Its flush ran on the engine it applied to, which the fault poisoned.
    assert!(
        slow.is_err(),
        "acknowledged, though its batch was applied to the engine a reopen replaced"
    );
    wait_until("the store recovers", Duration::from_secs(10), || {
        kv.write_fault().is_none()
    });
    put(kv.as_ref(), "after").expect("write");
    drop(kv);
    let reopened = store(&disk);
    assert!(has(&reopened, "after"));
}

#[test]
fn when_the_reopen_fails_reads_fail_too_until_it_opens() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    put(&kv, "before").expect("write");
    disk.refuse_open.store(true, Ordering::Release);
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "during").is_err());
    // The disk takes writes again but the engine does not open.
    disk.full.store(false, Ordering::Release);
    wait_until("the reopen fails", Duration::from_secs(5), || {
        kv.write_fault().is_some_and(|f| !f.reads_work)
    });
    assert!(matches!(
        kv.get(b"before"),
        Err(StorageError::Unreadable(_))
    ));
    let mut scan = kv.scan_prefix(b"");
    assert!(matches!(
        scan.next(),
        Some(Err(StorageError::Unreadable(_)))
    ));
    assert!(scan.next().is_none(), "a failed scan ends");
    assert!(matches!(put(&kv, "x"), Err(StorageError::Unwritable(_))));
    recovers_once_it_opens(&disk, &kv);
}

#[test]
fn a_read_that_must_write_while_the_disk_is_full_is_refused_as_part_of_the_fault() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    put(&kv, "before").expect("write");
    disk.reads_write.store(true, Ordering::Release);
    // A read before any fault is not one.
    assert!(has(&kv, "before"));
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "during").is_err());
    let err = kv.get(b"before").expect_err("the engine fails the read");
    let StorageError::Unreadable(fault) = &err else {
        panic!("not refused as part of the fault: {err:?}");
    };
    assert_eq!(fault.cause, FaultCause::DiskFull);
    assert!(!fault.reads_work, "this read did not work");
    let mut scan = kv.scan_prefix(b"");
    assert!(matches!(
        scan.next(),
        Some(Err(StorageError::Unreadable(_)))
    ));
    // The store as a whole still says reads go on (most do, on sled).
    assert!(kv.write_fault().is_some_and(|f| f.reads_work));
    disk.full.store(false, Ordering::Release);
    wait_until("the store recovers", Duration::from_secs(5), || {
        kv.write_fault().is_none()
    });
    assert!(has(&kv, "before"));
}

#[test]
fn dropping_a_faulted_store_ends_its_recovery_thread() {
    let disk = Arc::new(Disk::default());
    let kv = Recovering::open_with(
        FaultyOpener(disk.clone()),
        Duration::from_secs(3600),
        Duration::from_secs(3600),
    )
    .expect("open");
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "x").is_err());
    let weak = Arc::downgrade(&kv.shared);
    let started = Instant::now();
    drop(kv);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the thread was woken"
    );
    assert!(weak.upgrade().is_none(), "nothing holds the store");
}

#[test]
fn prefix_ends() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
    assert_eq!(prefix_end(b"\xff\xff"), None);
    assert_eq!(prefix_end(b""), None);
}

#[test]
fn the_probe_writes_and_removes_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    super::super::probe_writable(dir.path(), 100_000).expect("probe");
    assert!(!dir.path().join(super::super::PROBE_FILE).exists());
    let gone = dir.path().join("missing");
    assert!(super::super::probe_writable(&gone, 10).is_err());
}

#[test]
fn sled_opens_past_a_snapshot_it_did_not_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let kv = super::super::open(dir.path()).expect("open");
        put(&kv, "kept").expect("write");
    }
    // What a snapshot write that hit a full disk leaves behind.
    std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFFF.generating"), b"").expect("write");
    let kv = super::super::open(dir.path()).expect("opens");
    assert!(has(&kv, "kept"));
    assert!(!dir.path().join("snap.FFFFFFFFFFFFFFFF.generating").exists());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Scans read in chunks return what one pass over the map would, from
    /// either end and mixed.
    #[test]
    fn chunked_scans_match_the_map(
        keys in proptest::collection::btree_set(proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xfeu8), Just(0xffu8), any::<u8>()], 0..4), 0..700),
        prefix in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..2),
        ends in proptest::collection::vec(any::<bool>(), 0..800),
    ) {
        let disk = Arc::new(Disk::default());
        let kv = store(&disk);
        let mut b = Batch::new();
        for k in &keys {
            b.put(k.clone(), k.clone());
        }
        kv.commit(b).expect("commit");
        let want: Vec<Vec<u8>> = keys.iter().filter(|k| k.starts_with(&prefix)).cloned().collect();
        let forward: Vec<Vec<u8>> = kv.scan_prefix(&prefix).map(|r| r.expect("entry").0).collect();
        prop_assert_eq!(&forward, &want);
        let backward: Vec<Vec<u8>> = kv.scan_prefix(&prefix).rev().map(|r| r.expect("entry").0).collect();
        let mut reversed = want.clone();
        reversed.reverse();
        prop_assert_eq!(&backward, &reversed);
        // Mixed: front and back meet without overlap or gap.
        let mut scan = kv.scan_prefix(&prefix);
        let (mut front, mut back) = (Vec::new(), Vec::new());
        let mut sides = ends.iter().copied().chain(std::iter::repeat(true));
        loop {
            let from_front = sides.next().unwrap_or(true);
            let next = if from_front { scan.next() } else { scan.next_back() };
            match next {
                None => break,
                Some(r) => {
                    let k = r.expect("entry").0;
                    if from_front { front.push(k) } else { back.push(k) }
                }
            }
        }
        back.reverse();
        front.extend(back);
        prop_assert_eq!(&front, &want);
        // A range scan.
        if let (Some(lo), Some(hi)) = (keys.iter().nth(keys.len() / 4), keys.iter().nth(keys.len() * 3 / 4)) {
            let got: Vec<Vec<u8>> = kv.range(lo, hi).map(|r| r.expect("entry").0).collect();
            let want: Vec<Vec<u8>> = keys.iter().filter(|k| *k >= lo && *k < hi).cloned().collect();
            prop_assert_eq!(got, want);
        }
    }
}

#[test]
fn releasing_the_cache_reopens_the_engine_and_keeps_every_write() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    put(&kv, "before").expect("write");
    assert_eq!(disk.opens.load(Ordering::Acquire), 1);
    assert!(kv.release_cache().expect("release"));
    assert_eq!(disk.opens.load(Ordering::Acquire), 2, "a new engine");
    assert!(has(&kv, "before"));
    put(&kv, "after").expect("write");
    assert!(has(&kv, "after"));
}

#[test]
fn a_faulted_store_is_left_to_its_recovery_when_asked_to_release_its_cache() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    disk.full.store(true, Ordering::Release);
    assert!(put(&kv, "during").is_err());
    let opens = disk.opens.load(Ordering::Acquire);
    assert!(!kv.release_cache().expect("release"));
    assert_eq!(disk.opens.load(Ordering::Acquire), opens, "not reopened");
    disk.full.store(false, Ordering::Release);
    wait_until("the store recovers", Duration::from_secs(5), || {
        kv.write_fault().is_none()
    });
}

#[test]
fn when_releasing_the_cache_cannot_reopen_the_store_it_recovers_as_after_a_fault() {
    let disk = Arc::new(Disk::default());
    let kv = store(&disk);
    put(&kv, "before").expect("write");
    disk.refuse_open.store(true, Ordering::Release);
    assert!(matches!(
        kv.release_cache(),
        Err(StorageError::Unreadable(_))
    ));
    assert!(kv.write_fault().is_some_and(|f| !f.reads_work));
    assert!(matches!(put(&kv, "x"), Err(StorageError::Unwritable(_))));
    recovers_once_it_opens(&disk, &kv);
}
