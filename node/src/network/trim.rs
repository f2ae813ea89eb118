//! Keeping the number of connections near the target. A node dials only as
//! many peers as it lacks (see the peer book), but others dial it: a
//! bootstrap node that fifty others joined through would keep fifty
//! connections, each pinged and reconciled. So above a high-water mark a
//! node closes connections down to its target, as libp2p's connection
//! managers and Lighthouse's peer manager do:
//!
//! - never one younger than [`GRACE`] (it may still be catching up);
//! - never one to a configured bootstrap node;
//! - new organisations (first seen recently, not allowed by an admin)
//!   before partners, and partners only while partners alone are above
//!   the target, so a crowd of fresh keys cannot push a partner out;
//! - then peers outside gossipsub's mesh (they carry no gossip for us),
//!   then the longest connected (the graph keeps changing a little, so no
//!   node stays a hub).
//!
//! A peer closed this way is not let back in for [`COOLDOWN`] while the
//! node is at its target, so it looks elsewhere rather than coming back.
//!
//! Trimming waits out [`GRACE`], so in between a crowd of fresh keys could
//! hold any number of connections. Above [`ceiling`] a new organisation's
//! connection is closed as soon as it opens; partners still get in.

use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Connections younger than this are never closed to trim.
pub const GRACE: Duration = Duration::from_secs(30);
/// How long a trimmed peer is turned away while the node has enough.
pub const COOLDOWN: Duration = Duration::from_secs(120);

/// Above this many connections the node trims back to `target`.
pub fn high_water(target: usize) -> usize {
    target + (target / 4).max(2)
}

/// At this many connections, a new organisation's connection is closed as
/// soon as it opens (partners are still let in, and trimming brings the
/// count back down).
pub fn ceiling(target: usize) -> usize {
    target.saturating_mul(8).max(16)
}

/// A connected peer as trimming sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub peer: PeerId,
    pub since: Instant,
    pub in_mesh: bool,
    pub bootstrap: bool,
    /// A new organisation: first seen recently and not allowed by an
    /// admin (`Service::is_new_org`).
    pub new: bool,
}

/// The peers to disconnect: none at or below the high-water mark,
/// otherwise enough to come back to `target`, chosen as the module docs say.
pub fn to_trim(connected: &[Candidate], target: usize, now: Instant) -> Vec<PeerId> {
    if connected.len() <= high_water(target) {
        return Vec::new();
    }
    let excess = connected.len() - target;
    // Partners go only while partners alone are above the target: a crowd
    // of new organisations too young to close yet does not make room by
    // pushing partners out.
    let partners = connected.iter().filter(|c| !c.new).count();
    let mut partners_to_go = partners.saturating_sub(target);
    let mut eligible: Vec<&Candidate> = connected
        .iter()
        .filter(|c| !c.bootstrap && now.duration_since(c.since) >= GRACE)
        .collect();
    eligible.sort_by_key(|c| (!c.new, c.in_mesh, c.since));
    let mut out = Vec::new();
    for c in eligible {
        if out.len() == excess {
            break;
        }
        if !c.new {
            if partners_to_go == 0 {
                break;
            }
            partners_to_go -= 1;
        }
        out.push(c.peer);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_down_to_the_target_sparing_the_young_the_bootstrap_and_the_mesh() {
        let now = Instant::now();
        let old = now - GRACE * 3;
        let peers: Vec<PeerId> = (0..14).map(|_| PeerId::random()).collect();
        let mut connected: Vec<Candidate> = peers
            .iter()
            .enumerate()
            .map(|(i, p)| Candidate {
                peer: *p,
                since: old + Duration::from_secs(i as u64),
                in_mesh: i < 6,
                bootstrap: false,
                new: false,
            })
            .collect();
        connected[6].bootstrap = true;
        connected[7].since = now - Duration::from_secs(1);
        // 14 connected, target 8 (high water 10): six go.
        let trimmed = to_trim(&connected, 8, now);
        assert_eq!(trimmed.len(), 6);
        assert!(!trimmed.contains(&peers[6]), "a bootstrap node stays");
        assert!(!trimmed.contains(&peers[7]), "a young connection stays");
        // The six outside the mesh and eligible (8..14) go first.
        assert_eq!(trimmed, peers[8..14].to_vec());
        // At or below the high-water mark nothing goes.
        assert!(to_trim(&connected[..10], 8, now).is_empty());
    }

    #[test]
    fn new_organisations_go_before_partners_even_in_the_mesh() {
        let now = Instant::now();
        let old = now - GRACE * 3;
        // Twelve connected: four old partners outside the mesh, then eight
        // newer connections from new organisations, half in the mesh.
        let connected: Vec<Candidate> = (0..12)
            .map(|i| Candidate {
                peer: PeerId::random(),
                since: old + Duration::from_secs(i as u64),
                in_mesh: i >= 8,
                bootstrap: false,
                new: i >= 4,
            })
            .collect();
        let trimmed = to_trim(&connected, 4, now);
        let new: Vec<PeerId> = connected[4..].iter().map(|c| c.peer).collect();
        // Eight go: every new organisation, those outside the mesh first.
        assert_eq!(trimmed, new);
    }

    #[test]
    fn a_young_crowd_of_new_organisations_does_not_push_partners_out() {
        let now = Instant::now();
        // Two partners connected long ago, fourteen new organisations a
        // moment ago (too young to close): nobody goes yet.
        let connected: Vec<Candidate> = (0..16)
            .map(|i| Candidate {
                peer: PeerId::random(),
                since: if i < 2 { now - GRACE * 2 } else { now },
                in_mesh: false,
                bootstrap: false,
                new: i >= 2,
            })
            .collect();
        assert!(to_trim(&connected, 2, now).is_empty());
        // Once they are old enough, they go and the partners stay.
        let later = now + GRACE;
        let new: Vec<PeerId> = connected[2..].iter().map(|c| c.peer).collect();
        assert_eq!(to_trim(&connected, 2, later), new);
    }

    #[test]
    fn the_high_water_mark_leaves_room_above_the_target() {
        assert_eq!(high_water(1), 3);
        assert_eq!(high_water(8), 10);
        assert_eq!(high_water(100), 125);
        assert_eq!(ceiling(1), 16);
        assert_eq!(ceiling(8), 64);
    }
}
