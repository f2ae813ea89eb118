//! Reconciliation: how two connected nodes find out, cheaply, which
//! records one holds that the other lacks (or holds an older version of),
//! so that after any partition, restart or lost message they agree again.
//! The algorithm is specified in docs/PROTOCOL.md, "Reconciliation"; in
//! short, one round (this node asking a peer) is:
//!
//! 1. `digest`: the fingerprint of everything this node holds. Equal to
//!    the peer's: done, one small message each way. If the peer's set has
//!    not changed since this node last finished a round with it (`settled`),
//!    also done.
//! 2. Otherwise the peer answers with one fingerprint per organisation, and
//!    for each organisation whose fingerprint differs from ours (and that
//!    we admit), range-based set reconciliation over its ids: ask for
//!    ranges, the peer lists a small range's `(id, seq)` pairs or splits a
//!    large one into parts with their fingerprints, and we descend only into
//!    parts whose fingerprints differ from ours. A single changed record
//!    among 100,000 costs about four exchanges.
//! 3. Fetch the records we lack or hold older versions of (`fetch`, in
//!    pages) and ingest them like any others: verified, policy-checked and
//!    stored.
//!
//! Pull only: each side takes what it lacks in its own rounds. A peer that
//! sends a `digest` that differs from ours is announcing it has something
//! (or lacks something); the reconciler then starts a round with it soon,
//! which is how records learned here by reconciliation travel on at once
//! rather than at the next periodic round.
//!
//! Everything a peer says is bounded and checked: the parts must tile the
//! ranges asked for, listed ranges hold at most [`RANGE_LIST_THRESHOLD`]
//! pairs, and a round with one organisation makes at most
//! [`MAX_REQUESTS_PER_ORG`] range requests, so a peer that keeps splitting
//! cannot keep a node busy.

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;
use serde_bytes::ByteBuf;
use skillmesh_protocol::OrgKey;
use skillmesh_protocol::fingerprint::{Accumulator, Fingerprint};

use super::sync::{Fetcher, Stop};
use super::wire::{
    IdRange, MAX_RANGES_PER_REQUEST, MAX_RECORDS_PER_PAGE, OrgFingerprint, RANGE_LIST_THRESHOLD,
    RANGE_SPLIT, RangePart, SyncRequest, SyncResponse,
};
use super::{NetworkError, NetworkHandle, identity};
use crate::federation::Replica;
use crate::policy::Admission;
use crate::service::Service;
use crate::store::StoreError;

/// Most `ranges` requests in one round with one organisation's ids.
pub const MAX_REQUESTS_PER_ORG: usize = 64;

/// A fingerprint as bytes on the wire.
fn fp_bytes(fp: &Fingerprint) -> ByteBuf {
    ByteBuf::from(fp.to_vec())
}

fn fp_from(bytes: &[u8]) -> Option<Fingerprint> {
    bytes.try_into().ok()
}

// ---------------------------------------------------------------- answering

/// Answers a `digest`. Also returns the asker's fingerprint when it differs
/// from ours (the asker holds something we lack, or lacks something).
pub fn answer_digest(
    store: &Replica<'_>,
    fingerprint: &[u8],
    count: u64,
    settled: Option<&[u8]>,
) -> Result<(SyncResponse, Option<Fingerprint>), StoreError> {
    let all = store.fingerprint_all()?;
    let ours = all.fingerprint();
    if fingerprint == ours.as_slice() && count == all.count() {
        return Ok((SyncResponse::InSync, None));
    }
    let theirs = fp_from(fingerprint);
    if settled == Some(ours.as_slice()) {
        return Ok((SyncResponse::Unchanged, theirs));
    }
    let orgs = store
        .fingerprints()?
        .into_iter()
        .map(|(org, acc)| OrgFingerprint {
            org: org.to_hex(),
            count: acc.count(),
            fingerprint: fp_bytes(&acc.fingerprint()),
        })
        .collect();
    Ok((
        SyncResponse::Fingerprints {
            fingerprint: fp_bytes(&ours),
            count: all.count(),
            orgs,
        },
        theirs,
    ))
}

