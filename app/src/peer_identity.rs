//! The bridge between organisation keys and libp2p peer ids: a node's
//! libp2p identity is its organisation's ed25519 key.

use libp2p_identity::PeerId;
use libp2p_identity::{Keypair, PublicKey, ed25519};
use skillmesh_protocol::OrgKey;

/// The libp2p key pair for the organisation's secret seed.
pub fn keypair(mut secret: [u8; 32]) -> Result<Keypair, String> {
    let kp = Keypair::ed25519_from_bytes(&mut secret).map_err(|e| e.to_string());
    secret.fill(0);
    kp
}

pub fn peer_id(org: &OrgKey) -> Option<PeerId> {
    let key = ed25519::PublicKey::try_from_bytes(org.as_bytes()).ok()?;
    Some(PeerId::from_public_key(&PublicKey::from(key)))
}

/// The organisation behind a peer id, if the peer id is an inlined ed25519 key.
pub fn org_of(peer: &PeerId) -> Option<OrgKey> {
    let hash: &multihash::Multihash<64> = peer.as_ref();
    if hash.code() != 0 {
        return None;
    }
    let key = PublicKey::try_decode_protobuf(hash.digest()).ok()?;
    let ed = key.try_into_ed25519().ok()?;
    Some(OrgKey::from_bytes(ed.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_and_org_key_convert_both_ways() {
        let seed = [3u8; 32];
        let kp = keypair(seed).expect("keypair");
        let org = OrgKey::from(&ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key());
        let pid = PeerId::from(kp.public());
        assert_eq!(peer_id(&org), Some(pid));
        assert_eq!(org_of(&pid), Some(org));
    }
}
