//! Set fingerprints for reconciliation (docs/PROTOCOL.md, "Reconciliation").
//!
//! Two nodes compare the records they hold without listing them: each item
//! `(org, id, seq, digest)` hashes to 32 bytes (`digest` being the SHA-256
//! of the envelope held, so that two different envelopes with the same
//! `seq`, an organisation's equivocation, are different items), a set of items is summarised by the
//! sum of its item hashes modulo 2^256 and its size, and a fingerprint is a
//! hash of that sum and size. Addition is commutative and invertible, so a
//! node keeps the sum of every organisation's records (and of all of them)
//! up to date as records come and go, and answers "are we the same?" with
//! one lookup, whatever it holds. This is the fingerprint of range-based set
//! reconciliation (Meyer, "Range-Based Set Reconciliation", 2023), the
//! scheme Nostr relays use as negentropy; plain XOR would do as much but
//! cancels out items that appear twice, which a sum does not.

use sha2::{Digest, Sha256};

use crate::OrgKey;

/// The digest of an envelope: SHA-256 of its bytes. It names the exact
/// version held, and breaks ties between two envelopes with the same
/// `(org, id, seq)`: the one with the lower digest (compared as bytes)
/// wins, on every node (docs/PROTOCOL.md §4.3).
pub fn envelope_digest(envelope: &[u8]) -> [u8; 32] {
    Sha256::digest(envelope).into()
}

/// The hash of one item: SHA-256 of the organisation's 32 key bytes, the
/// id's length as a big-endian u16, the id's UTF-8 bytes, `seq` as a
/// big-endian u64 and the envelope's digest (32 bytes).
pub fn item_hash(org: &OrgKey, id: &str, seq: u64, digest: &[u8; 32]) -> [u8; 32] {
    let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
    let mut h = Sha256::new();
    h.update(org.as_bytes());
    h.update(len.to_be_bytes());
    h.update(id.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(digest);
    h.finalize().into()
}

/// A fingerprint: the first 16 bytes of SHA-256 over an accumulator's sum
/// (32 bytes) and count (big-endian u64).
pub type Fingerprint = [u8; 16];

/// The running summary of a set of items: the sum of their hashes, read as
/// little-endian 256-bit integers, modulo 2^256, and how many there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accumulator {
    sum: [u8; 32],
    count: u64,
}

/// Bytes of [`Accumulator::to_bytes`]: the sum, then the count (big-endian).
pub const ACCUMULATOR_BYTES: usize = 40;

impl Accumulator {
    pub fn new() -> Accumulator {
        Accumulator::default()
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds the item with hash `hash`.
    pub fn add_hash(&mut self, hash: &[u8; 32]) {
        add_le(&mut self.sum, hash);
        self.count = self.count.wrapping_add(1);
    }

    /// Removes the item with hash `hash` (which must have been added).
    pub fn remove_hash(&mut self, hash: &[u8; 32]) {
        sub_le(&mut self.sum, hash);
        self.count = self.count.wrapping_sub(1);
    }

    pub fn add(&mut self, org: &OrgKey, id: &str, seq: u64, digest: &[u8; 32]) {
        self.add_hash(&item_hash(org, id, seq, digest));
    }

    pub fn remove(&mut self, org: &OrgKey, id: &str, seq: u64, digest: &[u8; 32]) {
        self.remove_hash(&item_hash(org, id, seq, digest));
    }

    /// Adds every item of `other` (a disjoint set).
    pub fn merge(&mut self, other: &Accumulator) {
        add_le(&mut self.sum, &other.sum);
        self.count = self.count.wrapping_add(other.count);
    }

    /// Removes every item of `other` (a subset).
    pub fn unmerge(&mut self, other: &Accumulator) {
        sub_le(&mut self.sum, &other.sum);
        self.count = self.count.wrapping_sub(other.count);
    }

    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(self.sum);
        h.update(self.count.to_be_bytes());
        let full: [u8; 32] = h.finalize().into();
        let mut fp = [0u8; 16];
        fp.copy_from_slice(&full[..16]);
        fp
    }

    pub fn to_bytes(&self) -> [u8; ACCUMULATOR_BYTES] {
        let mut b = [0u8; ACCUMULATOR_BYTES];
        b[..32].copy_from_slice(&self.sum);
        b[32..].copy_from_slice(&self.count.to_be_bytes());
        b
    }

    /// Reads [`Accumulator::to_bytes`]; `None` for the wrong length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Accumulator> {
        if bytes.len() != ACCUMULATOR_BYTES {
            return None;
        }
        let mut sum = [0u8; 32];
        sum.copy_from_slice(&bytes[..32]);
        let mut count = [0u8; 8];
        count.copy_from_slice(&bytes[32..]);
        Some(Accumulator {
            sum,
            count: u64::from_be_bytes(count),
        })
    }
}

