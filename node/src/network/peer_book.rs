//! The peer book: every address at which this node has reached (or heard
//! of) another organisation's node, and when to dial each again.
//!
//! The shape follows Lighthouse's peer manager: a heartbeat (the event
//! loop's dial tick) asks the book what is due while the node has fewer
//! connections than its target, and the book answers from a backoff per
//! peer. What makes a federation heal is in the caps:
//!
//! - a partner connected within the last hour is tried again at most
//!   [`RECENT_CAP`] after the last attempt, so a link that comes back is
//!   used within seconds;
//! - the configured bootstrap nodes at most every [`BOOTSTRAP_CAP`], however
//!   long they have been down, so a node started before its bootstrap node
//!   joins soon after that node comes up;
//! - anything older waits up to [`STALE_CAP`].
//!
//! Each delay is doubled from [`BASE_DELAY`] per failure up to its cap, with
//! ±25% jitter so that nodes restarted together do not dial in lockstep.
//! The book is bounded ([`MAX_PEERS`] peers of [`MAX_ADDRS_PER_PEER`]
//! addresses), forgets peers not connected for [`FORGET_AFTER_SECS`], and
//! is persisted (`store::peers`) so that a restarted node knows whom to
//! call. It holds no swarm: the event loop feeds it events and dials what
//! it returns.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use skillmesh_protocol::OrgKey;

use super::identity;
use crate::store::{PeerAddr, PeerEntry};

pub const MAX_PEERS: usize = 1024;
pub const MAX_ADDRS_PER_PEER: usize = 8;
/// A peer not connected for this long (or, never connected, not heard of)
/// is forgotten.
pub const FORGET_AFTER_SECS: i64 = 30 * 24 * 3600;
/// "Seen recently": connected within this many seconds.
pub const RECENT_SECS: i64 = 3600;
pub const BASE_DELAY: Duration = Duration::from_millis(500);
pub const RECENT_CAP: Duration = Duration::from_secs(4);
pub const BOOTSTRAP_CAP: Duration = Duration::from_secs(8);
pub const STALE_CAP: Duration = Duration::from_secs(300);
/// How long a node that turned this one away is left alone.
pub const TURNED_AWAY_WAIT: Duration = Duration::from_secs(60);
/// Most dials started in one tick.
const MAX_DIALS_PER_TICK: usize = 16;

/// Something to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A known organisation's node, at any of these addresses.
    Peer {
        peer: PeerId,
        org: OrgKey,
        addrs: Vec<Multiaddr>,
    },
    /// A bootstrap address given without `/p2p/<peer id>`.
    Address(Multiaddr),
}

#[derive(Debug, Clone)]
struct Backoff {
    failures: u32,
    next_at: Instant,
    in_flight: bool,
}

impl Backoff {
    fn now(now: Instant) -> Backoff {
        Backoff {
            failures: 0,
            next_at: now,
            in_flight: false,
        }
    }

    /// Turned away again and again (a node that refuses us): wait
    /// [`TURNED_AWAY_WAIT`], longer each time, up to eight times as long.
    fn turned_away(&mut self, now: Instant) {
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        let wait = TURNED_AWAY_WAIT.saturating_mul(1 << (self.failures - 1).min(3));
        self.next_at = now + jitter(wait);
    }

    fn failed(&mut self, now: Instant, cap: Duration) {
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.min(16) - 1;
        let delay = BASE_DELAY.saturating_mul(1u32 << exp).min(cap);
        self.next_at = now + jitter(delay);
    }
}

/// `d` scaled by a random factor between 0.75 and 1.25.
pub(crate) fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    // Without randomness the delay is simply not jittered.
    let r = if getrandom::fill(&mut b).is_ok() {
        f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    d.mul_f64(0.75 + r / 2.0)
}

#[derive(Debug, Clone)]
struct Known {
    entry: PeerEntry,
    /// Addresses from the config's bootstrap list (never forgotten).
    bootstrap: Vec<Multiaddr>,
    dial: Backoff,
}

impl Known {
    fn addrs(&self) -> Vec<Multiaddr> {
        let mut out = self.bootstrap.clone();
        // Addresses that worked first, then the most recently heard.
        let mut stored: Vec<&PeerAddr> = self.entry.addrs.iter().collect();
        stored.sort_by_key(|a| std::cmp::Reverse((a.reached_at, a.heard_at)));
        for a in stored {
            if let Ok(m) = a.addr.parse::<Multiaddr>()
                && !out.contains(&m)
            {
                out.push(m);
            }
        }
        out
    }

