//! When to reconcile with whom. One task keeps, for every connected peer,
//! the [`Memo`] of the last round and when the next is due, and runs
//! rounds ([`reconcile::round`]):
//!
//! - at once when a connection is established (a restart, a healed
//!   partition, a new partner): this is what brings nodes back into
//!   agreement within seconds of a link coming back;
//! - every `interval` (with jitter) with each connected peer, as a safety
//!   net for gossip that was lost or ignored; when nothing differs this is
//!   one small exchange;
//! - soon after a peer's `digest` showed that its records differ from
//!   ours in a way not yet settled (it has something new for us);
//! - with every other peer after a round stored something new here, so
//!   that what this node learned by reconciliation travels on;
//! - with everyone, memos forgotten, after a policy change let more in.
//!
//! At most [`MAX_CONCURRENT_ROUNDS`] rounds run at once, so a node that
//! connects to many peers at the same moment fetches what it lacks from
//! one or two of them rather than the same records from all.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::PeerId;
use skillmesh_protocol::fingerprint::Fingerprint;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::NetworkHandle;
use super::reconcile::{self, Memo, Outcome};
use crate::metrics::{Metrics, ReconcileResult};
use crate::service::Service;

pub const MAX_CONCURRENT_ROUNDS: usize = 4;
/// A round that takes longer than this is abandoned (and counted failed).
pub const ROUND_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the node asks one peer whom it knows.
const EXCHANGE_EVERY: Duration = Duration::from_secs(60);
/// While the node is short of peers with nobody new to dial, it asks a
/// peer again this long after it last asked it, then twice as long each
/// time, up to [`EXCHANGE_EVERY`]: two nodes that joined the same
/// bootstrap node at the same moment each heard of nobody when they first
/// asked, and must not wait a minute to learn of each other; in a network
/// smaller than the node's target, which keeps it short of peers for good,
/// each peer is asked once a minute.
const ASK_AGAIN_WHEN_SHORT: Duration = Duration::from_secs(5);
/// A round prompted by a difference a peer announced (or by records just
/// learned) waits this long, so that gossip in flight lands first: while
/// records are being published, nodes differ for a moment all the time,
/// and rounds run at once would fetch by reconciliation what gossip is
/// about to deliver.
const SETTLE: Duration = Duration::from_secs(2);
/// Rounds with one peer started by a nudge are at least this far apart.
const NUDGE_GAP: Duration = Duration::from_millis(500);

/// Connections as the event loop sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerEvent {
    Connected(PeerId),
    Disconnected(PeerId),
    /// The node has fewer connections than it wants and nobody new to
    /// dial: ask a connected peer whom it knows.
    WantPeers,
    /// A gossip message from this peer was ignored (the queue was full):
    /// reconcile with it soon, which brings the record.
    Missed(PeerId),
}

struct PeerState {
    /// `None` while a round holds it.
    memo: Option<Memo>,
    next_at: Instant,
    /// Run again this soon after the current round ends.
    again: Option<Duration>,
    last_started: Option<Instant>,
    /// Periodic rounds in a row that found nothing to do.
    quiet: u32,
    /// Forget what the running round settled when it ends (a policy
    /// change came meanwhile).
    forget: bool,
    /// Range and fetch requests sent to this peer since a round last
    /// stored something or found it in agreement (see [`FRUITLESS_LIMIT`]).
    fruitless: usize,
}

/// A peer that keeps announcing differences that lead nowhere: after this
/// many range and fetch requests without a record stored or agreement
/// reached, it is penalised and dropped. An honest peer that differs only
/// because it lacks what we hold catches up by itself within a round or
/// two (each costing a few requests); four full round budgets of nothing
/// is a peer wasting this node's work (docs/PROTOCOL.md §Sync budgets).
pub const FRUITLESS_LIMIT: usize = 4 * super::sync::Budget::ROUND.requests;

impl PeerState {
    fn new(now: Instant) -> PeerState {
        PeerState {
            memo: Some(Memo::default()),
            next_at: now,
            again: None,
            last_started: None,
            quiet: 0,
            forget: false,
            fruitless: 0,
        }
    }

    /// Due after `delay`, but not sooner than [`NUDGE_GAP`] after the
    /// last start.
    fn nudge(&mut self, now: Instant, delay: Duration) {
        if self.memo.is_none() {
            self.again = Some(self.again.map_or(delay, |d| d.min(delay)));
            return;
        }
        let earliest = self.last_started.map_or(now, |t| t + NUDGE_GAP);
        self.next_at = self.next_at.min(earliest.max(now + delay));
    }
}

