//! Per-owner keys against a real sled database: a person's inbox, outbox
//! and items, and an offer's requests, are read through the index, follow
//! changes of owner and deletions, and are built for a store written before
//! the index existed.

use skillmesh_protocol::samples;
use skillmesh_protocol::{Kind, OrgKey};
use skillmesh_store::storage::{self, Batch, Kv};
use skillmesh_store::{
    InboxEntry, InboxStatus, ItemState, OutboxEntry, OutboxStatus, OwnItem, Store,
};

fn inbox(from: u8, id: &str, owner: Option<&str>) -> InboxEntry {
    InboxEntry {
        from_org: OrgKey::from_bytes([from; 32]),
        id: id.into(),
        offer_id: "offer-1".into(),
        owner: owner.map(str::to_string),
        requester_name: None,
        goal: "Learn".into(),
        preferred_times: String::new(),
        message: String::new(),
        name_to_group: false,
        session: None,
        contribution: None,
        withdraw: None,
        status: InboxStatus::Pending,
        reply: String::new(),
        answer: None,
        answer_delivered: false,
        received_at: 0,
        answered_at: None,
        kudos: None,
        ask: None,
    }
}

fn outbox(id: &str, requester: &str) -> OutboxEntry {
    OutboxEntry {
        id: id.into(),
        requester: requester.into(),
        offer_org: OrgKey::from_bytes([7; 32]),
        offer_id: "offer-9".into(),
        offer_title: "Rust".into(),
        session: None,
        contribution: None,
        withdraw: None,
        goal: "Learn".into(),
        status: OutboxStatus::Waiting,
        detail: String::new(),
        contact: None,
        group: None,
        answer_seq: 0,
        envelope: String::new(),
        kudos: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn item(id: &str, owner: Option<&str>) -> OwnItem {
    OwnItem {
        id: id.into(),
        owner: owner.map(str::to_string),
        body: samples::body(Kind::TalkOffer),
        state: ItemState::Draft,
        published_seq: 0,
        created_at: 0,
        updated_at: 0,
    }
}

fn ids<T>(rows: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<String> {
    rows.iter().map(|r| id(r).to_string()).collect()
}

#[test]
fn each_person_reads_their_own_rows_and_nobody_elses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    // "p1" is a prefix of "p10": the index must not mix them up.
    store.add_inbox(&inbox(1, "r1", Some("p1"))).expect("add");
    store.add_inbox(&inbox(2, "r2", Some("p10"))).expect("add");
    store.add_inbox(&inbox(3, "r3", None)).expect("add");
    // "offer-1" is a prefix of "offer-10" too.
    let other_offer = InboxEntry {
        offer_id: "offer-10".into(),
        ..inbox(4, "r4", Some("p1"))
    };
    store.add_inbox(&other_offer).expect("add");
    store.put_outbox(&outbox("o1", "p1")).expect("put");
    store.put_outbox(&outbox("o2", "p10")).expect("put");
    store
        .add_item_audited(&item("i1", Some("p1")), &[])
        .expect("add");
    store
        .add_item_audited(&item("i2", Some("p10")), &[])
        .expect("add");
    store.add_item_audited(&item("i3", None), &[]).expect("add");

    let inbox_ids = |p: &str| ids(store.inbox_of(p).expect("inbox"), |e| &e.id);
    let outbox_ids = |p: &str| ids(store.outbox_of(p).expect("outbox"), |e| &e.id);
    let item_ids = |p: &str| ids(store.items_of(p).expect("items"), |i| &i.id);
    let offer_ids = |o: &str| ids(store.inbox_for_offer(o).expect("offer"), |e| &e.id);
    assert_eq!(inbox_ids("p1"), ["r1", "r4"]);
    assert_eq!(inbox_ids("p10"), ["r2"]);
    assert_eq!(outbox_ids("p1"), ["o1"]);
    assert_eq!(item_ids("p1"), ["i1"]);
    assert_eq!(item_ids("p10"), ["i2"]);
    assert!(inbox_ids("p").is_empty());
    assert_eq!(offer_ids("offer-1"), ["r1", "r2", "r3"]);
    assert_eq!(offer_ids("offer-10"), ["r4"]);
    assert!(offer_ids("offer").is_empty());

    // A changed owner moves the row; a deleted item leaves no index row.
    let mut moved = inbox(1, "r1", Some("p10"));
    moved.status = InboxStatus::Accepted;
    store.update_inbox(&moved).expect("update");
    assert_eq!(inbox_ids("p1"), ["r4"]);
    assert_eq!(inbox_ids("p10"), ["r1", "r2"]);
    assert_eq!(offer_ids("offer-1"), ["r1", "r2", "r3"], "the offer stays");
    store.update_item(&item("i1", None)).expect("update");
    assert!(item_ids("p1").is_empty());
    store.delete_item("i2").expect("delete");
    assert!(item_ids("p10").is_empty());
    drop(store);
    let kv = storage::open(dir.path()).expect("kv");
    assert_eq!(
        kv.scan_prefix(b"itemown/").count(),
        0,
        "no stale index rows"
    );
}

#[test]
fn opening_a_schema_5_store_indexes_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path()).expect("open");
        store.add_inbox(&inbox(1, "r1", Some("ana"))).expect("add");
        store.put_outbox(&outbox("o1", "ana")).expect("put");
        store
            .add_item_audited(&item("i1", Some("ana")), &[])
            .expect("add");
    }
    // As a store written before the index: no index rows, schema 5.
    {
        let kv = storage::open(dir.path()).expect("kv");
        let mut b = Batch::new();
        for prefix in [&b"inown/"[..], b"outreq/", b"itemown/", b"inoffer/"] {
            for row in kv.scan_prefix(prefix) {
                b.delete(row.expect("scan").0);
            }
        }
        b.put(b"meta/schema".to_vec(), 5u32.to_be_bytes().to_vec());
        kv.commit(b).expect("commit");
    }
    let store = Store::open(dir.path()).expect("migrate");
    assert_eq!(store.inbox_of("ana").expect("inbox").len(), 1);
    assert_eq!(store.outbox_of("ana").expect("outbox").len(), 1);
    assert_eq!(store.items_of("ana").expect("items").len(), 1);
    assert_eq!(store.inbox_for_offer("offer-1").expect("offer").len(), 1);
}

#[test]
fn opening_a_schema_6_store_indexes_the_inbox_by_offer() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path()).expect("open");
        store.add_inbox(&inbox(1, "r1", Some("ana"))).expect("add");
        store.add_inbox(&inbox(2, "r2", None)).expect("add");
    }
    // As a store written before the per-offer index: schema 6.
    {
        let kv = storage::open(dir.path()).expect("kv");
        let mut b = Batch::new();
        for row in kv.scan_prefix(b"inoffer/") {
            b.delete(row.expect("scan").0);
        }
        b.put(b"meta/schema".to_vec(), 6u32.to_be_bytes().to_vec());
        kv.commit(b).expect("commit");
        assert_eq!(kv.scan_prefix(b"inoffer/").count(), 0);
    }
    let store = Store::open(dir.path()).expect("migrate");
    let found = store.inbox_for_offer("offer-1").expect("offer");
    assert_eq!(ids(found, |e| &e.id), ["r1", "r2"]);
    assert_eq!(store.inbox_of("ana").expect("inbox").len(), 1);
}