    fn cap(&self, now_unix: i64) -> Duration {
        match self.entry.last_connected {
            Some(t) if now_unix - t <= RECENT_SECS => RECENT_CAP,
            _ if !self.bootstrap.is_empty() => BOOTSTRAP_CAP,
            _ => STALE_CAP,
        }
    }

    fn freshness(&self) -> i64 {
        let heard = self
            .entry
            .addrs
            .iter()
            .filter_map(|a| a.reached_at.max(a.heard_at))
            .max();
        self.entry.last_connected.max(heard).unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
struct BootstrapAddr {
    addr: Multiaddr,
    dial: Backoff,
    /// The organisation reached through it, once known.
    reached: Option<OrgKey>,
}

/// The peer book. See the module docs.
pub struct PeerBook {
    own: OrgKey,
    known: HashMap<OrgKey, Known>,
    anonymous: Vec<BootstrapAddr>,
}

/// Splits `/…/p2p/<id>` into the address and the peer id.
pub fn split_p2p(addr: &Multiaddr) -> (Multiaddr, Option<PeerId>) {
    let mut a = addr.clone();
    match a.pop() {
        Some(Protocol::P2p(peer)) => (a, Some(peer)),
        _ => (addr.clone(), None),
    }
}

impl PeerBook {
    /// The book for a node of organisation `own`, from the config's
    /// bootstrap addresses and what was persisted.
    pub fn new(
        own: OrgKey,
        bootstrap: &[Multiaddr],
        stored: Vec<(OrgKey, PeerEntry)>,
        now: Instant,
    ) -> PeerBook {
        let mut book = PeerBook {
            own,
            known: HashMap::new(),
            anonymous: Vec::new(),
        };
        for (org, entry) in stored {
            if org != own {
                book.known.insert(
                    org,
                    Known {
                        entry,
                        bootstrap: Vec::new(),
                        dial: Backoff::now(now),
                    },
                );
            }
        }
        for addr in bootstrap {
            let (bare, peer) = split_p2p(addr);
            match peer.and_then(|p| identity::org_of(&p)) {
                Some(org) if org == own => {}
                Some(org) => {
                    let known = book.known.entry(org).or_insert_with(|| Known {
                        entry: PeerEntry::default(),
                        bootstrap: Vec::new(),
                        dial: Backoff::now(now),
                    });
                    if !known.bootstrap.contains(&bare) {
                        known.bootstrap.push(bare);
                    }
                }
                None => book.anonymous.push(BootstrapAddr {
                    addr: bare,
                    dial: Backoff::now(now),
                    reached: None,
                }),
            }
        }
        book
    }

    /// What to dial now. `connected` says whether an organisation's node
    /// is connected; `excluded` which ones must not be dialled (banned,
    /// blocked). Nothing is due while `connections >= target`.
    pub fn due(
        &mut self,
        now: Instant,
        connections: usize,
        target: usize,
        connected: impl Fn(&OrgKey) -> bool,
        excluded: impl Fn(&OrgKey) -> bool,
    ) -> Vec<Target> {
        if connections >= target {
            return Vec::new();
        }
        // Only as many as are missing: in a large network a node keeps about
        // `target` connections of its own, not one to everyone it knows.
        let budget = (target - connections).min(MAX_DIALS_PER_TICK);
        let mut out = Vec::new();
        for (org, known) in &mut self.known {
            if out.len() >= budget {
                break;
            }
            if known.dial.in_flight || known.dial.next_at > now || connected(org) || excluded(org) {
                continue;
            }
            let addrs = known.addrs();
            let Some(peer) = identity::peer_id(org) else {
                continue;
            };
            if addrs.is_empty() {
                continue;
            }
            known.dial.in_flight = true;
            out.push(Target::Peer {
                peer,
                org: *org,
                addrs,
            });
        }
        for b in &mut self.anonymous {
            if out.len() >= budget {
                break;
            }
            if b.dial.in_flight
                || b.dial.next_at > now
                || b.reached.as_ref().is_some_and(&connected)
            {
                continue;
            }
            b.dial.in_flight = true;
            out.push(Target::Address(b.addr.clone()));
        }
        out
    }

    /// A dial returned by [`PeerBook::due`] failed.
    pub fn dial_failed(&mut self, target: &Target, now: Instant, now_unix: i64) {
        match target {
            Target::Peer { org, .. } => {
                if let Some(k) = self.known.get_mut(org) {
                    let cap = k.cap(now_unix);
                    k.dial.failed(now, cap);
                }
            }
            Target::Address(addr) => {
                if let Some(b) = self.anonymous.iter_mut().find(|b| &b.addr == addr) {
                    b.dial.failed(now, BOOTSTRAP_CAP);
                }
            }
        }
    }

    /// A connection to `org`'s node was established. `dialed` is the address
    /// this node dialled, if it dialled. Returns the entry to persist.
    pub fn connected(
        &mut self,
        org: OrgKey,
        dialed: Option<&Multiaddr>,
        now: Instant,
        now_unix: i64,
    ) -> Option<PeerEntry> {
        if org == self.own {
            return None;
        }
        let dialed = dialed.map(|a| split_p2p(a).0);
        if let Some(addr) = &dialed {
            for b in &mut self.anonymous {
                if &b.addr == addr {
                    b.reached = Some(org);
                    b.dial = Backoff::now(now);
                }
            }
        }
        self.make_room(&org);
        let known = self.known.entry(org).or_insert_with(|| Known {
            entry: PeerEntry::default(),
            bootstrap: Vec::new(),
            dial: Backoff::now(now),
        });
        known.dial = Backoff::now(now);
        known.entry.last_connected = Some(now_unix);
        if let Some(addr) = dialed {
            let text = addr.to_string();
            match known.entry.addrs.iter_mut().find(|a| a.addr == text) {
                Some(a) => a.reached_at = Some(now_unix),
                None => known.entry.addrs.push(PeerAddr {
                    addr: text,
                    reached_at: Some(now_unix),
                    heard_at: None,
                }),
            }
            trim_addrs(&mut known.entry.addrs);
        }
        Some(known.entry.clone())
    }

    /// The last connection to `org`'s node closed: try it again soon.
    pub fn disconnected(&mut self, org: &OrgKey, now: Instant) {
        if let Some(k) = self.known.get_mut(org) {
            k.dial = Backoff::now(now);
            k.dial.next_at = now + jitter(BASE_DELAY);
        }
        for b in &mut self.anonymous {
            if b.reached.as_ref() == Some(org) {
                b.dial = Backoff::now(now);
            }
        }
    }

    /// A connection to `org`'s node was closed right after it opened (the
    /// node has enough peers, or refuses us): try elsewhere for a while.
    pub fn turned_away(&mut self, org: &OrgKey, now: Instant) {
        if let Some(k) = self.known.get_mut(org) {
            k.dial.turned_away(now);
        }
        // A bootstrap address that led to it, too (it would be dialled at
        // once otherwise).
        for b in &mut self.anonymous {
            if b.reached.as_ref() == Some(org) {
                b.dial.turned_away(now);
            }
        }
    }

    /// Whether `org`'s node is one of the configured bootstrap nodes.
    pub fn is_bootstrap(&self, org: &OrgKey) -> bool {
        self.known.get(org).is_some_and(|k| !k.bootstrap.is_empty())
            || self
                .anonymous
                .iter()
                .any(|b| b.reached.as_ref() == Some(org))
    }

    /// `org`'s node says (identify) or another node says (peer exchange) it
    /// listens at `addrs`. Returns the entry to persist if it changed.
    pub fn heard(
        &mut self,
        org: OrgKey,
        addrs: &[Multiaddr],
        now: Instant,
        now_unix: i64,
    ) -> Option<PeerEntry> {
        if org == self.own || addrs.is_empty() {
            return None;
        }
        if !self.known.contains_key(&org) && !self.make_room(&org) {
            return None;
        }
        let known = self.known.entry(org).or_insert_with(|| Known {
            entry: PeerEntry::default(),
            bootstrap: Vec::new(),
            dial: Backoff::now(now),
        });
        let before = known.entry.clone();
        for addr in addrs.iter().take(MAX_ADDRS_PER_PEER) {
            let text = split_p2p(addr).0.to_string();
            match known.entry.addrs.iter_mut().find(|a| a.addr == text) {
                Some(a) => a.heard_at = Some(now_unix),
                None => known.entry.addrs.push(PeerAddr {
                    addr: text,
                    reached_at: None,
                    heard_at: Some(now_unix),
                }),
            }
        }
        trim_addrs(&mut known.entry.addrs);
        // Only a change of addresses is worth a write, not a new time.
        let addrs_of = |e: &PeerEntry| e.addrs.iter().map(|a| a.addr.clone()).collect::<Vec<_>>();
        (addrs_of(&before) != addrs_of(&known.entry)).then(|| known.entry.clone())
    }

    /// Forgets `org` (blocked, say). Returns whether it was known.
    pub fn forget(&mut self, org: &OrgKey) -> bool {
        self.known.remove(org).is_some()
    }

    /// Forgets peers not connected (or heard of) for [`FORGET_AFTER_SECS`],
    /// except bootstrap nodes. Returns those forgotten.
    pub fn age_out(&mut self, now_unix: i64) -> Vec<OrgKey> {
        let old: Vec<OrgKey> = self
            .known
            .iter()
            .filter(|(_, k)| k.bootstrap.is_empty() && now_unix - k.freshness() > FORGET_AFTER_SECS)
            .map(|(o, _)| *o)
            .collect();
        for o in &old {
            self.known.remove(o);
        }
        old
    }

    /// Makes room for `org` if the book is full, by forgetting the peer
    /// seen least recently (never a bootstrap node). False if there is
    /// no room to make.
    fn make_room(&mut self, org: &OrgKey) -> bool {
        if self.known.len() < MAX_PEERS || self.known.contains_key(org) {
            return true;
        }
        let stalest = self
            .known
            .iter()
            .filter(|(_, k)| k.bootstrap.is_empty())
            .min_by_key(|(_, k)| k.freshness())
            .map(|(o, _)| *o);
        match stalest {
            Some(o) => {
                self.known.remove(&o);
                true
            }
            None => false,
        }
    }

    /// Every address known for `org`'s node.
    pub fn addrs_of(&self, org: &OrgKey) -> Vec<Multiaddr> {
        self.known.get(org).map(Known::addrs).unwrap_or_default()
    }

    /// What the node would try with no connection: every address it
    /// knows, bootstrap nodes first.
    pub fn trying(&self) -> Vec<String> {
        let mut out: Vec<String> = self.anonymous.iter().map(|b| b.addr.to_string()).collect();
        let mut known: Vec<(&OrgKey, &Known)> = self.known.iter().collect();
        known.sort_by_key(|(_, k)| (k.bootstrap.is_empty(), std::cmp::Reverse(k.freshness())));
        for (org, k) in known {
            if let (Some(addr), Some(peer)) = (k.addrs().first(), identity::peer_id(org)) {
                out.push(
                    addr.clone()
                        .with_p2p(peer)
                        .unwrap_or_else(|a| a)
                        .to_string(),
                );
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.anonymous.is_empty()
    }
}

/// Keeps the [`MAX_ADDRS_PER_PEER`] addresses that worked or were heard
/// most recently.
fn trim_addrs(addrs: &mut Vec<PeerAddr>) {
    if addrs.len() > MAX_ADDRS_PER_PEER {
        addrs.sort_by_key(|a| std::cmp::Reverse((a.reached_at, a.heard_at)));
        addrs.truncate(MAX_ADDRS_PER_PEER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u8) -> OrgKey {
        OrgKey::from(&ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key())
    }

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().expect("addr")
    }

    fn with_id(port: u16, o: &OrgKey) -> Multiaddr {
        addr(port)
            .with_p2p(identity::peer_id(o).expect("peer"))
            .expect("p2p")
    }

    #[test]
    fn a_bootstrap_node_is_tried_again_within_its_cap_however_often_it_failed() {
        let t0 = Instant::now();
        let b = org(2);
        let mut book = PeerBook::new(org(1), &[with_id(4001, &b)], vec![], t0);
        let mut now = t0;
        for _ in 0..20 {
            let due = book.due(now, 0, 8, |_| false, |_| false);
            assert_eq!(due.len(), 1, "due at {:?}", now - t0);
            assert!(
                book.due(now, 0, 8, |_| false, |_| false).is_empty(),
                "in flight"
            );
            book.dial_failed(&due[0], now, 0);
            let next = book.known[&b].dial.next_at;
            assert!(
                next - now <= BOOTSTRAP_CAP.mul_f64(1.25),
                "{:?}",
                next - now
            );
            now = next;
        }
        assert_eq!(book.trying(), vec![with_id(4001, &b).to_string()]);
    }

    #[test]
    fn a_partner_seen_recently_waits_at_most_a_few_seconds() {
        let t0 = Instant::now();
        let p = org(3);
        let mut book = PeerBook::new(org(1), &[], vec![], t0);
        let entry = book
            .connected(p, Some(&addr(5000)), t0, 1_000)
            .expect("persist");
        assert_eq!(entry.addrs[0].reached_at, Some(1_000));
        book.disconnected(&p, t0);
        let mut now = t0 + Duration::from_secs(1);
        for _ in 0..10 {
            let due = book.due(now, 0, 8, |_| false, |_| false);
            assert_eq!(due.len(), 1);
            book.dial_failed(&due[0], now, 1_010);
            let wait = book.known[&p].dial.next_at - now;
            assert!(wait <= RECENT_CAP.mul_f64(1.25), "{wait:?}");
            now += wait;
        }
        // Long unseen, the same peer may wait far longer.
        let due = book.due(now, 0, 8, |_| false, |_| false);
        book.dial_failed(&due[0], now, 1_000 + RECENT_SECS + 1);
        book.known.get_mut(&p).expect("known").dial.failures = 12;
        book.dial_failed(&due[0], now, 1_000 + RECENT_SECS + 1);
        assert!(book.known[&p].dial.next_at - now > RECENT_CAP * 2);
    }

    #[test]
    fn only_as_many_as_are_missing_are_dialled_at_once() {
        let t0 = Instant::now();
        let boots: Vec<Multiaddr> = (10..30).map(|n| with_id(n, &org(n as u8))).collect();
        let mut book = PeerBook::new(org(1), &boots, vec![], t0);
        assert_eq!(book.due(t0, 5, 8, |_| false, |_| false).len(), 3);
        assert_eq!(book.due(t0, 0, 8, |_| false, |_| false).len(), 8);
    }

    #[test]
    fn nothing_is_dialled_at_the_target_or_when_connected_or_excluded() {
        let t0 = Instant::now();
        let (a, b) = (org(4), org(5));
        let mut book = PeerBook::new(org(1), &[with_id(1, &a), with_id(2, &b)], vec![], t0);
        assert!(book.due(t0, 8, 8, |_| false, |_| false).is_empty());
        let due = book.due(t0, 1, 8, |o| *o == a, |o| *o == b);
        assert!(due.is_empty(), "{due:?}");
        let due = book.due(t0, 1, 8, |o| *o == a, |_| false);
        assert!(matches!(&due[..], [Target::Peer { org, .. }] if *org == b));
    }

    #[test]
    fn an_anonymous_bootstrap_address_rests_while_its_node_is_connected() {
        let t0 = Instant::now();
        let a = org(6);
        let mut book = PeerBook::new(org(1), &[addr(7000)], vec![], t0);
        let due = book.due(t0, 0, 8, |_| false, |_| false);
        assert_eq!(due, vec![Target::Address(addr(7000))]);
        book.connected(a, Some(&addr(7000)), t0, 5);
        // Connected now to `a`, reached through that address: not dialled.
        assert!(book.due(t0, 1, 8, |o| *o == a, |_| false).is_empty());
        book.disconnected(&a, t0);
        let later = t0 + Duration::from_secs(2);
        let due = book.due(later, 0, 8, |_| false, |_| false);
        assert_eq!(due.len(), 2, "{due:?}");
    }

    #[test]
    fn the_book_is_bounded_and_forgets_old_peers_but_not_bootstrap_ones() {
        let t0 = Instant::now();
        let boot = org(7);
        let mut book = PeerBook::new(org(1), &[with_id(1, &boot)], vec![], t0);
        let many = [
            addr(1),
            addr(2),
            addr(3),
            addr(4),
            addr(5),
            addr(6),
            addr(7),
            addr(8),
            addr(9),
            addr(10),
        ];
        let entry = book.heard(org(8), &many, t0, 100).expect("new");
        assert_eq!(entry.addrs.len(), MAX_ADDRS_PER_PEER);
        assert!(
            book.heard(org(8), &many[..2], t0, 200).is_none(),
            "same addresses: no write"
        );
        let forgotten = book.age_out(200 + FORGET_AFTER_SECS + 1);
        assert_eq!(forgotten, vec![org(8)]);
        assert_eq!(book.len(), 1, "the bootstrap node stays");
        for i in 0..(MAX_PEERS as u32 + 10) {
            let mut seed = [9u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            let o = OrgKey::from(&ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key());
            book.heard(o, &[addr(9)], t0, i64::from(i));
        }
        assert_eq!(book.len(), MAX_PEERS);
        assert!(book.known.contains_key(&boot));
    }

    #[test]
    fn its_own_key_is_never_a_peer() {
        let t0 = Instant::now();
        let me = org(1);
        let mut book = PeerBook::new(me, &[with_id(1, &me)], vec![(me, PeerEntry::default())], t0);
        assert!(book.is_empty());
        assert!(book.connected(me, None, t0, 0).is_none());
    }
}