/// Answers `ranges` for `org`: for each range, its pairs when it holds at
/// most [`RANGE_LIST_THRESHOLD`] of them, otherwise [`RANGE_SPLIT`] parts
/// of about equal size with their fingerprints.
pub fn answer_ranges(
    store: &Replica<'_>,
    org: &OrgKey,
    ranges: &[IdRange],
) -> Result<Result<Vec<RangePart>, String>, StoreError> {
    if ranges.len() > MAX_RANGES_PER_REQUEST {
        return Ok(Err(format!(
            "at most {MAX_RANGES_PER_REQUEST} ranges per request"
        )));
    }
    let mut parts = Vec::new();
    for range in ranges {
        if range
            .upper
            .as_deref()
            .is_some_and(|u| u <= range.lower.as_str())
        {
            return Ok(Err(
                "a range's upper bound must be above its lower bound".into()
            ));
        }
        let upper = range.upper.as_deref();
        // One pass lists a small range and counts a large one.
        let mut listed: Vec<(String, u64, ByteBuf)> = Vec::new();
        let mut count = 0u64;
        store.scan_seqs(org, &range.lower, upper, |id, seq, digest| {
            count += 1;
            if count <= RANGE_LIST_THRESHOLD {
                listed.push((id.to_string(), seq, ByteBuf::from(digest.to_vec())));
            }
            true
        })?;
        if count <= RANGE_LIST_THRESHOLD {
            parts.push(RangePart {
                lower: range.lower.clone(),
                upper: range.upper.clone(),
                count,
                fingerprint: None,
                ids: Some(listed),
            });
            continue;
        }
        // A second pass cuts it into parts at every (count / SPLIT)-th id.
        let split = RANGE_SPLIT as u64;
        let mut accs: Vec<Accumulator> = vec![Accumulator::new(); RANGE_SPLIT];
        let mut bounds: Vec<String> = Vec::with_capacity(RANGE_SPLIT - 1);
        let mut i = 0u64;
        store.scan_seqs(org, &range.lower, upper, |id, seq, digest| {
            // Rows added since the first pass fall into the last part.
            let part = ((i * split) / count).min(split - 1) as usize;
            if part > bounds.len() {
                bounds.push(id.to_string());
            }
            accs[part.min(bounds.len())].add(org, id, seq, digest);
            i += 1;
            true
        })?;
        let mut lower = range.lower.clone();
        for (k, acc) in accs.iter().enumerate().take(bounds.len() + 1) {
            let upper = bounds.get(k).cloned().or_else(|| range.upper.clone());
            parts.push(RangePart {
                lower: lower.clone(),
                upper: upper.clone(),
                count: acc.count(),
                fingerprint: Some(fp_bytes(&acc.fingerprint())),
                ids: None,
            });
            if let Some(u) = upper {
                lower = u;
            }
        }
    }
    Ok(Ok(parts))
}

// ------------------------------------------------------------------ asking

/// What this node remembers of one peer between rounds: the fingerprints
/// it last finished reconciling against, overall and per organisation, so
/// a round against an unchanged peer costs one small exchange even when the
/// two nodes hold different sets for good (an organisation one of them
/// blocks, or one over its quota here).
#[derive(Debug, Clone, Default)]
pub struct Memo {
    pub settled: Option<Fingerprint>,
    pub orgs: HashMap<OrgKey, Fingerprint>,
}

/// How a round went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Both hold the same records.
    InSync,
    /// The peer has nothing new since the last round.
    Unchanged,
    /// They differed: in `orgs` organisations; `fetched` records were
    /// fetched and `stored` of them were new here.
    Reconciled {
        orgs: usize,
        fetched: usize,
        stored: usize,
        /// Range and fetch requests the round sent.
        requests: usize,
        /// The round's budget ran out after it stored something: the next
        /// round goes on soon.
        unfinished: bool,
    },
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, NetworkError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NetworkError::Request(e.to_string()))?
        .map_err(|e| NetworkError::Request(format!("local store: {e}")))
}

