//! Peer scoring: what a peer did wrong, how long it is remembered, and
//! when it is disconnected and kept out. Specified in docs/PROTOCOL.md
//! §Peer scoring.
//!
//! Only faults the peer itself could have checked count against it:
//!
//! - a gossip message that fails a check independent of the clock (bad
//!   signature, malformed, oversize, wrong key, a record kind that is never
//!   gossiped): the peer forwarded something it should have refused;
//!   [`Fault::InvalidRecord`];
//! - a sync answer that breaks the protocol, contradicts itself or does
//!   not converge within the round's budget; [`Fault::Sync`], which counts
//!   as much as the whole threshold, so the peer is dropped at once.
//!
//! A record refused for the clock (expired in transit, dated a little in
//! the future) is never counted: it may have been valid at the peer a
//! moment ago, and counting it let one throwaway key get honest relays
//! banned by feeding them records on the edge of expiry. Nor is anything
//! refused by policy (blocked or not admitted organisations, quotas), which
//! the peer cannot know.
//!
//! Penalties decay: the score halves every [`HALF_LIFE`], so an honest node
//! that forwarded one bad record long ago is not one step from a ban for
//! ever. A peer whose score reaches [`BAN_SCORE`] is disconnected and kept
//! out for [`BAN_DURATION`], doubled for each ban still remembered, up to
//! [`MAX_BAN`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// The score at which a peer is disconnected and banned: three invalid
/// records within about a minute and a half.
pub const BAN_SCORE: f64 = 25.0;
/// The score halves this often.
pub const HALF_LIFE: Duration = Duration::from_secs(5 * 60);
/// How long the first ban lasts.
pub const BAN_DURATION: Duration = Duration::from_secs(10 * 60);
/// The longest a repeated ban lasts.
pub const MAX_BAN: Duration = Duration::from_secs(4 * 3600);
/// A peer with no ban for this long starts again from the first duration.
const BANS_FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What a peer did wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded a gossip message that fails a check it could have made.
    InvalidRecord,
    /// A sync answer that breaks the protocol, contradicts itself or does
    /// not converge.
    Sync,
}

