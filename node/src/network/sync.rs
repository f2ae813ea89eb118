//! The sync protocol (`/skillmesh/sync/1`): answering every request (the
//! reconciliation requests are worked out in [`super::reconcile`]), and
//! fetching records in pages. Retractions are records like any other, so
//! they travel too.

use libp2p::PeerId;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use skillmesh_protocol::OrgKey;

use skillmesh_protocol::fingerprint::Fingerprint;

use super::wire::{
    KnownPeer, MAX_ADDRS_PER_PEER, MAX_IDS_PER_PAGE, MAX_PEERS_PER_ANSWER, MAX_RECORDS_PER_PAGE,
    OrgSummary, SyncRequest, SyncResponse,
};
use super::{NetworkError, NetworkHandle, identity, reconcile};
use crate::federation::Replica;
use crate::metrics::Via;
use crate::policy::Admission;
use crate::service::{Ingested, Service};
use crate::store::{Actor, StoreError};

/// SHA-256 over the sorted `(id, seq)` pairs of `org`: for each pair, the
/// id's length as u16 big-endian, the id bytes, and seq as u64 big-endian.
pub fn org_digest(store: &Replica<'_>, org: &OrgKey) -> Result<(u64, [u8; 32]), StoreError> {
    let mut hasher = Sha256::new();
    let mut count = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = store.seqs_of(org, after.as_deref(), 4096)?;
        for (id, seq) in &page {
            let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
            hasher.update(len.to_be_bytes());
            hasher.update(id.as_bytes());
            hasher.update(seq.to_be_bytes());
            count += 1;
        }
        match page.last() {
            Some((id, _)) if page.len() == 4096 => after = Some(id.clone()),
            _ => break,
        }
    }
    Ok((count, hasher.finalize().into()))
}

/// Answers a sync request from `peer`. The second value is the peer's
/// fingerprint when a `digest` showed that its records differ from ours.
pub fn answer(
    service: &Service,
    peer: &PeerId,
    request: SyncRequest,
) -> (SyncResponse, Option<Fingerprint>) {
    match answer_inner(service, peer, request) {
        Ok(r) => r,
        Err(reason) => (SyncResponse::Refused { reason }, None),
    }
}

fn answer_inner(
    service: &Service,
    peer: &PeerId,
    request: SyncRequest,
) -> Result<(SyncResponse, Option<Fingerprint>), String> {
    let asker = identity::org_of(peer).ok_or("peer is not an organisation")?;
    if service.admission(&asker).map_err(|e| e.to_string())? == Admission::Blocked {
        return Err("your organisation is blocked here".into());
    }
    let store = &service.replica();
    let internal = |e: StoreError| {
        tracing::warn!(error = %e, "answering a sync request failed");
        "internal error".to_string()
    };
    let plain = |r: SyncResponse| Ok((r, None));
    match request {
        SyncRequest::Digest {
            fingerprint,
            count,
            settled,
        } => reconcile::answer_digest(
            store,
            &fingerprint,
            count,
            settled.as_deref().map(Vec::as_slice),
        )
        .map_err(internal),
        SyncRequest::Ranges { org, ranges } => {
            let org: OrgKey = org.parse().map_err(|_| "bad organisation key")?;
            let parts = reconcile::answer_ranges(store, &org, &ranges).map_err(internal)??;
            plain(SyncResponse::Ranges { parts })
        }
        SyncRequest::Peers => plain(SyncResponse::Peers {
            peers: known_peers(store, &asker, &service.org()).map_err(internal)?,
        }),
        SyncRequest::Summary => {
            let mut orgs = Vec::new();
            for (org, _) in store.record_counts().map_err(internal)? {
                let (count, digest) = org_digest(store, &org).map_err(internal)?;
                orgs.push(OrgSummary {
                    org: org.to_hex(),
                    count,
                    digest: ByteBuf::from(digest.to_vec()),
                });
            }
            plain(SyncResponse::Summary { orgs })
        }
        SyncRequest::Ids { org, after, limit } => {
            let org: OrgKey = org.parse().map_err(|_| "bad organisation key")?;
            let limit = limit.clamp(1, MAX_IDS_PER_PAGE) as usize;
            let ids = store
                .seqs_of(&org, after.as_deref(), limit + 1)
                .map_err(internal)?;
            let more = ids.len() > limit;
            plain(SyncResponse::Ids {
                ids: ids.into_iter().take(limit).collect(),
                more,
            })
        }
        SyncRequest::Fetch { org, ids } => {
            let org: OrgKey = org.parse().map_err(|_| "bad organisation key")?;
            if ids.len() > MAX_RECORDS_PER_PAGE {
                return Err(format!("at most {MAX_RECORDS_PER_PAGE} ids per fetch"));
            }
            let mut envelopes = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) = store.get_record(&org, &id).map_err(internal)? {
                    envelopes.push(ByteBuf::from(row.envelope.into_bytes()));
                }
            }
            plain(SyncResponse::Records { envelopes })
        }
    }
}