fn unexpected(r: SyncResponse) -> RoundError {
    match r {
        SyncResponse::Refused { reason } => {
            NetworkError::Request(format!("refused: {reason}")).into()
        }
        SyncResponse::TryLater { reason } => {
            NetworkError::Request(format!("try later: {reason}")).into()
        }
        other => RoundError::Fault(format!("unexpected response {}", variant(&other))),
    }
}

fn variant(r: &SyncResponse) -> &'static str {
    match r {
        SyncResponse::InSync => "in_sync",
        SyncResponse::Unchanged => "unchanged",
        SyncResponse::Fingerprints { .. } => "fingerprints",
        SyncResponse::Ranges { .. } => "ranges",
        SyncResponse::Peers { .. } => "peers",
        SyncResponse::TryLater { .. } => "try_later",
        SyncResponse::Summary { .. } => "summary",
        SyncResponse::Ids { .. } => "ids",
        SyncResponse::Records { .. } => "records",
        SyncResponse::Refused { .. } => "refused",
    }
}

/// Most organisations whose fingerprints differ that one round looks
/// into (each costs a local lookup and at least one request).
pub const MAX_ORGS_PER_ROUND: usize = 4096;

/// How a round failed.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The network failed, the peer refused or was busy, or the local
    /// store failed: the next round tries again.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The peer broke the rules (see docs/PROTOCOL.md §Sync budgets): it
    /// is to be penalised and dropped.
    #[error("peer misbehaved in sync: {0}")]
    Fault(String),
}

/// One round with `peer`: brings this node up to date with it, within
/// the round's [`Budget`](super::sync::Budget).
pub async fn round(
    handle: &NetworkHandle,
    service: &Service,
    peer: PeerId,
    memo: &mut Memo,
) -> Result<Outcome, RoundError> {
    let svc = service.clone();
    let all = blocking(move || svc.replica().fingerprint_all()).await?;
    let request = SyncRequest::Digest {
        fingerprint: fp_bytes(&all.fingerprint()),
        count: all.count(),
        settled: memo.settled.as_ref().map(fp_bytes),
    };
    let (theirs, orgs) = match handle.sync(peer, request).await? {
        SyncResponse::InSync => {
            memo.settled = Some(all.fingerprint());
            return Ok(Outcome::InSync);
        }
        SyncResponse::Unchanged => return Ok(Outcome::Unchanged),
        SyncResponse::Fingerprints {
            fingerprint, orgs, ..
        } => (fingerprint, orgs),
        other => return Err(unexpected(other)),
    };
    let theirs = fp_from(&theirs)
        .ok_or_else(|| RoundError::Fault("a fingerprint is not 16 bytes".into()))?;
    let mut fetcher = Fetcher::new(handle, service, peer);
    let mut differed = 0;
    let walked = walk(&mut fetcher, service, peer, memo, orgs, &mut differed).await;
    let finished = fetcher.finish().await;
    let (fetched, stored, requests) = match (walked, finished) {
        (Err(Stop::Exhausted), Ok((fetched, stored, requests))) if stored > 0 => {
            // Progress: not settled; the next round goes on soon.
            return Ok(Outcome::Reconciled {
                orgs: differed,
                fetched,
                stored,
                requests,
                unfinished: true,
            });
        }
        (_, Err(stop)) | (Err(stop), _) => return Err(stop.into()),
        (Ok(()), Ok(counts)) => counts,
    };
    memo.settled = Some(theirs);
    Ok(Outcome::Reconciled {
        orgs: differed,
        fetched,
        stored,
        requests,
        unfinished: false,
    })
}