fn add_le(acc: &mut [u8; 32], x: &[u8; 32]) {
    let mut carry = 0u16;
    for (a, b) in acc.iter_mut().zip(x) {
        let s = u16::from(*a) + u16::from(*b) + carry;
        *a = (s & 0xff) as u8;
        carry = s >> 8;
    }
}

fn sub_le(acc: &mut [u8; 32], x: &[u8; 32]) {
    let mut borrow = 0i16;
    for (a, b) in acc.iter_mut().zip(x) {
        let mut d = i16::from(*a) - i16::from(*b) - borrow;
        borrow = if d < 0 {
            d += 256;
            1
        } else {
            0
        };
        *a = d as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn org(b: u8) -> OrgKey {
        OrgKey::from_bytes([b; 32])
    }

    const D: [u8; 32] = [7; 32];

    #[test]
    fn the_empty_set_has_a_fixed_fingerprint() {
        // SHA-256 of 40 zero bytes, first half.
        assert_eq!(
            hex::encode(Accumulator::new().fingerprint()),
            "2c34ce1df23b838c5abf2a7f6437cca3"
        );
    }

    /// The worked example in docs/PROTOCOL.md, "Reconciliation" (computed
    /// independently in Python when it was written).
    #[test]
    fn the_documented_example_holds() {
        let org: OrgKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
            .parse()
            .expect("key");
        let d1 = envelope_digest(b"talk-1 envelope");
        let d2 = envelope_digest(b"listing-ana envelope");
        assert_eq!(
            hex::encode(d1),
            "57aa607ebcf0a0e1d1741ba40222e1007472bb71de17f80df3835c763acf7a5f"
        );
        assert_eq!(
            hex::encode(item_hash(&org, "talk-1", 2, &d1)),
            "42420f35075b660ed882aa06651b8eefa4b52c467b6d8763d605f3c3a04370fe"
        );
        let mut acc = Accumulator::new();
        acc.add(&org, "talk-1", 2, &d1);
        assert_eq!(
            hex::encode(acc.fingerprint()),
            "ddaba6fe13352c88883423524c9702cd"
        );
        acc.add(&org, "listing-ana", 1, &d2);
        assert_eq!(
            hex::encode(&acc.to_bytes()[..32]),
            "62bff693e3dcae87fb76a21809dc1481cec4ee633f429cafba250eb4d77e5a62"
        );
        assert_eq!(
            hex::encode(acc.fingerprint()),
            "7b0d2508c5a0554cf221b5f6f3ce6c52"
        );
    }

    #[test]
    fn order_does_not_matter_and_removal_undoes_addition() {
        let mut a = Accumulator::new();
        a.add(&org(1), "x", 1, &D);
        a.add(&org(2), "y", 7, &D);
        let mut b = Accumulator::new();
        b.add(&org(2), "y", 7, &D);
        b.add(&org(1), "x", 1, &D);
        assert_eq!(a, b);
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.remove(&org(2), "y", 7, &D);
        b.remove(&org(1), "x", 1, &D);
        assert_eq!(b, Accumulator::new());
    }

    #[test]
    fn another_envelope_with_the_same_seq_is_a_different_item() {
        let mut a = Accumulator::new();
        a.add(&org(1), "x", 1, &envelope_digest(b"one"));
        let mut b = Accumulator::new();
        b.add(&org(1), "x", 1, &envelope_digest(b"two"));
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_new_seq_is_a_different_item() {
        let mut a = Accumulator::new();
        a.add(&org(1), "x", 1, &D);
        let mut b = Accumulator::new();
        b.add(&org(1), "x", 2, &D);
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn the_sum_carries_across_bytes() {
        let mut a = Accumulator::new();
        a.add_hash(&[0xff; 32]);
        a.add_hash(&{
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        });
        // 2^256 - 1 + 1 wraps to zero.
        assert_eq!(a.to_bytes()[..32], [0u8; 32]);
        assert_eq!(a.count(), 2);
    }

    proptest! {
        #[test]
        fn merging_equals_adding_one_by_one(
            left in proptest::collection::vec(("[a-z]{1,8}", 1u64..5), 0..20),
            right in proptest::collection::vec(("[a-z]{1,8}", 1u64..5), 0..20),
        ) {
            let mut whole = Accumulator::new();
            let mut l = Accumulator::new();
            let mut r = Accumulator::new();
            for (id, seq) in &left {
                whole.add(&org(1), id, *seq, &D);
                l.add(&org(1), id, *seq, &D);
            }
            for (id, seq) in &right {
                whole.add(&org(2), id, *seq, &D);
                r.add(&org(2), id, *seq, &D);
            }
            let mut merged = l;
            merged.merge(&r);
            prop_assert_eq!(merged, whole);
            merged.unmerge(&r);
            prop_assert_eq!(merged, l);
            prop_assert_eq!(Accumulator::from_bytes(&whole.to_bytes()), Some(whole));
        }
    }
}
