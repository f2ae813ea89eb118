//! Catch-up sync: when two nodes connect, each asks the other for a
//! per-organisation summary, and for every organisation whose digest
//! differs from its own, pages through the other's `(id, seq)` list and
//! fetches (in bounded pages) every record it lacks or holds an older
//! version of. Retractions are records like any other, so they travel too.

use libp2p::PeerId;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use skillmesh_protocol::OrgKey;

use super::wire::{MAX_IDS_PER_PAGE, MAX_RECORDS_PER_PAGE, OrgSummary, SyncRequest, SyncResponse};
use super::{NetworkError, NetworkHandle, identity};
use crate::policy::Admission;
use crate::service::{Ingested, Service};
use crate::store::{Store, StoreError};

/// SHA-256 over the sorted `(id, seq)` pairs of `org`: for each pair, the
/// id's length as u16 big-endian, the id bytes, and seq as u64 big-endian.
pub fn org_digest(store: &Store, org: &OrgKey) -> Result<(u64, [u8; 32]), StoreError> {
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

/// Answers a sync request from `peer`.
pub fn answer(service: &Service, peer: &PeerId, request: SyncRequest) -> SyncResponse {
    match answer_inner(service, peer, request) {
        Ok(r) => r,
        Err(reason) => SyncResponse::Refused { reason },
    }
}

fn answer_inner(
    service: &Service,
    peer: &PeerId,
    request: SyncRequest,
) -> Result<SyncResponse, String> {
    let asker = identity::org_of(peer).ok_or("peer is not an organisation")?;
    if service.admission(&asker).map_err(|e| e.to_string())? == Admission::Blocked {
        return Err("your organisation is blocked here".into());
    }
    let store = service.store();
    let internal = |e: StoreError| {
        tracing::warn!(error = %e, "answering a sync request failed");
        "internal error".to_string()
    };
    match request {
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
            Ok(SyncResponse::Summary { orgs })
        }
        SyncRequest::Ids { org, after, limit } => {
            let org: OrgKey = org.parse().map_err(|_| "bad organisation key")?;
            let limit = limit.clamp(1, MAX_IDS_PER_PAGE) as usize;
            let ids = store
                .seqs_of(&org, after.as_deref(), limit + 1)
                .map_err(internal)?;
            let more = ids.len() > limit;
            Ok(SyncResponse::Ids {
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
            Ok(SyncResponse::Records { envelopes })
        }
    }
}

fn unexpected(r: SyncResponse) -> NetworkError {
    match r {
        SyncResponse::Refused { reason } => NetworkError::Request(format!("refused: {reason}")),
        other => NetworkError::Request(format!("unexpected response {other:?}")),
    }
}

/// Brings this node up to date with `peer`. Returns how many records changed.
pub async fn catch_up(
    handle: &NetworkHandle,
    service: &Service,
    peer: PeerId,
) -> Result<usize, NetworkError> {
    let orgs = match handle.sync(peer, SyncRequest::Summary).await? {
        SyncResponse::Summary { orgs } => orgs,
        other => return Err(unexpected(other)),
    };
    let mut changed = 0;
    for summary in orgs {
        let Ok(org) = summary.org.parse::<OrgKey>() else {
            continue;
        };
        let svc = service.clone();
        let local = tokio::task::spawn_blocking(move || {
            let admitted = svc.admission(&org)? == Admission::Accept;
            Ok::<_, crate::service::ServiceError>((admitted, org_digest(svc.store(), &org)?))
        })
        .await
        .map_err(|e| NetworkError::Request(e.to_string()))?
        .map_err(|e| NetworkError::Request(e.to_string()))?;
        let (admitted, (_, digest)) = local;
        if !admitted {
            // A peer not yet on our allowlist: take only its organisation
            // card, so the "wants to join" queue can say who it is.
            if Some(org) == identity::org_of(&peer) {
                fetch_org_card(handle, service, peer, org).await?;
            }
            continue;
        }
        if digest.as_slice() == summary.digest.as_slice() {
            continue;
        }
        changed += catch_up_org(handle, service, peer, org).await?;
    }
    Ok(changed)
}

async fn fetch_org_card(
    handle: &NetworkHandle,
    service: &Service,
    peer: PeerId,
    org: OrgKey,
) -> Result<(), NetworkError> {
    let request = SyncRequest::Fetch {
        org: org.to_hex(),
        ids: vec!["org-card".into()],
    };
    if let SyncResponse::Records { envelopes } = handle.sync(peer, request).await? {
        let svc = service.clone();
        let from = format!("sync:{peer}");
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&[u8]> = envelopes.iter().map(|e| e.as_slice()).collect();
            svc.ingest_many(&refs, &from)
        })
        .await
        .map_err(|e| NetworkError::Request(e.to_string()))?
        .map_err(|e| NetworkError::Request(e.to_string()))?;
    }
    Ok(())
}

type IngestTask = tokio::task::JoinHandle<
    Result<Vec<Result<Ingested, skillmesh_protocol::Rejection>>, crate::service::ServiceError>,
>;

/// Waits for a page's ingest and counts the records it stored.
async fn finish(task: Option<IngestTask>) -> Result<usize, NetworkError> {
    let Some(task) = task else { return Ok(0) };
    let stored = task
        .await
        .map_err(|e| NetworkError::Request(e.to_string()))?
        .map_err(|e| NetworkError::Request(e.to_string()))?;
    Ok(stored
        .iter()
        .filter(|r| matches!(r, Ok(Ingested::Stored(_))))
        .count())
}

async fn catch_up_org(
    handle: &NetworkHandle,
    service: &Service,
    peer: PeerId,
    org: OrgKey,
) -> Result<usize, NetworkError> {
    let mut after: Option<String> = None;
    let mut changed = 0;
    let mut in_flight: Option<IngestTask> = None;
    loop {
        let request = SyncRequest::Ids {
            org: org.to_hex(),
            after: after.clone(),
            limit: MAX_IDS_PER_PAGE,
        };
        let (ids, more) = match handle.sync(peer, request).await? {
            SyncResponse::Ids { ids, more } => (ids, more),
            other => return Err(unexpected(other)),
        };
        after = ids.last().map(|(id, _)| id.clone());
        let svc = service.clone();
        let wanted: Vec<String> = tokio::task::spawn_blocking(move || {
            let mut wanted = Vec::new();
            for (id, seq) in ids {
                let held = svc.store().get_record(&org, &id)?.map_or(0, |r| r.seq);
                if seq > held {
                    wanted.push(id);
                }
            }
            Ok::<_, StoreError>(wanted)
        })
        .await
        .map_err(|e| NetworkError::Request(e.to_string()))?
        .map_err(|e| NetworkError::Request(e.to_string()))?;
        for chunk in wanted.chunks(MAX_RECORDS_PER_PAGE) {
            let request = SyncRequest::Fetch {
                org: org.to_hex(),
                ids: chunk.to_vec(),
            };
            let envelopes = match handle.sync(peer, request).await? {
                SyncResponse::Records { envelopes } => envelopes,
                other => return Err(unexpected(other)),
            };
            // Pipelined: this page is verified and stored while the next
            // one is requested; at most one page is being ingested.
            changed += finish(in_flight.take()).await?;
            let svc = service.clone();
            let from = format!("sync:{peer}");
            in_flight = Some(tokio::task::spawn_blocking(move || {
                let refs: Vec<&[u8]> = envelopes.iter().map(|e| e.as_slice()).collect();
                svc.ingest_many(&refs, &from)
            }));
        }
        if !more || after.is_none() {
            return Ok(changed + finish(in_flight.take()).await?);
        }
    }
}