/// Peer exchange: the nodes this one has been connected to, most recent
/// first, other than the asker's and its own, with their addresses.
fn known_peers(
    store: &Replica<'_>,
    asker: &OrgKey,
    own: &OrgKey,
) -> Result<Vec<KnownPeer>, StoreError> {
    let mut known: Vec<(OrgKey, crate::store::PeerEntry)> = store
        .peers()?
        .into_iter()
        .filter(|(org, e)| org != asker && org != own && e.last_connected.is_some())
        .collect();
    known.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_connected));
    Ok(known
        .into_iter()
        .filter_map(|(org, entry)| {
            let peer = identity::peer_id(&org)?;
            let addrs: Vec<String> = entry
                .addrs
                .into_iter()
                .map(|a| a.addr)
                .take(MAX_ADDRS_PER_PEER)
                .collect();
            (!addrs.is_empty()).then(|| KnownPeer {
                peer: peer.to_string(),
                addrs,
            })
        })
        .take(MAX_PEERS_PER_ANSWER)
        .collect())
}

/// Asks `peer` whom it knows (peer exchange) and hands the answer, checked
/// and bounded, to the peer book.
pub(crate) async fn exchange_peers(
    handle: &NetworkHandle,
    peer: PeerId,
) -> Result<usize, NetworkError> {
    let peers = match handle.sync(peer, SyncRequest::Peers).await? {
        SyncResponse::Peers { peers } => peers,
        SyncResponse::Refused { reason } => {
            return Err(NetworkError::Request(format!("refused: {reason}")));
        }
        _ => return Err(NetworkError::Request("unexpected answer to peers".into())),
    };
    let found: Vec<(PeerId, Vec<libp2p::Multiaddr>)> = peers
        .into_iter()
        .take(MAX_PEERS_PER_ANSWER)
        .filter_map(|k| {
            let id: PeerId = k.peer.parse().ok()?;
            identity::org_of(&id)?;
            let addrs: Vec<libp2p::Multiaddr> = k
                .addrs
                .iter()
                .take(MAX_ADDRS_PER_PEER)
                .filter_map(|a| a.parse().ok())
                .map(|a| super::peer_book::split_p2p(&a).0)
                .collect();
            (!addrs.is_empty()).then_some((id, addrs))
        })
        .collect();
    let n = found.len();
    if n > 0 {
        handle.discovered(found).await?;
    }
    Ok(n)
}

type IngestTask = tokio::task::JoinHandle<Result<PageOutcome, crate::service::ServiceError>>;

/// What became of one fetched page.
struct PageOutcome {
    /// Records new here.
    stored: usize,
    /// Envelopes that were what was asked for and that verify (whether or
    /// not they were new here).
    delivered: usize,
    /// Why the page broke the rules, if it did.
    fault: Option<String>,
}