impl From<Stop> for RoundError {
    fn from(stop: Stop) -> RoundError {
        match stop {
            Stop::Network(e) => RoundError::Network(e),
            Stop::Fault(f) => RoundError::Fault(f),
            // Reached with nothing stored: the peer's answers led nowhere.
            Stop::Exhausted => {
                RoundError::Fault("did not converge within the round's budget".into())
            }
        }
    }
}

/// The organisations of a `fingerprints` answer that differ from ours:
/// reconciles each one we admit.
async fn walk(
    fetcher: &mut Fetcher<'_>,
    service: &Service,
    peer: PeerId,
    memo: &mut Memo,
    orgs: Vec<OrgFingerprint>,
    differed: &mut usize,
) -> Result<(), Stop> {
    let peer_org = identity::org_of(&peer);
    for entry in orgs {
        let (Ok(org), Some(fp)) = (entry.org.parse::<OrgKey>(), fp_from(&entry.fingerprint)) else {
            return Err(Stop::Fault("a malformed organisation fingerprint".into()));
        };
        if memo.orgs.get(&org) == Some(&fp) {
            continue;
        }
        let svc = service.clone();
        let (admission, ours) = blocking(move || {
            let admission = svc.admission(&org).map_err(|e| match e {
                crate::service::ServiceError::Store(e) => e,
                other => StoreError::NotFound(other.to_string()),
            })?;
            Ok((admission, svc.replica().fingerprint_of(&org)?))
        })
        .await?;
        if ours.fingerprint() == fp {
            memo.orgs.insert(org, fp);
            continue;
        }
        *differed += 1;
        if *differed > MAX_ORGS_PER_ROUND {
            return Err(Stop::Exhausted);
        }
        match admission {
            Admission::Accept => {
                reconcile_org(fetcher, service, org).await?;
            }
            // A peer not (yet) on our allowlist: only its own card, so the
            // "wants to join" queue can say who it is.
            Admission::NotAllowed if Some(org) == peer_org => {
                fetcher.fetch(org, vec!["org-card".into()]).await?;
            }
            _ => {}
        }
        memo.orgs.insert(org, fp);
    }
    Ok(())
}

/// Range-based reconciliation of `org`'s ids with the fetcher's peer;
/// fetches what this node lacks.
async fn reconcile_org(
    fetcher: &mut Fetcher<'_>,
    service: &Service,
    org: OrgKey,
) -> Result<(), Stop> {
    let max_per_org = service.inbound().max_records_per_org;
    let mut pending: VecDeque<IdRange> = VecDeque::from([IdRange {
        lower: String::new(),
        upper: None,
    }]);
    let mut wanted: Vec<String> = Vec::new();
    let mut unfetched = Unfetched::default();
    let mut requests = 0;
    while !pending.is_empty() {
        requests += 1;
        if requests > MAX_REQUESTS_PER_ORG {
            return Err(Stop::Exhausted);
        }
        let n = pending.len().min(MAX_RANGES_PER_REQUEST);
        let asked: Vec<IdRange> = pending.drain(..n).collect();
        let request = SyncRequest::Ranges {
            org: org.to_hex(),
            ranges: asked.clone(),
        };
        let parts = match fetcher.ask(request).await? {
            SyncResponse::Ranges { parts } => parts,
            SyncResponse::Refused { reason } => {
                return Err(NetworkError::Request(format!("refused: {reason}")).into());
            }
            SyncResponse::TryLater { reason } => {
                return Err(NetworkError::Request(format!("try later: {reason}")).into());
            }
            _ => return Err(Stop::Fault("unexpected answer to ranges".into())),
        };
        check_tiling(&asked, &parts).map_err(Stop::Fault)?;
        let svc = service.clone();
        let compared = blocking(move || compare(&svc.replica(), &org, parts, max_per_org)).await?;
        pending.extend(compared.more);
        wanted.extend(compared.want);
        unfetched.add(compared.unfetched);
        while wanted.len() >= MAX_RECORDS_PER_PAGE {
            let page: Vec<String> = wanted.drain(..MAX_RECORDS_PER_PAGE).collect();
            fetcher.fetch(org, page).await?;
        }
    }
    if !wanted.is_empty() {
        fetcher.fetch(org, wanted).await?;
    }
    if let Some(first) = unfetched.first {
        fetcher.refuse_for_quota(org, first, unfetched.n).await?;
    }
    Ok(())
}