impl Fault {
    /// The fault's name in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::InvalidRecord => "invalid_record",
            Fault::Sync => "sync",
        }
    }

    /// How much the fault adds to the peer's score.
    pub fn weight(self) -> f64 {
        match self {
            Fault::InvalidRecord => 10.0,
            Fault::Sync => BAN_SCORE,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Score {
    value: f64,
    at: Instant,
}

impl Score {
    fn at(self, now: Instant) -> f64 {
        let halves = now.saturating_duration_since(self.at).as_secs_f64() / HALF_LIFE.as_secs_f64();
        self.value * 0.5f64.powf(halves)
    }
}

#[derive(Debug, Clone, Copy)]
struct Ban {
    until: Instant,
    /// Bans in a row (each one not long after the last).
    count: u32,
}

/// What happened after a fault was counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counted {
    /// The peer's score now.
    pub score: f64,
    /// Set when the peer is to be disconnected and kept out this long.
    pub banned_for: Option<Duration>,
}

/// Scores and bans of peers.
#[derive(Debug, Default)]
pub struct Penalties {
    scores: HashMap<PeerId, Score>,
    bans: HashMap<PeerId, Ban>,
}

impl Penalties {
    /// Counts `fault` against `peer`.
    pub fn count(&mut self, peer: PeerId, fault: Fault, now: Instant) -> Counted {
        let old = self.scores.get(&peer).map_or(0.0, |s| s.at(now));
        let score = old + fault.weight();
        if score < BAN_SCORE {
            self.scores.insert(
                peer,
                Score {
                    value: score,
                    at: now,
                },
            );
            return Counted {
                score,
                banned_for: None,
            };
        }
        // Banned: the score starts again when the ban ends.
        self.scores.remove(&peer);
        let count = match self.bans.get(&peer) {
            Some(b) if now.saturating_duration_since(b.until) < BANS_FORGOTTEN_AFTER => {
                b.count.saturating_add(1)
            }
            _ => 1,
        };
        let duration = BAN_DURATION
            .saturating_mul(1u32 << (count - 1).min(8))
            .min(MAX_BAN);
        self.bans.insert(
            peer,
            Ban {
                until: now + duration,
                count,
            },
        );
        Counted {
            score,
            banned_for: Some(duration),
        }
    }

    /// The peer's score now (0 when it has none).
    #[cfg(test)]
    pub fn score(&self, peer: &PeerId, now: Instant) -> f64 {
        self.scores.get(peer).map_or(0.0, |s| s.at(now))
    }

    /// Whether `peer` is kept out now.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|b| b.until > now)
    }

    /// The peers kept out now.
    pub fn banned(&self, now: Instant) -> impl Iterator<Item = &PeerId> {
        self.bans
            .iter()
            .filter(move |(_, b)| b.until > now)
            .map(|(p, _)| p)
    }

    /// Forgets scores that have decayed to almost nothing and bans long
    /// over; returns the peers whose scores changed noticeably, with their
    /// scores now, so that the gossip layer's view can follow.
    pub fn decay(&mut self, now: Instant) -> Vec<(PeerId, f64)> {
        let mut changed = Vec::new();
        self.scores.retain(|peer, s| {
            let value = s.at(now);
            if value < 1.0 {
                changed.push((*peer, 0.0));
                return false;
            }
            if (s.value - value).abs() >= 1.0 {
                changed.push((*peer, value));
                *s = Score { value, at: now };
            }
            true
        });
        self.bans
            .retain(|_, b| now.saturating_duration_since(b.until) < BANS_FORGOTTEN_AFTER);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_records_ban_after_three_in_a_short_time() {
        let mut p = Penalties::default();
        let peer = PeerId::random();
        let t = Instant::now();
        assert_eq!(p.count(peer, Fault::InvalidRecord, t).banned_for, None);
        assert_eq!(p.count(peer, Fault::InvalidRecord, t).banned_for, None);
        let third = p.count(peer, Fault::InvalidRecord, t);
        assert_eq!(third.banned_for, Some(BAN_DURATION));
        assert!(p.is_banned(&peer, t));
        assert!(!p.is_banned(&peer, t + BAN_DURATION));
    }

    #[test]
    fn scores_decay_so_rare_faults_never_add_up_to_a_ban() {
        let mut p = Penalties::default();
        let peer = PeerId::random();
        let mut t = Instant::now();
        // One bad record every ten minutes, for a day: never banned.
        for _ in 0..144 {
            assert_eq!(p.count(peer, Fault::InvalidRecord, t).banned_for, None);
            t += Duration::from_secs(600);
        }
        assert!(p.score(&peer, t) < BAN_SCORE / 2.0);
        // Long quiet: the score is forgotten.
        t += HALF_LIFE * 10;
        let changed = p.decay(t);
        assert_eq!(changed, vec![(peer, 0.0)]);
        assert_eq!(p.score(&peer, t), 0.0);
    }

    #[test]
    fn a_sync_fault_bans_at_once_and_repeated_bans_grow() {
        let mut p = Penalties::default();
        let peer = PeerId::random();
        let t = Instant::now();
        assert_eq!(p.count(peer, Fault::Sync, t).banned_for, Some(BAN_DURATION));
        let t2 = t + BAN_DURATION + Duration::from_secs(1);
        assert_eq!(
            p.count(peer, Fault::Sync, t2).banned_for,
            Some(BAN_DURATION * 2)
        );
        let t3 = t2 + BAN_DURATION * 2 + Duration::from_secs(1);
        assert_eq!(
            p.count(peer, Fault::Sync, t3).banned_for,
            Some(BAN_DURATION * 4)
        );
        // A day without a ban: back to the first duration.
        let t4 = t3 + BAN_DURATION * 4 + BANS_FORGOTTEN_AFTER;
        p.decay(t4);
        assert_eq!(
            p.count(peer, Fault::Sync, t4).banned_for,
            Some(BAN_DURATION)
        );
    }
}
