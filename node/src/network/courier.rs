//! The courier: delivers requests, answers and kudos signed here to the other
//! organisation's node, and tries again (every few seconds, and whenever a
//! peer connects or something new is signed) until that node acknowledges
//! or refuses. What waits is in the store, so it survives restarts.

use std::time::Duration;

use serde_bytes::ByteBuf;

use super::wire::{DirectMessage, DirectReply};
use super::{NetworkHandle, identity};
use crate::requests::Delivery;
use crate::service::Service;

const RETRY_EVERY: Duration = Duration::from_secs(3);

pub async fn run(handle: NetworkHandle, service: Service) {
    let signal = service.delivery_signal();
    loop {
        tokio::select! {
            _ = signal.notified() => {}
            _ = tokio::time::sleep(RETRY_EVERY) => {}
        }
        let svc = service.clone();
        let pending = match tokio::task::spawn_blocking(move || svc.pending_deliveries()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read pending deliveries");
                continue;
            }
            Err(_) => continue,
        };
        for delivery in pending {
            let Some(peer) = identity::peer_id(&delivery.to()) else {
                continue;
            };
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
                Ok(DirectReply::Refused { reason }) => Err(reason),
                Ok(DirectReply::TryLater { reason }) => {
                    tracing::debug!(org = %delivery.to().short(), %reason, "delivery deferred by the receiver");
                    continue;
                }
                Err(e) => {
                    tracing::debug!(org = %delivery.to().short(), error = %e, "delivery failed; will retry");
                    continue;
                }
            };
            let svc = service.clone();
            let d = delivery.clone();
            match tokio::task::spawn_blocking(move || svc.delivered(&d, outcome)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.store_fault().is_some() => {
                    tracing::debug!(error = %e, "cannot record a delivery");
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot record a delivery"),
                Err(_) => {}
            }
        }
    }
}