struct Done {
    peer: PeerId,
    memo: Memo,
    result: Result<Outcome, String>,
}

/// The inputs of the reconciler task.
pub(crate) struct Inputs {
    pub events: mpsc::Receiver<PeerEvent>,
    pub differs: mpsc::Receiver<(PeerId, Fingerprint)>,
    /// Forget what was settled and reconcile with everyone (a policy
    /// change let more in).
    pub resync: mpsc::Receiver<()>,
}

/// Runs until the event channel closes.
pub(crate) async fn run(
    handle: NetworkHandle,
    service: Service,
    interval: Duration,
    mut inputs: Inputs,
) {
    let metrics = service.metrics().clone();
    let mut peers: HashMap<PeerId, PeerState> = HashMap::new();
    // Dropped (and every round aborted) when the reconciler is stopped.
    let mut rounds: JoinSet<Done> = JoinSet::new();
    // Peer exchange with each new connection (whom do you know?), at most
    // once per peer per [`EXCHANGE_EVERY`].
    let mut exchanges: JoinSet<()> = JoinSet::new();
    // When each peer was last asked, and how long to wait before asking
    // it again while short of peers.
    let mut exchanged: HashMap<PeerId, (Instant, Duration)> = HashMap::new();
    let mut running_for: HashMap<tokio::task::Id, PeerId> = HashMap::new();
    let mut running = 0usize;
    loop {
        let now = Instant::now();
        if running < MAX_CONCURRENT_ROUNDS {
            let mut due: Vec<(PeerId, Instant)> = peers
                .iter()
                .filter(|(_, s)| s.memo.is_some() && s.next_at <= now)
                .map(|(p, s)| (*p, s.next_at))
                .collect();
            due.sort_by_key(|(_, at)| *at);
            for (peer, _) in due.into_iter().take(MAX_CONCURRENT_ROUNDS - running) {
                let Some(state) = peers.get_mut(&peer) else {
                    continue;
                };
                let Some(mut memo) = state.memo.take() else {
                    continue;
                };
                state.last_started = Some(now);
                state.again = None;
                running += 1;
                let (handle, service) = (handle.clone(), service.clone());
                let task = rounds.spawn(async move {
                    let result = tokio::time::timeout(
                        ROUND_TIMEOUT,
                        reconcile::round(&handle, &service, peer, &mut memo),
                    )
                    .await
                    .unwrap_or_else(|_| {
                        // The time budget: the round ends, and the next one
                        // goes on (a slow link is not a fault).
                        Err(reconcile::RoundError::Network(
                            super::NetworkError::Request("the round took too long".into()),
                        ))
                    });
                    if let Err(reconcile::RoundError::Fault(why)) = &result {
                        // Dropped and kept out (see `penalties`).
                        let _ = handle.penalise_sync(peer, why.clone()).await;
                    }
                    let result = result.map_err(|e| e.to_string());
                    Done { peer, memo, result }
                });
                running_for.insert(task.id(), peer);
            }
        }
        let next_due = peers
            .values()
            .filter(|s| s.memo.is_some())
            .map(|s| s.next_at)
            .min();
        let sleep = async {
            match next_due {
                Some(at) if running < MAX_CONCURRENT_ROUNDS => tokio::time::sleep_until(at).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            event = inputs.events.recv() => match event {
                Some(PeerEvent::WantPeers) => {
                    let now = Instant::now();
                    if let Some((peer, gap)) = whom_to_ask(peers.keys(), &exchanged, now) {
                        exchanged.insert(peer, (now, gap));
                        exchanges.spawn(exchange(handle.clone(), peer));
                    }
                }
                Some(PeerEvent::Connected(peer)) => {
                    let now = Instant::now();
                    if exchanged.get(&peer).is_none_or(|(t, _)| now.duration_since(*t) > EXCHANGE_EVERY) {
                        exchanged.insert(peer, (now, ASK_AGAIN_WHEN_SHORT));
                        exchanged.retain(|_, (t, _)| now.duration_since(*t) <= EXCHANGE_EVERY);
                        exchanges.spawn(exchange(handle.clone(), peer));
                    }
                    match peers.get_mut(&peer) {
                        Some(state) => state.nudge(Instant::now(), Duration::ZERO),
                        None => {
                            peers.insert(peer, PeerState::new(Instant::now()));
                        }
                    }
                }
                Some(PeerEvent::Missed(peer)) => {
                    if let Some(state) = peers.get_mut(&peer) {
                        state.nudge(Instant::now(), SETTLE);
                    }
                }
                Some(PeerEvent::Disconnected(peer)) => {
                    peers.remove(&peer);
                }
                None => break,
            },
            Some((peer, theirs)) = inputs.differs.recv() => {
                if let Some(state) = peers.get_mut(&peer) {
                    // Not if it still holds exactly what we settled with it:
                    // then it is we who have something it lacks.
                    let settled = state.memo.as_ref().and_then(|m| m.settled);
                    if settled != Some(theirs) {
                        state.nudge(Instant::now(), SETTLE);
                    }
                }
            }
            Some(()) = inputs.resync.recv() => {
                let now = Instant::now();
                for state in peers.values_mut() {
                    match state.memo.as_mut() {
                        Some(memo) => *memo = Memo::default(),
                        None => state.forget = true,
                    }
                    state.nudge(now, Duration::ZERO);
                }
            }
            Some(joined) = rounds.join_next_with_id(), if !rounds.is_empty() => {
                running -= 1;
                let now = Instant::now();
                let done = match joined {
                    Ok((id, done)) => {
                        running_for.remove(&id);
                        done
                    }
                    Err(e) => {
                        // A round that panicked: start afresh with that peer.
                        tracing::warn!(error = %e, "a reconciliation round failed unexpectedly");
                        if let Some(peer) = running_for.remove(&e.id())
                            && let Some(state) = peers.get_mut(&peer)
                        {
                            state.memo = Some(Memo::default());
                            state.next_at = now + interval;
                        }
                        continue;
                    }
                };
                let stored = on_done(&done, &metrics);
                if let Some(state) = peers.get_mut(&done.peer) {
                    state.memo = Some(if std::mem::take(&mut state.forget) {
                        Memo::default()
                    } else {
                        done.memo
                    });
                    // A peer found in agreement round after round is asked
                    // less often (up to `QUIET_FACTOR` times the interval);
                    // any difference brings it back to the interval.
                    state.fruitless = match done.result {
                        Ok(Outcome::Reconciled {
                            stored: 0,
                            requests,
                            ..
                        }) => state.fruitless.saturating_add(requests),
                        Ok(_) => 0,
                        Err(_) => state.fruitless,
                    };
                    if state.fruitless > FRUITLESS_LIMIT {
                        state.fruitless = 0;
                        let handle = handle.clone();
                        let peer = done.peer;
                        tokio::spawn(async move {
                            let why = "announced differences that led to nothing, round after round";
                            let _ = handle.penalise_sync(peer, why.into()).await;
                        });
                    }
                    state.quiet = match done.result {
                        Ok(Outcome::InSync | Outcome::Unchanged) => {
                            state.quiet.saturating_add(1)
                        }
                        _ => 0,
                    };
                    let wait = interval.saturating_mul(quiet_factor(state.quiet));
                    let unfinished = matches!(
                        done.result,
                        Ok(Outcome::Reconciled {
                            unfinished: true,
                            ..
                        })
                    );
                    state.next_at = match state.again.take() {
                        _ if unfinished => now + NUDGE_GAP,
                        Some(delay) => now + delay,
                        None => now + super::peer_book::jitter(wait),
                    };
                }
                if stored > 0 {
                    for (peer, state) in peers.iter_mut() {
                        if *peer != done.peer {
                            state.nudge(now, SETTLE);
                        }
                    }
                }
            }
            Some(_) = exchanges.join_next(), if !exchanges.is_empty() => {}
            () = sleep => {}
        }
    }
}

/// Most times the interval a quiet peer's next round waits.
pub const QUIET_FACTOR: u32 = 8;

/// How many intervals to wait after `quiet` rounds in a row in agreement:
/// 1, 1, 2, 4, 8, 8, …
fn quiet_factor(quiet: u32) -> u32 {
    match quiet {
        0 | 1 => 1,
        n => (1u32 << (n - 1).min(3)).min(QUIET_FACTOR),
    }
}

/// Whom to ask for more peers while the node is short of them: the
/// connected peer asked longest ago (or never), unless it was asked less
/// than its gap ago; with the gap to wait before asking it again (doubled,
/// up to [`EXCHANGE_EVERY`]). `asked` holds when each peer was last asked
/// and its gap.
fn whom_to_ask<'a>(
    connected: impl Iterator<Item = &'a PeerId>,
    asked: &HashMap<PeerId, (Instant, Duration)>,
    now: Instant,
) -> Option<(PeerId, Duration)> {
    let (peer, last) = connected
        .map(|p| (*p, asked.get(p).copied()))
        .min_by_key(|(_, last)| last.map(|(t, _)| t))?;
    match last {
        None => Some((peer, ASK_AGAIN_WHEN_SHORT)),
        Some((t, gap)) if now.duration_since(t) >= gap => {
            Some((peer, gap.saturating_mul(2).min(EXCHANGE_EVERY)))
        }
        Some(_) => None,
    }
}

