//! What a blocked organisation's node meets when it connects.
//!
//! Closing its connections at once left it waiting for ever: its requests
//! to us stayed "waiting to reach the other organisation", and its node,
//! never told, redialled in a tight loop. Instead, a blocked peer is let in
//! for [`GRACE`], long enough for its courier to hand over what waits for
//! us, each request answered with a signed refusal (see `network::direct`);
//! gossip with it is off (it is on gossipsub's blacklist) and its sync
//! requests are refused. Then the connection is closed, and until its
//! backoff ends (1 minute, doubling with each visit up to
//! [`MAX_BACKOFF`]) every new connection from it is closed at once, which
//! costs almost nothing and makes its node wait longer each time (a
//! connection closed right after it opened is "turned away", see
//! `peer_book`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// How long a blocked peer is let in to hear its refusals.
pub const GRACE: Duration = Duration::from_secs(5);
/// The first wait before a blocked peer is let in again.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(60);
/// The longest wait.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct Visit {
    /// Let in until then (its grace), if it is in now.
    until: Option<Instant>,
    /// Not let in again before then.
    next: Instant,
    visits: u32,
}

/// What to do with a blocked peer that just connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Let it in until the given time, to hear its refusals.
    LetIn(Instant),
    /// Close the connection now.
    Close,
}

#[derive(Debug, Default)]
pub struct BlockedPeers {
    visits: HashMap<PeerId, Visit>,
}

impl BlockedPeers {
    /// A blocked peer connected.
    pub fn arrived(&mut self, peer: PeerId, now: Instant) -> Door {
        match self.visits.get_mut(&peer) {
            Some(v) if v.until.is_some_and(|u| u > now) => Door::LetIn(v.until.unwrap_or(now)),
            Some(v) if v.next > now => Door::Close,
            Some(v) => {
                v.visits = v.visits.saturating_add(1);
                let wait = FIRST_BACKOFF
                    .saturating_mul(1 << (v.visits - 1).min(6))
                    .min(MAX_BACKOFF);
                v.until = Some(now + GRACE);
                v.next = now + GRACE + wait;
                Door::LetIn(now + GRACE)
            }
            None => {
                self.visits.insert(
                    peer,
                    Visit {
                        until: Some(now + GRACE),
                        next: now + GRACE + FIRST_BACKOFF,
                        visits: 1,
                    },
                );
                Door::LetIn(now + GRACE)
            }
        }
    }

    /// Peers whose grace is over: their connections are to be closed.
    pub fn grace_over(&mut self, now: Instant) -> Vec<PeerId> {
        let mut out = Vec::new();
        for (peer, v) in &mut self.visits {
            if v.until.is_some_and(|u| u <= now) {
                v.until = None;
                out.push(*peer);
            }
        }
        out
    }

    /// Forgets `peer` (its organisation is no longer blocked); whether it
    /// was known.
    pub fn forget(&mut self, peer: &PeerId) -> bool {
        self.visits.remove(peer).is_some()
    }

    /// Forgets peers not seen for a day.
    pub fn forget_old(&mut self, now: Instant) {
        self.visits
            .retain(|_, v| now.saturating_duration_since(v.next) < Duration::from_secs(24 * 3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_peer_is_let_in_briefly_then_less_and_less_often() {
        let mut b = BlockedPeers::default();
        let p = PeerId::random();
        let t = Instant::now();
        assert_eq!(b.arrived(p, t), Door::LetIn(t + GRACE));
        // A second connection during its grace joins it.
        assert_eq!(
            b.arrived(p, t + Duration::from_secs(1)),
            Door::LetIn(t + GRACE)
        );
        assert_eq!(b.grace_over(t + GRACE), vec![p]);
        // Redials within the backoff are closed at once.
        for s in [6, 10, 30, 60] {
            assert_eq!(b.arrived(p, t + Duration::from_secs(s)), Door::Close);
        }
        let second = t + GRACE + FIRST_BACKOFF;
        assert_eq!(b.arrived(p, second), Door::LetIn(second + GRACE));
        assert!(b.grace_over(second + GRACE).contains(&p));
        // The next wait is twice as long.
        assert_eq!(b.arrived(p, second + GRACE + FIRST_BACKOFF), Door::Close);
        let third = second + GRACE + FIRST_BACKOFF * 2;
        assert_eq!(b.arrived(p, third), Door::LetIn(third + GRACE));
    }
}