/// Records a peer lists that this node did not ask for because their
/// organisation is at its quota here: how many, and the first one's id.
#[derive(Default)]
struct Unfetched {
    first: Option<String>,
    n: u64,
}

impl Unfetched {
    fn add(&mut self, other: Unfetched) {
        if self.first.is_none() {
            self.first = other.first;
        }
        self.n += other.n;
    }
}

/// What [`compare`] found in one answer to a ranges request.
struct Compared {
    /// Ranges whose fingerprints differ, to be asked for in parts.
    more: Vec<IdRange>,
    /// Ids to fetch: theirs is newer or not held here.
    want: Vec<String>,
    /// Ids not held here and not fetched: the organisation is at its quota.
    unfetched: Unfetched,
}

/// Checks that `parts` tile the ranges `asked`, in order: each range is
/// covered by one listed part or by 1 to [`RANGE_SPLIT`] summarised parts
/// that follow each other without gaps.
fn check_tiling(asked: &[IdRange], parts: &[RangePart]) -> Result<(), String> {
    let mut i = 0;
    for range in asked {
        let first = parts.get(i).ok_or("fewer parts than ranges asked")?;
        if first.lower != range.lower {
            return Err("a part does not start where its range does".into());
        }
        let mut k = 0;
        loop {
            let part = parts.get(i).ok_or("the parts stop inside a range")?;
            match (&part.ids, &part.fingerprint) {
                (Some(ids), None) => {
                    if k > 0 || ids.len() as u64 > RANGE_LIST_THRESHOLD {
                        return Err("a listed part is split or too long".into());
                    }
                    if ids.iter().any(|(_, _, d)| d.len() != 32) {
                        return Err("a listed digest is not 32 bytes".into());
                    }
                }
                (None, Some(fp)) if fp.len() == 16 => {}
                _ => return Err("a part must carry either ids or a 16-byte fingerprint".into()),
            }
            if part
                .upper
                .as_deref()
                .is_some_and(|u| u <= part.lower.as_str())
            {
                return Err("an empty or inverted part".into());
            }
            i += 1;
            k += 1;
            if k > RANGE_SPLIT {
                return Err(format!("more than {RANGE_SPLIT} parts for one range"));
            }
            if part.upper == range.upper {
                break;
            }
            let next = parts.get(i).ok_or("the parts stop inside a range")?;
            if Some(&next.lower) != part.upper.as_ref() {
                return Err("parts leave a gap or overlap".into());
            }
        }
    }
    if i != parts.len() {
        return Err("more parts than the ranges asked for".into());
    }
    Ok(())
}

