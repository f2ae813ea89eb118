//! The courier: delivers requests, answers, kudos and follower counts
//! signed here to the other organisation's node, and tries again until that
//! node acknowledges or refuses. What waits is in the store, so it survives
//! restarts.
//!
//! Each partner is served by its own delivery task, one at a time per
//! partner and in the order things were signed, so a partner that is slow
//! or unreachable (each attempt may take up to the direct protocol's 20 s
//! timeout) holds up only what is addressed to it. A partner whose delivery
//! failed is tried again after a backoff ([`RETRY_EVERY`] doubling up to
//! [`RETRY_CAP`]), and at once when something new is signed or any peer
//! connects. With nothing waiting the courier sleeps until woken (once a
//! minute at most, as a safety net), so an idle node does no work here.

use std::collections::HashMap;
use std::time::Duration;

use serde_bytes::ByteBuf;
use skillmesh_protocol::OrgKey;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::wire::{DirectMessage, DirectReply};
use super::{NetworkHandle, identity};
use crate::requests::Delivery;
use crate::service::Service;

pub const RETRY_EVERY: Duration = Duration::from_secs(3);
/// With nothing waiting, the courier still looks this often.
const SAFETY_POLL: Duration = Duration::from_secs(60);
pub const RETRY_CAP: Duration = Duration::from_secs(60);

/// How a partner's delivery task ended.
struct Finished {
    org: OrgKey,
    /// Everything it was given was settled (delivered or refused).
    all_settled: bool,
}

struct Backoff {
    failures: u32,
    next_at: Instant,
}

pub async fn run(handle: NetworkHandle, service: Service) {
    let signal = service.delivery_signal();
    // Dropped (and with it every delivery task aborted) when the courier
    // is stopped.
    let mut tasks: JoinSet<Finished> = JoinSet::new();
    let mut active: HashMap<tokio::task::Id, OrgKey> = HashMap::new();
    let mut backoff: HashMap<OrgKey, Backoff> = HashMap::new();
    // When to look again without being woken: a partner's backoff ends, or
    // (as a safety net) a minute has passed. Nothing polls while nothing
    // waits.
    let mut wake_at = Instant::now();
    loop {
        tokio::select! {
            _ = signal.notified() => {
                // Something new, or a peer connected: everyone may go now.
                backoff.clear();
            }
            _ = tokio::time::sleep_until(wake_at) => {}
            Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let done = match joined {
                    Ok((id, done)) => {
                        active.remove(&id);
                        done
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a delivery task failed unexpectedly");
                        active.remove(&e.id());
                        continue;
                    }
                };
                if done.all_settled {
                    // More may have been signed for it meanwhile: look now.
                    backoff.remove(&done.org);
                } else {
                    let b = backoff.entry(done.org).or_insert(Backoff {
                        failures: 0,
                        next_at: Instant::now(),
                    });
                    b.failures = b.failures.saturating_add(1);
                    let delay = RETRY_EVERY
                        .saturating_mul(1u32 << b.failures.min(8).saturating_sub(1))
                        .min(RETRY_CAP);
                    b.next_at = Instant::now() + delay;
                    wake_at = wake_at.min(b.next_at);
                    continue;
                }
            }
        }
        wake_at = Instant::now() + SAFETY_POLL;
        let svc = service.clone();
        let pending = match tokio::task::spawn_blocking(move || svc.pending_deliveries()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read pending deliveries");
                wake_at = Instant::now() + RETRY_EVERY;
                continue;
            }
            Err(_) => continue,
        };
        let mut by_org: Vec<(OrgKey, Vec<Delivery>)> = Vec::new();
        for delivery in pending {
            let org = delivery.to();
            match by_org.iter_mut().find(|(o, _)| *o == org) {
                Some((_, list)) => list.push(delivery),
                None => by_org.push((org, vec![delivery])),
            }
        }
        let now = Instant::now();
        for (org, deliveries) in by_org {
            if active.values().any(|o| *o == org) {
                continue;
            }
            if let Some(b) = backoff.get(&org).filter(|b| b.next_at > now) {
                wake_at = wake_at.min(b.next_at);
                continue;
            }
            let (handle, service) = (handle.clone(), service.clone());
            let task = tasks.spawn(async move {
                let all_settled = deliver(&handle, &service, org, deliveries).await;
                Finished { org, all_settled }
            });
            active.insert(task.id(), org);
        }
    }
}

/// Delivers `deliveries` (all to `org`) in order; stops at the first that
/// cannot be delivered now. Returns whether all were settled.
async fn deliver(
    handle: &NetworkHandle,
    service: &Service,
    org: OrgKey,
    deliveries: Vec<Delivery>,
) -> bool {
    let Some(peer) = identity::peer_id(&org) else {
        return false;
    };
    for delivery in deliveries {
        let message = match &delivery {
            Delivery::Request { envelope, .. } => DirectMessage::Request {
                envelope: ByteBuf::from(envelope.clone()),
            },
            Delivery::Answer { envelope, .. } => DirectMessage::Answer {
                envelope: ByteBuf::from(envelope.clone()),
            },
            Delivery::Kudos { envelope, .. } => DirectMessage::Kudos {
                envelope: ByteBuf::from(envelope.clone()),
            },
            Delivery::FollowerCount { envelope, .. } => DirectMessage::FollowerCount {
                envelope: ByteBuf::from(envelope.clone()),
            },
        };
        let outcome = match handle.direct(peer, message).await {
            Ok(DirectReply::Queued | DirectReply::Received) => Ok(()),
            Ok(DirectReply::Refused {
                reason,
                answer: Some(answer),
            }) if matches!(delivery, Delivery::Request { .. }) => {
                // A signed decline (we are blocked there): taken like any
                // answer; if it does not check, the refusal stands alone.
                let svc = service.clone();
                let taken = tokio::task::spawn_blocking(move || svc.receive_answer(&answer, org))
                    .await
                    .ok()
                    .and_then(|r| r.ok());
                match taken {
                    Some(Ok(())) => Ok(()),
                    _ => Err(reason),
                }
            }
            Ok(DirectReply::Refused { reason, .. }) => Err(reason),
            Ok(DirectReply::TryLater { reason }) => {
                tracing::debug!(org = %org.short(), %reason, "delivery deferred by the receiver");
                return false;
            }
            Err(e) => {
                tracing::debug!(org = %org.short(), error = %e, "delivery failed; will retry");
                return false;
            }
        };
        let svc = service.clone();
        match tokio::task::spawn_blocking(move || svc.delivered(&delivery, outcome)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // A store fault is logged once by the store when it begins.
                if e.store_fault().is_some() {
                    tracing::debug!(error = %e, "cannot record a delivery");
                } else {
                    tracing::warn!(error = %e, "cannot record a delivery");
                }
                return false;
            }
            Err(_) => return false,
        }
    }
    true
}
