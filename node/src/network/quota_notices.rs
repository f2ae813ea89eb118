//! The task that sends quota notices (see `skillmesh_app::quota_notice`)
//! to the partners they are for, over the direct protocol.

use serde_bytes::ByteBuf;
use tokio::sync::mpsc;

use super::{DirectMessage, DirectReply, NetworkHandle, identity};
use crate::quota_notice::Outgoing;
use crate::service::Service;

/// Sends the notices queued on `rx` to their organisations' nodes.
pub async fn run(network: NetworkHandle, service: Service, mut rx: mpsc::Receiver<Outgoing>) {
    while let Some((org, envelope)) = rx.recv().await {
        let Some(peer) = identity::peer_id(&org) else {
            continue;
        };
        let message = DirectMessage::QuotaNotice {
            envelope: ByteBuf::from(envelope),
        };
        match network.direct(peer, message).await {
            Ok(DirectReply::Received | DirectReply::Queued) => {
                tracing::debug!(org = %org.short(), "quota notice delivered");
            }
            Ok(reply) => {
                tracing::debug!(org = %org.short(), ?reply, "quota notice not taken");
                service.quota_notice_failed(org);
            }
            Err(e) => {
                tracing::debug!(org = %org.short(), error = %e, "quota notice not delivered");
                service.quota_notice_failed(org);
            }
        }
    }
}