/// Peer exchange with `peer`.
async fn exchange(handle: NetworkHandle, peer: PeerId) {
    match super::sync::exchange_peers(&handle, peer).await {
        Ok(n) => tracing::debug!(%peer, known = n, "peer exchange"),
        Err(e) => tracing::debug!(%peer, error = %e, "peer exchange failed"),
    }
}

/// Logs and counts a finished round; returns how many records it stored.
fn on_done(done: &Done, metrics: &Metrics) -> usize {
    match &done.result {
        Ok(Outcome::InSync | Outcome::Unchanged) => {
            metrics.reconcile_round(ReconcileResult::InSync);
            0
        }
        Ok(Outcome::Reconciled {
            orgs,
            fetched,
            stored,
            ..
        }) => {
            metrics.reconcile_round(ReconcileResult::Differed);
            metrics.reconcile_fetched(*fetched as u64);
            if *stored > 0 {
                tracing::info!(peer = %done.peer, orgs, fetched, stored, "reconciled with peer");
            } else {
                tracing::debug!(peer = %done.peer, orgs, fetched, "reconciled with peer: nothing new");
            }
            *stored
        }
        Err(e) => {
            metrics.reconcile_round(ReconcileResult::Failed);
            tracing::info!(peer = %done.peer, error = %e, "reconciliation round failed");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_peer_is_asked_less_often_up_to_a_bound() {
        let factors: Vec<u32> = (0..7).map(quiet_factor).collect();
        assert_eq!(factors, [1, 1, 2, 4, 8, 8, 8]);
    }

    #[test]
    fn a_node_short_of_peers_asks_again_soon_then_less_often() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        // Both were asked on connecting, a first.
        let mut asked = HashMap::from([
            (a, (t0, ASK_AGAIN_WHEN_SHORT)),
            (b, (t0 + secs(1), ASK_AGAIN_WHEN_SHORT)),
        ]);
        let ask = |asked: &HashMap<PeerId, (Instant, Duration)>, at: Instant| {
            whom_to_ask([a, b].iter(), asked, at)
        };
        // Not again within 5 s of asking a (the one asked longest ago).
        assert_eq!(ask(&asked, t0 + secs(4)), None);
        // Then a, which is next asked 10 s later, not a minute.
        assert_eq!(ask(&asked, t0 + secs(5)), Some((a, secs(10))));
        asked.insert(a, (t0 + secs(5), secs(10)));
        assert_eq!(ask(&asked, t0 + secs(6)), Some((b, secs(10))));
        asked.insert(b, (t0 + secs(6), secs(10)));
        assert_eq!(ask(&asked, t0 + secs(14)), None);
        // The gap doubles up to a minute, and stays there.
        let mut gap = secs(10);
        for _ in 0..6 {
            let (at_a, _) = asked[&a];
            let next = ask(&asked, at_a + gap);
            let expected = (gap * 2).min(EXCHANGE_EVERY);
            assert_eq!(next, Some((a, expected)));
            asked.insert(a, (at_a + gap, expected));
            asked.insert(b, (at_a + gap, expected));
            gap = expected;
        }
        assert_eq!(gap, EXCHANGE_EVERY);
        // A peer never asked comes first.
        let c = PeerId::random();
        assert_eq!(
            whom_to_ask([a, b, c].iter(), &asked, t0),
            Some((c, ASK_AGAIN_WHEN_SHORT))
        );
        assert_eq!(whom_to_ask([].iter(), &asked, t0), None);
    }
}
