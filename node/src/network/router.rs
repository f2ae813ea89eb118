//! The application router: what other nodes send (gossip, sync requests,
//! direct messages) waits here in bounded queues, one per kind of work,
//! until one of a fixed pool of worker threads hands it to the service.
//!
//! The shape is Lighthouse's beacon processor: the network's event loop
//! only moves bytes and never waits for the application; the application
//! works at its own pace; and when it falls behind, work is refused at the
//! door rather than piling up in memory. Refusing is safe because nothing
//! an honest peer sends is lost by it:
//!
//! - a gossip message that finds its queue full is *ignored* (not rejected,
//!   so the sender's score does not suffer); reconciliation brings the
//!   record later;
//! - a direct message is answered `try_later`, and the sender's courier
//!   keeps it and sends it again;
//! - a sync request is answered `try_later`, and the asker's next round
//!   asks again.
//!
//! Workers take direct messages first (a person is waiting), then gossip,
//! then sync requests; at most one worker answers sync requests at a time,
//! so a peer asking for large pages cannot starve gossip.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use libp2p::PeerId;
use libp2p::gossipsub::MessageId;
use libp2p::request_response::ResponseChannel;
use skillmesh_protocol::fingerprint::Fingerprint;
use tokio::sync::mpsc;

use super::wire::{DirectMessage, DirectReply, SyncRequest, SyncResponse};
use super::{Command, direct, sync};
use crate::metrics::Metrics;
use crate::service::{Service, Verdict};
use crate::store::Actor;

/// Queue sizes. Gossip is the bulk; a direct message or a sync request
/// each holds a peer's stream open, so fewer of those may wait.
pub const GOSSIP_QUEUE: usize = 4096;
pub const DIRECT_QUEUE: usize = 256;
pub const SYNC_QUEUE: usize = 64;

/// One piece of work from another node.
pub(crate) enum Work {
    Gossip {
        id: MessageId,
        source: PeerId,
        data: Vec<u8>,
        /// When it reached the node.
        received: Instant,
    },
    Sync {
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    },
    Direct {
        peer: PeerId,
        message: DirectMessage,
        channel: ResponseChannel<DirectReply>,
    },
}

/// The queues' names, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Gossip,
    Sync,
    Direct,
}

impl Queue {
    pub const ALL: [Queue; 3] = [Queue::Gossip, Queue::Sync, Queue::Direct];

    pub fn name(self) -> &'static str {
        match self {
            Queue::Gossip => "gossip",
            Queue::Sync => "sync",
            Queue::Direct => "direct",
        }
    }

    fn capacity(self) -> usize {
        match self {
            Queue::Gossip => GOSSIP_QUEUE,
            Queue::Sync => SYNC_QUEUE,
            Queue::Direct => DIRECT_QUEUE,
        }
    }
}

impl Work {
    fn queue(&self) -> Queue {
        match self {
            Work::Gossip { .. } => Queue::Gossip,
            Work::Sync { .. } => Queue::Sync,
            Work::Direct { .. } => Queue::Direct,
        }
    }
}

#[derive(Default)]
struct Queues {
    gossip: VecDeque<Work>,
    sync: VecDeque<Work>,
    direct: VecDeque<Work>,
    /// A worker is answering a sync request.
    sync_busy: bool,
    closed: bool,
}

impl Queues {
    fn of(&mut self, q: Queue) -> &mut VecDeque<Work> {
        match q {
            Queue::Gossip => &mut self.gossip,
            Queue::Sync => &mut self.sync,
            Queue::Direct => &mut self.direct,
        }
    }

    /// The next piece of work a worker may take, by priority.
    fn next(&mut self) -> Option<Work> {
        if let Some(w) = self.direct.pop_front() {
            return Some(w);
        }
        if let Some(w) = self.gossip.pop_front() {
            return Some(w);
        }
        if !self.sync_busy
            && let Some(w) = self.sync.pop_front()
        {
            self.sync_busy = true;
            return Some(w);
        }
        None
    }
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
    metrics: Metrics,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where workers send what they decided, and whom they tell about it.
#[derive(Clone)]
pub(crate) struct Outlets {
    /// Back to the event loop: verdicts and responses.
    pub commands: mpsc::Sender<Command>,
    /// To the reconciler: peers whose records differ from ours, with the
    /// fingerprint they announced.
    pub differs: mpsc::Sender<(PeerId, Fingerprint)>,
}

/// The router: the queues and their workers.
pub(crate) struct Router {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Router {
    /// Starts `workers` worker threads serving `service`.
    pub(crate) fn start(service: Service, outlets: Outlets, workers: usize) -> Router {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
            metrics: service.metrics().clone(),
        });
        let handles = (0..workers)
            .filter_map(|i| {
                let (shared, service, outlets) = (shared.clone(), service.clone(), outlets.clone());
                std::thread::Builder::new()
                    .name(format!("skillmesh-worker-{i}"))
                    .spawn(move || work(&shared, &service, &outlets))
                    .map_err(|e| tracing::error!(error = %e, "cannot start a network worker"))
                    .ok()
            })
            .collect();
        Router {
            shared,
            workers: handles,
        }
    }

