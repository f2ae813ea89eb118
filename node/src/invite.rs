//! Invites: one string an admin of a member organisation hands to a new
//! organisation, holding the addresses of nodes to bootstrap from and, for
//! a private network, its pre-shared key.
//!
//! Format: `skillmesh-invite-1:` followed by the hex of a JSON object
//! `{"bootstrap": [multiaddr, ...], "psk": "<64 hex digits>" | null}`.
//! Hex keeps it to characters that survive e-mail and chat unchanged.

use serde::{Deserialize, Serialize};

const PREFIX: &str = "skillmesh-invite-1:";
/// Largest invite accepted (the string, before decoding).
const MAX_INVITE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// Multiaddrs of member nodes, each ending in `/p2p/<peer id>`.
    pub bootstrap: Vec<String>,
    /// The private network's key as 64 hex digits, if the network is private.
    pub psk: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InviteError {
    #[error("not a skillmesh invite (it should start with {PREFIX})")]
    Prefix,
    #[error("the invite is damaged (not hex); copy it again in full")]
    Encoding,
    #[error("the invite is damaged: {0}")]
    Content(String),
    #[error("the invite is too long")]
    TooLong,
}

impl Invite {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", hex::encode(json))
    }

    pub fn decode(text: &str) -> Result<Invite, InviteError> {
        let text = text.trim();
        if text.len() > MAX_INVITE_BYTES {
            return Err(InviteError::TooLong);
        }
        let body = text.strip_prefix(PREFIX).ok_or(InviteError::Prefix)?;
        let json = hex::decode(body).map_err(|_| InviteError::Encoding)?;
        let invite: Invite =
            serde_json::from_slice(&json).map_err(|e| InviteError::Content(e.to_string()))?;
        if invite.bootstrap.is_empty() {
            return Err(InviteError::Content(
                "it names no node to connect to".into(),
            ));
        }
        for addr in &invite.bootstrap {
            addr.parse::<libp2p::Multiaddr>()
                .map_err(|e| InviteError::Content(format!("bad address {addr:?}: {e}")))?;
        }
        if let Some(psk) = &invite.psk
            && (psk.len() != 64 || hex::decode(psk).is_err())
        {
            return Err(InviteError::Content(
                "the network key is not 64 hex digits".into(),
            ));
        }
        Ok(invite)
    }

    /// The network key in the `swarm.key` file format, if any.
    pub fn psk_file_text(&self) -> Option<String> {
        self.psk
            .as_ref()
            .map(|k| format!("/key/swarm/psk/1.0.0/\n/base16/\n{k}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damaged_strings() {
        let invite = Invite {
            bootstrap: vec![
                "/ip4/127.0.0.1/tcp/7200/p2p/12D3KooWQuqYzdUT7vmZrsVvso3fKYGHWQ3JqAifx53BNzhepP8A"
                    .into(),
            ],
            psk: Some("ab".repeat(32)),
        };
        let text = invite.encode();
        assert_eq!(Invite::decode(&format!("  {text}\n")), Ok(invite));
        assert_eq!(Invite::decode("hello"), Err(InviteError::Prefix));
        assert_eq!(
            Invite::decode(&format!("{PREFIX}zz")),
            Err(InviteError::Encoding)
        );
        assert!(matches!(
            Invite::decode(&text[..text.len() - 2]),
            Err(InviteError::Content(_))
        ));
        let no_peers = Invite {
            bootstrap: vec![],
            psk: None,
        }
        .encode();
        assert!(matches!(
            Invite::decode(&no_peers),
            Err(InviteError::Content(_))
        ));
    }
}