/// The most a round may ask of one peer: sync requests (ranges and
/// fetches together) and envelope bytes fetched. A round that reaches a
/// limit ends; if it stored something it was progress and the next round
/// goes on soon, if not the peer did not converge (see
/// docs/PROTOCOL.md §Sync budgets). Catching up 100,000 records of about
/// 1 KB takes about 220 requests and 100 MB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub requests: usize,
    pub bytes: u64,
}

impl Budget {
    pub const ROUND: Budget = Budget {
        requests: 512,
        bytes: 256 * 1024 * 1024,
    };
}

/// Why a round stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The network failed, or the peer refused or was busy: try later.
    Network(NetworkError),
    /// The peer broke the rules: it is penalised and dropped.
    Fault(String),
    /// The round's budget ran out (see [`Budget`]).
    Exhausted,
}

impl From<NetworkError> for Stop {
    fn from(e: NetworkError) -> Stop {
        Stop::Network(e)
    }
}

/// A fetch of at least this many ids must deliver at least half of them:
/// an honest peer lists only what it holds, and loses a record between
/// listing and fetch only when it expires or is purged at that moment.
const DELIVERY_CHECK_FROM: usize = 8;

/// Fetches records from a peer in pages and ingests them, one page being
/// verified and stored while the next is requested (at most one page in
/// flight), within the round's [`Budget`]. Checks that each page holds
/// only what was asked for, that it verifies, and that most of what the
/// peer listed arrives. Counts what it fetched and what was new here.
pub(crate) struct Fetcher<'a> {
    handle: &'a NetworkHandle,
    service: &'a Service,
    peer: PeerId,
    in_flight: Option<IngestTask>,
    fetched: usize,
    stored: usize,
    left: Budget,
}

impl<'a> Fetcher<'a> {
    pub(crate) fn new(handle: &'a NetworkHandle, service: &'a Service, peer: PeerId) -> Self {
        Fetcher {
            handle,
            service,
            peer,
            in_flight: None,
            fetched: 0,
            stored: 0,
            left: Budget::ROUND,
        }
    }

    /// Sends a sync request, taking it from the round's budget.
    pub(crate) async fn ask(&mut self, request: SyncRequest) -> Result<SyncResponse, Stop> {
        if self.left.requests == 0 {
            return Err(Stop::Exhausted);
        }
        self.left.requests -= 1;
        Ok(self.handle.sync(self.peer, request).await?)
    }

    /// Sync requests this round has sent through the fetcher.
    pub(crate) fn requests(&self) -> usize {
        Budget::ROUND.requests - self.left.requests
    }

    /// Fetches `ids` of `org` (at most [`MAX_RECORDS_PER_PAGE`] a request).
    pub(crate) async fn fetch(&mut self, org: OrgKey, ids: Vec<String>) -> Result<(), Stop> {
        for chunk in ids.chunks(MAX_RECORDS_PER_PAGE) {
            let request = SyncRequest::Fetch {
                org: org.to_hex(),
                ids: chunk.to_vec(),
            };
            let envelopes = match self.ask(request).await? {
                SyncResponse::Records { envelopes } => envelopes,
                SyncResponse::Refused { reason } => {
                    return Err(NetworkError::Request(format!("refused: {reason}")).into());
                }
                SyncResponse::TryLater { reason } => {
                    return Err(NetworkError::Request(format!("try later: {reason}")).into());
                }
                _ => return Err(Stop::Fault("unexpected answer to fetch".into())),
            };
            if envelopes.len() > chunk.len() {
                return Err(Stop::Fault(format!(
                    "{} envelopes for {} ids asked",
                    envelopes.len(),
                    chunk.len()
                )));
            }
            let bytes: u64 = envelopes.iter().map(|e| e.len() as u64).sum();
            if bytes > self.left.bytes {
                return Err(Stop::Exhausted);
            }
            self.left.bytes -= bytes;
            self.fetched += envelopes.len();
            self.wait().await?;
            let svc = self.service.clone();
            let from = Actor::Sync(self.peer.to_string());
            let asked: std::collections::HashSet<String> = chunk.iter().cloned().collect();
            self.in_flight = Some(tokio::task::spawn_blocking(move || {
                ingest_page(&svc, &from, org, &asked, &envelopes)
            }));
        }
        Ok(())
    }