    /// Queues `work`, or hands it back when its queue is full.
    pub(crate) fn submit(&self, work: Work) -> Result<(), Box<Work>> {
        let q = work.queue();
        let mut queues = self.shared.lock();
        if queues.closed || queues.of(q).len() >= q.capacity() {
            drop(queues);
            self.shared.metrics.queue_dropped(q.name());
            return Err(Box::new(work));
        }
        queues.of(q).push_back(work);
        self.shared
            .metrics
            .queue_depth(q.name(), queues.of(q).len());
        drop(queues);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Stops taking work, lets the workers finish what they hold, and waits
    /// for them (they hold the service, and with it the store).
    pub(crate) fn shutdown(self) {
        {
            let mut queues = self.shared.lock();
            queues.closed = true;
            queues.gossip.clear();
            queues.sync.clear();
            queues.direct.clear();
        }
        self.shared.ready.notify_all();
        for w in self.workers {
            let _ = w.join();
        }
    }
}

fn work(shared: &Shared, service: &Service, outlets: &Outlets) {
    loop {
        let item = {
            let mut queues = shared.lock();
            loop {
                if queues.closed {
                    return;
                }
                if let Some(w) = queues.next() {
                    let q = w.queue();
                    shared.metrics.queue_depth(q.name(), queues.of(q).len());
                    break w;
                }
                queues = shared
                    .ready
                    .wait(queues)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let q = item.queue();
        handle(item, service, outlets);
        if q == Queue::Sync {
            shared.lock().sync_busy = false;
            // Another worker may be waiting for the sync slot.
            shared.ready.notify_one();
        }
    }
}

fn handle(item: Work, service: &Service, outlets: &Outlets) {
    let reply = match item {
        Work::Gossip {
            id,
            source,
            data,
            received,
        } => {
            // The verdict goes out as soon as the service has decided it,
            // while the record is still being stored.
            let mut decided = false;
            let tell = |verdict: Verdict| {
                decided = true;
                send(
                    outlets,
                    Command::Validated {
                        id: id.clone(),
                        source,
                        verdict,
                        received,
                    },
                );
            };
            match service.ingest_gossip(&data, &Actor::Peer(source.to_string()), tell) {
                Ok(_) => {}
                // Logged once by the store when the fault began.
                Err(e) if e.store_fault().is_some() => {
                    tracing::debug!(error = %e, "storing a gossiped record failed");
                }
                Err(e) => tracing::warn!(error = %e, "storing a gossiped record failed"),
            }
            if decided {
                return;
            }
            // A local failure came before a verdict: not the sender's fault.
            Command::Validated {
                id,
                source,
                verdict: Verdict::Ignore,
                received,
            }
        }
        Work::Sync {
            peer,
            request,
            channel,
        } => {
            let (response, differs) = sync::answer(service, &peer, request);
            if let Some(theirs) = differs {
                // Its records differ from ours: it takes what we have in its
                // round; ours with it takes what it has.
                let _ = outlets.differs.try_send((peer, theirs));
            }
            Command::SyncRespond { channel, response }
        }
        Work::Direct {
            peer,
            message,
            channel,
        } => Command::DirectRespond {
            channel,
            reply: direct::answer(service, &peer, message),
        },
    };
    send(outlets, reply);
}

/// Hands `command` to the network's event loop.
fn send(outlets: &Outlets, command: Command) {
    if outlets.commands.blocking_send(command).is_err() {
        tracing::debug!("network task gone; reply dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gossip(n: u8) -> Work {
        Work::Gossip {
            id: MessageId::from(vec![n]),
            source: PeerId::random(),
            data: vec![n],
            received: Instant::now(),
        }
    }

    fn service() -> (tempfile::TempDir, Service) {
        Service::for_tests()
    }

    #[test]
    fn a_full_queue_hands_work_back_and_counts_the_drop() {
        let (_dir, service) = service();
        let (commands, _rx) = mpsc::channel(1);
        let (differs, _drx) = mpsc::channel(1);
        let metrics = service.metrics().clone();
        // No workers: nothing is taken off the queue.
        let router = Router::start(service, Outlets { commands, differs }, 0);
        for i in 0..GOSSIP_QUEUE {
            assert!(router.submit(gossip((i % 256) as u8)).is_ok(), "item {i}");
        }
        let refused = router.submit(gossip(1)).expect_err("full");
        assert!(matches!(*refused, Work::Gossip { .. }));
        let text = metrics.render(&[]).expect("metrics");
        assert!(
            text.contains(&format!(
                "skillmesh_queue_depth{{queue=\"gossip\"}} {GOSSIP_QUEUE}"
            )),
            "{text}"
        );
        assert!(
            text.contains("skillmesh_queue_dropped_total{queue=\"gossip\"} 1"),
            "{text}"
        );
        router.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_take_the_queue_and_send_a_verdict_for_each_message() {
        let (_dir, service) = service();
        let (commands, mut rx) = mpsc::channel(16);
        let (differs, _drx) = mpsc::channel(1);
        let router = Router::start(service, Outlets { commands, differs }, 2);
        for i in 0..3 {
            router
                .submit(gossip(i))
                .map_err(|_| "full")
                .expect("queued");
        }
        let mut verdicts = Vec::new();
        for _ in 0..3 {
            match rx.recv().await {
                Some(Command::Validated { verdict, .. }) => verdicts.push(verdict),
                _ => panic!("expected a verdict"),
            }
        }
        // Garbage is rejected (its sender's score falls).
        assert_eq!(verdicts, [Verdict::Reject; 3]);
        tokio::task::spawn_blocking(move || router.shutdown())
            .await
            .expect("shutdown");
    }
}