/// Compares the peer's parts with what this node holds: which ranges to
/// look into further, and which ids to fetch. A new id of an organisation
/// that has reached `max_per_org` records here is not fetched (it would
/// be refused).
fn compare(
    store: &Replica<'_>,
    org: &OrgKey,
    parts: Vec<RangePart>,
    max_per_org: u64,
) -> Result<Compared, StoreError> {
    let at_quota = store.org_live_count(org)? >= max_per_org;
    let mut more = Vec::new();
    let mut want = Vec::new();
    let mut unfetched = Unfetched::default();
    for part in parts {
        let upper = part.upper.as_deref();
        match (part.ids, part.fingerprint) {
            (Some(ids), _) => {
                let mut held: HashMap<String, (u64, [u8; 32])> = HashMap::new();
                store.scan_seqs(org, &part.lower, upper, |id, seq, digest| {
                    held.insert(id.to_string(), (seq, *digest));
                    true
                })?;
                for (id, seq, digest) in ids {
                    // Ids outside the part would not be asked for by a
                    // well-behaved peer; skip them.
                    if id < part.lower || upper.is_some_and(|u| id.as_str() >= u) {
                        continue;
                    }
                    // Theirs is newer, or the same `seq` with a lower digest
                    // (the version that wins an equivocation everywhere).
                    match held.get(&id) {
                        Some((h, _)) if *h > seq => {}
                        Some((h, d)) if *h == seq && d.as_slice() <= digest.as_slice() => {}
                        None if at_quota => unfetched.add(Unfetched {
                            first: Some(id),
                            n: 1,
                        }),
                        _ => want.push(id),
                    }
                }
            }
            (None, Some(fp)) => {
                let mut ours = Accumulator::new();
                store.scan_seqs(org, &part.lower, upper, |id, seq, digest| {
                    ours.add(org, id, seq, digest);
                    true
                })?;
                if ours.fingerprint().as_slice() != fp.as_slice() {
                    more.push(IdRange {
                        lower: part.lower,
                        upper: part.upper,
                    });
                }
            }
            (None, None) => {}
        }
    }
    Ok(Compared {
        more,
        want,
        unfetched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use skillmesh_protocol::samples::{self, SAMPLE_TIME};
    use skillmesh_protocol::{Kind, seal};

    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        (dir, store)
    }

    fn put(store: &Store, key: &SigningKey, id: &str, seq: u64) {
        let mut r = samples::record(OrgKey::from(&key.verifying_key()), Kind::TalkOffer);
        r.header.id = id.into();
        r.header.seq = seq;
        let e = seal(&r, key).expect("seal");
        store.put_record(&r, &e, SAMPLE_TIME).expect("put");
    }

    /// Runs the range exchange between two stores directly: what the
    /// client would fetch, and how many requests it took.
    fn exchange(client: &Store, server: &Store, org: &OrgKey) -> (Vec<String>, usize) {
        let mut pending = vec![IdRange {
            lower: String::new(),
            upper: None,
        }];
        let (mut wanted, mut requests) = (Vec::new(), 0);
        while !pending.is_empty() {
            requests += 1;
            assert!(requests <= MAX_REQUESTS_PER_ORG, "did not converge");
            let n = pending.len().min(MAX_RANGES_PER_REQUEST);
            let asked: Vec<IdRange> = pending.drain(..n).collect();
            let parts = answer_ranges(&Replica::of(server), org, &asked)
                .expect("store")
                .expect("valid request");
            check_tiling(&asked, &parts).expect("tiling");
            let compared = compare(&Replica::of(client), org, parts, u64::MAX).expect("compare");
            pending.extend(compared.more);
            wanted.extend(compared.want);
        }
        wanted.sort();
        (wanted, requests)
    }

    #[test]
    fn at_the_quota_only_newer_versions_are_fetched_and_the_rest_is_counted() {
        let key = SigningKey::from_bytes(&[22; 32]);
        let org = OrgKey::from(&key.verifying_key());
        let (_c, client) = store();
        let (_s, server) = store();
        for id in ["a", "b", "c", "d", "e"] {
            put(&server, &key, id, 2);
        }
        for id in ["a", "c"] {
            put(&client, &key, id, 2);
        }
        put(&client, &key, "b", 1);
        let whole = [IdRange {
            lower: String::new(),
            upper: None,
        }];
        let parts = answer_ranges(&Replica::of(&server), &org, &whole)
            .expect("store")
            .expect("valid request");
        let compared = compare(&Replica::of(&client), &org, parts, 3).expect("compare");
        // The newer version of a held record takes no quota room; the two
        // records not held are not asked for, but counted.
        assert_eq!(compared.want, vec!["b".to_string()]);
        assert_eq!(compared.unfetched.first.as_deref(), Some("d"));
        assert_eq!(compared.unfetched.n, 2);
        // Below the quota they are fetched.
        let parts = answer_ranges(&Replica::of(&server), &org, &whole)
            .expect("store")
            .expect("valid request");
        let compared = compare(&Replica::of(&client), &org, parts, 4).expect("compare");
        assert_eq!(compared.want, vec!["b", "d", "e"]);
        assert_eq!(compared.unfetched.n, 0);
    }

    #[test]
    fn range_reconciliation_finds_exactly_what_the_client_lacks() {
        let key = SigningKey::from_bytes(&[21; 32]);
        let org = OrgKey::from(&key.verifying_key());
        let (_c, client) = store();
        let (_s, server) = store();
        for i in 0..3000 {
            let id = format!("item-{i:05}");
            put(&server, &key, &id, 2);
            match i {
                // The client lacks these,
                7 | 500 | 1999 | 2500 | 2999 => {}
                // holds an older version of these,
                42 | 1000 | 2001 => put(&client, &key, &id, 1),
                // and holds a newer version of this one.
                1500 => put(&client, &key, &id, 3),
                _ => put(&client, &key, &id, 2),
            }
        }
        // Records only the client holds are not the server's to send.
        put(&client, &key, "only-here", 1);
        let (wanted, requests) = exchange(&client, &server, &org);
        let expect: Vec<String> = [7, 42, 500, 1000, 1999, 2001, 2500, 2999]
            .iter()
            .map(|i| format!("item-{i:05}"))
            .collect();
        assert_eq!(wanted, expect);
        // Each level narrows sixteen-fold: 3000 → 188 → 12 listed.
        assert!(requests <= 4, "{requests} requests");

        // Identical sets: the first answer's parts all match.
        let (_c2, same) = store();
        for i in 0..3000 {
            put(&same, &key, &format!("item-{i:05}"), 2);
        }
        let (wanted, requests) = exchange(&same, &server, &org);
        assert!(wanted.is_empty());
        assert_eq!(requests, 1);
    }

    #[test]
    fn of_two_versions_with_the_same_seq_only_the_holder_of_the_loser_fetches() {
        use skillmesh_protocol::fingerprint::envelope_digest;
        let key = SigningKey::from_bytes(&[24; 32]);
        let org = OrgKey::from(&key.verifying_key());
        let mut r = samples::record(org, Kind::TalkOffer);
        r.header.id = "twice".into();
        let one = seal(&r, &key).expect("seal");
        let mut r2 = r.clone();
        if let skillmesh_protocol::Body::TalkOffer(t) = &mut r2.body {
            t.title = "The other version".into();
        }
        let two = seal(&r2, &key).expect("seal");
        let ((wr, we), (lr, le)) =
            if envelope_digest(one.as_bytes()) < envelope_digest(two.as_bytes()) {
                ((&r, &one), (&r2, &two))
            } else {
                ((&r2, &two), (&r, &one))
            };
        let (_w, winner) = store();
        let (_l, loser) = store();
        winner.put_record(wr, we, SAMPLE_TIME).expect("put");
        loser.put_record(lr, le, SAMPLE_TIME).expect("put");
        for i in 0..300 {
            put(&winner, &key, &format!("other-{i:03}"), 1);
            put(&loser, &key, &format!("other-{i:03}"), 1);
        }
        // Same ids and seqs, different fingerprints.
        assert_ne!(
            winner.fingerprint_of(&org).expect("fp"),
            loser.fingerprint_of(&org).expect("fp")
        );
        assert_eq!(exchange(&loser, &winner, &org).0, vec!["twice".to_string()]);
        assert!(exchange(&winner, &loser, &org).0.is_empty());
    }

    #[test]
    fn a_small_set_is_listed_at_once_and_bad_ranges_are_refused() {
        let key = SigningKey::from_bytes(&[22; 32]);
        let org = OrgKey::from(&key.verifying_key());
        let (_s, server) = store();
        for i in 0..10 {
            put(&server, &key, &format!("x{i}"), 1);
        }
        let parts = answer_ranges(&Replica::of(&server), &org, &[range("", None)])
            .expect("store")
            .expect("valid");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].ids.as_ref().map(Vec::len), Some(10));
        let inverted =
            answer_ranges(&Replica::of(&server), &org, &[range("b", Some("a"))]).expect("store");
        assert!(inverted.is_err());
        let too_many = vec![range("", None); MAX_RANGES_PER_REQUEST + 1];
        assert!(
            answer_ranges(&Replica::of(&server), &org, &too_many)
                .expect("store")
                .is_err()
        );
    }

    #[test]
    fn a_digest_is_answered_in_sync_unchanged_or_with_fingerprints() {
        let key = SigningKey::from_bytes(&[23; 32]);
        let (_s, server) = store();
        put(&server, &key, "a", 1);
        let all = server.fingerprint_all().expect("fp");
        let fp = all.fingerprint();
        let (r, differs) =
            answer_digest(&Replica::of(&server), &fp, all.count(), None).expect("answer");
        assert_eq!((r, differs), (SyncResponse::InSync, None));
        let other = Accumulator::new().fingerprint();
        let (r, differs) =
            answer_digest(&Replica::of(&server), &other, 0, Some(&fp)).expect("answer");
        assert_eq!((r, differs), (SyncResponse::Unchanged, Some(other)));
        let (r, _) = answer_digest(&Replica::of(&server), &other, 0, None).expect("answer");
        match r {
            SyncResponse::Fingerprints { orgs, count, .. } => {
                assert_eq!(count, 1);
                assert_eq!(orgs.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    fn part(lower: &str, upper: Option<&str>, listed: bool) -> RangePart {
        RangePart {
            lower: lower.into(),
            upper: upper.map(Into::into),
            count: 1,
            fingerprint: (!listed).then(|| ByteBuf::from(vec![0u8; 16])),
            ids: listed.then(Vec::new),
        }
    }

    fn range(lower: &str, upper: Option<&str>) -> IdRange {
        IdRange {
            lower: lower.into(),
            upper: upper.map(Into::into),
        }
    }

    #[test]
    fn parts_must_tile_the_ranges_asked_for() {
        let asked = [range("", Some("m")), range("m", None)];
        let good = [
            part("", Some("c"), false),
            part("c", Some("m"), false),
            part("m", None, true),
        ];
        assert_eq!(check_tiling(&asked, &good), Ok(()));
        let gap = [
            part("", Some("c"), false),
            part("d", Some("m"), false),
            part("m", None, true),
        ];
        assert!(check_tiling(&asked, &gap).is_err());
        let short = [part("", Some("m"), true)];
        assert!(check_tiling(&asked, &short).is_err());
        let extra = [
            part("", Some("m"), true),
            part("m", None, true),
            part("z", None, true),
        ];
        assert!(check_tiling(&asked, &extra).is_err());
        let split_list = [
            part("", Some("c"), false),
            part("c", Some("m"), true),
            part("m", None, true),
        ];
        assert!(check_tiling(&asked, &split_list).is_err());
        let inverted = [part("", Some("m"), true), part("m", Some("a"), false)];
        assert!(check_tiling(&asked, &inverted).is_err());
        let too_many: Vec<RangePart> = (0..=RANGE_SPLIT)
            .map(|i| {
                let lower = if i == 0 {
                    String::new()
                } else {
                    format!("{i:02}")
                };
                let upper = if i == RANGE_SPLIT {
                    None
                } else {
                    Some(format!("{:02}", i + 1))
                };
                RangePart {
                    lower,
                    upper,
                    count: 1,
                    fingerprint: Some(ByteBuf::from(vec![0u8; 16])),
                    ids: None,
                }
            })
            .collect();
        assert!(check_tiling(&[range("", None)], &too_many).is_err());
    }
}
