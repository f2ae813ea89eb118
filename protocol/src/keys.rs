//! Organisation public keys: the identity every record is signed under.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Rejection;

/// An organisation's ed25519 public key. On the wire and in JSON it is 64
/// lowercase hex digits; it is also the organisation's libp2p identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgKey([u8; 32]);

impl OrgKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        OrgKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 8 hex digits, for logs and compact display.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }

    /// The fingerprint people compare when they check a key by eye or on
    /// the phone: the first 16 hex digits of the key in groups of four,
    /// `a1b2 c3d4 e5f6 0718` (64 bits, so that no one can make a key to
    /// match another's in any practical time; docs/PROTOCOL.md, "Joining").
    pub fn fingerprint(&self) -> String {
        let hex = hex::encode(&self.0[..8]);
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }

    /// The key as a curve point; fails for bytes that are not a valid point.
    pub fn verifying_key(&self) -> Result<VerifyingKey, Rejection> {
        VerifyingKey::from_bytes(&self.0)
            .map_err(|_| Rejection::malformed("public key is not a valid ed25519 point"))
    }
}

impl From<&VerifyingKey> for OrgKey {
    fn from(key: &VerifyingKey) -> Self {
        OrgKey(key.to_bytes())
    }
}

impl fmt::Display for OrgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgKey({})", self.to_hex())
    }
}

impl FromStr for OrgKey {
    type Err = Rejection;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Rejection::malformed(
                "organisation key must be 64 lowercase hex digits",
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| Rejection::malformed("organisation key is not hex"))?;
        Ok(OrgKey(out))
    }
}

impl Serialize for OrgKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for OrgKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::OrgKey;

    #[test]
    fn fingerprint_is_the_first_sixteen_hex_digits_in_fours() {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&[0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18]);
        bytes[8] = 0xff;
        assert_eq!(
            OrgKey::from_bytes(bytes).fingerprint(),
            "a1b2 c3d4 e5f6 0718"
        );
    }
}