    /// The peer lists `n` records of `org` (the first `first`) not asked
    /// for because `org` is at its quota here: audited and `org` told, as
    /// for records refused on arrival.
    pub(crate) async fn refuse_for_quota(
        &mut self,
        org: OrgKey,
        first: String,
        n: u64,
    ) -> Result<(), Stop> {
        let svc = self.service.clone();
        let from = Actor::Sync(self.peer.to_string());
        tokio::task::spawn_blocking(move || svc.refuse_unfetched_for_quota(&from, org, &first, n))
            .await
            .map_err(|e| NetworkError::Request(e.to_string()))?
            .map_err(|e| NetworkError::Request(format!("local store: {e}")).into())
    }

    async fn wait(&mut self) -> Result<(), Stop> {
        let Some(task) = self.in_flight.take() else {
            return Ok(());
        };
        let page = task
            .await
            .map_err(|e| NetworkError::Request(e.to_string()))?
            .map_err(|e| NetworkError::Request(format!("storing fetched records: {e}")))?;
        self.stored += page.stored;
        match page.fault {
            Some(fault) => Err(Stop::Fault(fault)),
            None => Ok(()),
        }
    }

    /// Waits for the last page; returns (fetched, stored, requests).
    pub(crate) async fn finish(mut self) -> Result<(usize, usize, usize), Stop> {
        self.wait().await?;
        let requests = self.requests();
        Ok((self.fetched, self.stored, requests))
    }
}

/// Checks and ingests one fetched page of `org`'s records: every envelope
/// must be a record of `org` with an id that was `asked` for, and verify
/// (a record refused for the clock is not the peer's fault); of at least
/// [`DELIVERY_CHECK_FROM`] ids asked, at least half must arrive.
fn ingest_page(
    service: &Service,
    from: &Actor,
    org: OrgKey,
    asked: &std::collections::HashSet<String>,
    envelopes: &[ByteBuf],
) -> Result<PageOutcome, crate::service::ServiceError> {
    for e in envelopes {
        let header = skillmesh_protocol::split(e)
            .and_then(|p| skillmesh_protocol::Record::from_payload(p.payload))
            .map(|r| r.header);
        match header {
            Ok(h) if h.org == org && asked.contains(&h.id) => {}
            Ok(_) => {
                return Ok(PageOutcome {
                    stored: 0,
                    delivered: 0,
                    fault: Some("sent a record that was not asked for".into()),
                });
            }
            Err(r) => {
                return Ok(PageOutcome {
                    stored: 0,
                    delivered: 0,
                    fault: Some(format!(
                        "sent an envelope that does not parse ({})",
                        r.code()
                    )),
                });
            }
        }
    }
    let refs: Vec<&[u8]> = envelopes.iter().map(|e| e.as_slice()).collect();
    let outcomes = service.ingest_many_via(&refs, from, Via::Sync)?;
    let mut page = PageOutcome {
        stored: 0,
        delivered: 0,
        fault: None,
    };
    for outcome in &outcomes {
        match outcome {
            Ok(Ingested::Stored { .. }) => {
                page.stored += 1;
                page.delivered += 1;
            }
            Ok(_) => page.delivered += 1,
            Err(r) if r.is_clock_dependent() => {}
            Err(r) => {
                page.fault = Some(format!("sent an invalid record ({})", r.code()));
            }
        }
    }
    if page.fault.is_none()
        && asked.len() >= DELIVERY_CHECK_FROM
        && page.delivered * 2 < asked.len()
    {
        page.fault = Some(format!(
            "delivered {} of {} records it listed",
            page.delivered,
            asked.len()
        ));
    }
    Ok(page)
}
