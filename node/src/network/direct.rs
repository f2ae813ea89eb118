//! Answering direct messages (`/skillmesh/direct/1`): requests, answers,
//! kudos, follower counts and quota notices signed by the sending organisation and
//! addressed to this one. The service does the checking; this maps its
//! outcome to the reply on the wire.

use libp2p::PeerId;

use serde_bytes::ByteBuf;

use super::identity;
use super::wire::{DirectMessage, DirectReply};
use crate::policy::Admission;
use crate::requests::Refusal;
use crate::service::Service;

/// Handles a direct message from `peer` with the service.
pub fn answer(service: &Service, peer: &PeerId, message: DirectMessage) -> DirectReply {
    let Some(sender) = identity::org_of(peer) else {
        return DirectReply::Refused {
            reason: "peer is not an organisation".into(),
            answer: None,
        };
    };
    let (result, ok) = match &message {
        DirectMessage::Request { envelope } => (
            service.receive_request(envelope, sender),
            DirectReply::Queued,
        ),
        DirectMessage::Answer { envelope } => (
            service.receive_answer(envelope, sender),
            DirectReply::Received,
        ),
        DirectMessage::Kudos { envelope } => (
            service.receive_kudos(envelope, sender),
            DirectReply::Received,
        ),
        DirectMessage::FollowerCount { envelope } => (
            service.receive_follower_count(envelope, sender),
            DirectReply::Received,
        ),
        DirectMessage::QuotaNotice { envelope } => (
            service.receive_quota_notice(envelope, sender),
            DirectReply::Received,
        ),
    };
    match result {
        Ok(Ok(())) => ok,
        // Over the rate limit: the sender keeps it and tries again later.
        Ok(Err(refusal @ (Refusal::RateLimited | Refusal::Busy))) => DirectReply::TryLater {
            reason: refusal.to_string(),
        },
        Ok(Err(refusal)) => {
            // A blocked organisation's request is declined with a signed
            // answer, so that it stops waiting for good.
            let answer = match (&message, &refusal) {
                (DirectMessage::Request { envelope }, Refusal::NotAdmitted)
                    if matches!(service.admission(&sender), Ok(Admission::Blocked)) =>
                {
                    service
                        .decline_blocked(envelope, sender, &refusal.to_string())
                        .map_err(|e| tracing::debug!(error = %e, "cannot sign a refusal"))
                        .ok()
                        .flatten()
                        .map(ByteBuf::from)
                }
                _ => None,
            };
            DirectReply::Refused {
                reason: refusal.to_string(),
                answer,
            }
        }
        Err(e) if e.store_fault().is_some() => {
            tracing::debug!(error = %e, "handling a direct message failed");
            DirectReply::TryLater {
                reason: "the node cannot save changes right now".into(),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "handling a direct message failed");
            DirectReply::TryLater {
                reason: "internal error".into(),
            }
        }
    }
}
