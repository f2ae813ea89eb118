//! A chat server's incoming webhook for tests: a real HTTP server (axum)
//! on loopback that takes `POST /hooks/{secret}` with a JSON body, as
//! Slack's or Teams' incoming webhooks do, and keeps the bodies it took.
//! It can be told to answer with another status (a 500, say), in which
//! case it keeps nothing, and it can be stopped and started again on the
//! same port, to play a chat server that is down.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Shared {
    /// The bodies taken (answered with a 2xx), in order.
    taken: Mutex<Vec<serde_json::Value>>,
    /// Every request that reached the server, taken or not.
    tries: AtomicUsize,
    /// The status to answer with (200 unless told otherwise).
    status: AtomicU16,
}

pub struct ChatSink {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl ChatSink {
    pub async fn start() -> ChatSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let running = Some(serve(listener, shared.clone()));
        ChatSink {
            addr,
            shared,
            running,
        }
    }

    /// The incoming-webhook address to give the node.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/T01-secret", self.addr)
    }

    /// Answers every post with `status` from now on (a 2xx takes it).
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Stops listening and closes every connection: posts are refused
    /// until [`ChatSink::resume`].
    pub async fn stop(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            let _ = shutdown.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("bind again");
        self.running = Some(serve(listener, self.shared.clone()));
    }

    /// The `text` of each body taken so far, in order.
    pub fn texts(&self) -> Vec<String> {
        self.shared
            .taken
            .lock()
            .map(|t| {
                t.iter()
                    .map(|b| b["text"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The bodies taken so far, whole.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.shared
            .taken
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// How many posts reached the server, taken or not.
    pub fn tries(&self) -> usize {
        self.shared.tries.load(Ordering::SeqCst)
    }
}

impl Drop for ChatSink {
    fn drop(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            let _ = shutdown.send(());
            task.abort();
        }
    }
}

/// Serves until told to stop; then every connection is closed, idle
/// keep-alive ones included, so a client's pooled connection does not
/// outlive the "outage".
fn serve(listener: TcpListener, shared: Arc<Shared>) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/hooks/{secret}", post(hook))
        .with_state(shared);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    (tx, task)
}

/// Takes a post as an incoming webhook does: JSON with a `text`, or 400.
async fn hook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    shared.tries.fetch_add(1, Ordering::SeqCst);
    let status = StatusCode::from_u16(shared.status.load(Ordering::SeqCst))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !status.is_success() {
        return status;
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if !json || !value["text"].is_string() {
        return StatusCode::BAD_REQUEST;
    }
    if let Ok(mut taken) = shared.taken.lock() {
        taken.push(value);
    }
    status
}
