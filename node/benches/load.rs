//! Search under load, measured from outside: a real `skillmesh run`
//! process (the release binary, with its own data directory, sled database
//! and search index on disk) driven over loopback HTTP by the load tool
//! `wrk`, next to a bare axum server that answers the same route with a
//! fixed body of the same size, in the same run.
//!
//! `cargo bench -p skillmesh-node --bench load` (needs `wrk` on `PATH`:
//! `apt-get install wrk`; without it the bench says so and exits with
//! status 2).
//!
//! What it does:
//!
//! 1. In a temp dir: `skillmesh init` (web and libp2p on loopback only, no
//!    mDNS), `skillmesh user add` (an admin, password on stdin) and
//!    `skillmesh sample-data --records N`, timed.
//! 2. Twice, once as configured ("results cache on") and once with
//!    `SKILLMESH_SEARCH_CACHED_RESULTS=0` ("results cache off"): starts
//!    `skillmesh run` as a child process on a free loopback port, waits for
//!    `GET /healthz`, signs in as a browser does (GET /signin for the CSRF
//!    cookie and field, POST the form, keep the session cookie), and 20 s
//!    after the start reads the node's VmRSS and RssAnon from
//!    `/proc/PID/status` ("at rest"). Then it checks each query of the mix
//!    once (every one must answer 200), runs `wrk -t2 -c16 --latency` and
//!    `wrk -t2 -c64 --latency` against `GET /api/v1/search?q=...` cycling
//!    through a mix of 15 queries (typos, prefixes and the empty query
//!    included) with the session cookie, reads the RSS after each run and
//!    again after a settling wait ("later"). Then it signs in
//!    `SIGN_INS` (80) times at once, each as a browser does, and reads the
//!    RSS right after and again after the settling wait: argon2 holds 19
//!    MiB per check, so sign-ins are where memory used to grow and stay.
//!    Then it stops the node with SIGINT.
//! 3. Bare axum: in this process, a tokio runtime of 2 workers serves
//!    `GET /api/v1/search` with the exact bytes the node answered to
//!    `q=leadership` (as `application/json`), under the same two wrk runs
//!    and the same script.
//! 4. Prints a markdown table (req/s, p50 and p99 as wrk measured them,
//!    failed responses, RSS after each run), RSS at rest and later per node
//!    run, the machine, the date, the load average at the start, and the
//!    aims from the issue: at 16 connections at least 5,000 req/s with p99
//!    under 20 ms; VmRSS under 150 MB at rest and under 200 MB after load
//!    (sign-ins included).
//!
//! Environment:
//! - `LOAD_RECORDS`: records `sample-data` adds (default 100000);
//! - `LOAD_SECS`: seconds of each wrk run (default 20);
//! - `LOAD_SETTLE_SECS`: wait after the last run before the "later" RSS
//!   reading (default 60);
//! - `LOAD_BIN`: another `skillmesh` binary to measure instead of this
//!   package's (a build of an earlier commit, say). One that does not know
//!   `SKILLMESH_SEARCH_CACHED_RESULTS` runs its second round as
//!   configured, and the report says so.
//!
//! A quick trial: `LOAD_RECORDS=2000 LOAD_SECS=3 LOAD_SETTLE_SECS=2 cargo
//! bench -p skillmesh-node --bench load`.
//!
//! Caveats. wrk and the server share the machine's cores (2 on the bench
//! machine): wrk's two threads take CPU from the node, so these are the
//! figures of a node with a client next to it, not its ceiling. wrk counts
//! 4xx and 5xx responses ("Non-2xx or 3xx responses"), and socket errors
//! (timeouts after 2 s included) separately; a request that timed out is
//! not in the latency figures, so any failure marks the row as failed and
//! the bench exits with status 1 after printing everything. MB here are
//! MiB (kB from /proc divided by 1,024). The node's replies carry more
//! headers than bare axum's (security headers, caching); the bodies are
//! the same size. Other `SKILLMESH_*` variables of this process are not
//! passed to the node.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;

/// The node binary: `LOAD_BIN` when set (to measure another build, such
/// as one of an earlier commit, with the same bench), otherwise the one
/// this package builds (cargo sets it for benches).
fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("LOAD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_skillmesh").to_string())
    })
}

const ORG: &str = "Load bench";
const USER: &str = "bench@load.example";
const PASSWORD: &str = "a long enough load bench password";

/// The query mix, URL-encoded, in the order each wrk thread cycles through.
const QUERIES: [&str; 15] = [
    "leadership",
    "kubernetes",
    "incident%20response",
    "rust",
    "negotiation",
    "python%20data",
    "feedback",
    "securty",
    "obser",
    "",
    "storytelling",
    "machine%20learning",
    "hiring",
    "postgresql",
    "coaching%20leadership",
];
/// The query whose reply bare axum serves.
const BODY_QUERY: &str = "leadership";

const WRK_THREADS: u32 = 2;
/// Sign-ins sent at once after the search load (the issue's 80).
const SIGN_INS: usize = 80;
const CONNECTIONS: [u32; 2] = [16, 64];

/// From the node's start to the "at rest" reading.
const REST_AFTER_START: Duration = Duration::from_secs(20);
/// Longest wait for `/healthz` to answer 200.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for the node to stop after SIGINT before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of each request the bench itself sends (not wrk's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The node's setting for its search results cache (0 turns it off).
const CACHE_VAR: &str = "SKILLMESH_SEARCH_CACHED_RESULTS";

/// The aims (from the issue).
const AIM_RPS: f64 = 5_000.0;
const AIM_P99_MS: f64 = 20.0;
const AIM_REST_MB: f64 = 150.0;
const AIM_LOADED_MB: f64 = 200.0;
/// The connections at which the throughput and latency aims apply.
const AIM_CONNECTIONS: u32 = 16;

/// Sends every wrk thread through `QUERIES` in turn, with the session
/// cookie given after `--`. It has no `response()` function: defining one
/// makes wrk parse every response in Lua, which costs the client CPU it
/// shares with the server; wrk counts 4xx/5xx itself.
const WRK_SCRIPT_HEAD: &str = r#"-- Written by node/benches/load.rs.
local cookie = ""
local i = 0
function init(args)
  cookie = args[1] or ""
end
function request()
  i = (i % #queries) + 1
  return wrk.format("GET", "/api/v1/search?q=" .. queries[i], { ["Cookie"] = cookie })
end
"#;

fn main() -> ExitCode {
    if find_on_path("wrk").is_none() {
        eprintln!(
            "The load bench needs the HTTP load tool `wrk`, which is not on PATH. \
             Install it (on Debian: `apt-get install wrk`) and run it again."
        );
        return ExitCode::from(2);
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("Some requests failed under load: see the table above.");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("load bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the environment asks for.
struct Settings {
    records: u64,
    load_secs: u64,
    settle_secs: u64,
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let settings = Settings {
            records: env_number("LOAD_RECORDS", 100_000)?,
            load_secs: env_number("LOAD_SECS", 20)?,
            settle_secs: env_number("LOAD_SETTLE_SECS", 60)?,
        };
        if !(1..=1_000_000).contains(&settings.records) {
            bail!("LOAD_RECORDS must be between 1 and 1000000");
        }
        if settings.load_secs == 0 {
            bail!("LOAD_SECS must be at least 1");
        }
        Ok(settings)
    }
}

fn env_number(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .with_context(|| format!("{name}={text:?} is not a whole number")),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(error) => Err(anyhow!("{name}: {error}")),
    }
}

/// Runs everything and prints the report; false when requests failed.
fn run() -> Result<bool> {
    let settings = Settings::from_env()?;
    let machine = Machine::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;

    let tmp = tempfile::Builder::new()
        .prefix("skillmesh-load-")
        .tempdir()
        .context("cannot create a temp dir")?;
    let script = tmp.path().join("search.lua");
    std::fs::write(&script, wrk_script())
        .with_context(|| format!("cannot write {}", script.display()))?;

    eprintln!("node binary: {}", bin());
    let setup = set_up_node(tmp.path(), settings.records)?;
    let cache_setting = probe_cache_setting(&setup.config)?;

    let round = |label, file, env| {
        node_round(
            &rt,
            &client,
            &settings,
            &setup.config,
            &script,
            tmp.path(),
            Round { label, file, env },
        )
    };
    let on = round("node (cache on)", "cache-on", &[])?;
    // The second round with the results cache off. A binary that does not
    // know the setting (an older build under `LOAD_BIN`) runs it as
    // configured, and the report says so.
    let off_env: &[(&str, &str)] = &[(CACHE_VAR, "0")];
    let off = match &cache_setting {
        CacheSetting::Known => round("node (cache off)", "cache-off", off_env)?,
        CacheSetting::Unknown(why) => {
            let mut off = round("node (cache off NOT applied)", "cache-off-unknown", off_env)?;
            off.note = Some(format!(
                "this node binary does not take {CACHE_VAR} ({why}); the variable was set but \
                 ignored, so this row ran with the results cache as configured"
            ));
            off
        }
    };

    eprintln!(
        "bare axum: serving {} bytes as /api/v1/search",
        on.body.len()
    );
    let bare = bare_axum_round(&rt, &settings, &script, on.body.clone())?;

    let report = Report {
        settings: &settings,
        machine: &machine,
        setup: &setup,
        nodes: [&on, &off],
        bare: &bare,
    };
    println!("{}", report.render());
    Ok(report.all_succeeded())
}

// ---------------------------------------------------------------------------
// Setting the node up

/// The node's data directory, ready to run.
struct Setup {
    config: PathBuf,
    sample_data: Duration,
    sample_data_said: String,
    /// Bytes of files under the data directory once filled.
    data_dir_bytes: u64,
}

fn set_up_node(tmp: &Path, records: u64) -> Result<Setup> {
    let data_dir = tmp.join("node");
    let config = data_dir.join("skillmesh.toml");
    let web = format!("127.0.0.1:{}", free_port()?);
    let data_dir_text = path_text(&data_dir)?;
    let config_text = path_text(&config)?;

    eprintln!("skillmesh init in {}", data_dir.display());
    run_checked(
        skillmesh(&[
            "init",
            "--org",
            ORG,
            "--data-dir",
            data_dir_text,
            "--web-listen",
            &web,
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
        ]),
        "skillmesh init",
        None,
    )?;
    if !config.is_file() {
        bail!("skillmesh init succeeded but wrote no {}", config.display());
    }

    run_checked(
        skillmesh(&[
            "user",
            "add",
            USER,
            "--admin",
            "--password-stdin",
            "--config",
            config_text,
        ]),
        "skillmesh user add",
        Some(&format!("{PASSWORD}\n")),
    )?;

    eprintln!("skillmesh sample-data --records {records} (timed)");
    let records_text = records.to_string();
    let started = Instant::now();
    let output = run_checked(
        skillmesh(&[
            "sample-data",
            "--config",
            config_text,
            "--records",
            &records_text,
        ]),
        "skillmesh sample-data",
        None,
    )?;
    let sample_data = started.elapsed();
    let said = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("  {said}");
    Ok(Setup {
        config,
        sample_data,
        sample_data_said: said,
        data_dir_bytes: bytes_under(&data_dir)?,
    })
}

/// The sizes of the files under `dir`, all levels down.
fn bytes_under(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += bytes_under(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Whether the node binary takes the results cache setting.
enum CacheSetting {
    Known,
    /// Why we think it does not.
    Unknown(String),
}

/// Asks `skillmesh invite` (which only reads the config and the key) to
/// load the config with a nonsense value of `CACHE_VAR`: a binary that
/// knows the variable refuses it, one that does not ignores it. Then
/// checks that it accepts 0.
fn probe_cache_setting(config: &Path) -> Result<CacheSetting> {
    let config_text = path_text(config)?;
    let invite = |value: &str| -> Result<Output> {
        let mut cmd = skillmesh(&[
            "invite",
            "--config",
            config_text,
            "--address",
            "/ip4/127.0.0.1/tcp/9",
        ]);
        cmd.env(CACHE_VAR, value);
        cmd.output()
            .with_context(|| format!("cannot run {} invite", bin()))
    };
    let nonsense = invite("not-a-number")?;
    let stderr = String::from_utf8_lossy(&nonsense.stderr);
    if nonsense.status.success() {
        return Ok(CacheSetting::Unknown(format!(
            "it accepted {CACHE_VAR}=not-a-number without a word"
        )));
    }
    if !stderr.contains(CACHE_VAR) {
        return Ok(CacheSetting::Unknown(format!(
            "`skillmesh invite` failed for another reason: {}",
            one_line(&stderr)
        )));
    }
    let zero = invite("0")?;
    if !zero.status.success() {
        return Ok(CacheSetting::Unknown(format!(
            "it refused {CACHE_VAR}=0: {}",
            one_line(&String::from_utf8_lossy(&zero.stderr))
        )));
    }
    Ok(CacheSetting::Known)
}

// ---------------------------------------------------------------------------
// One round against a running node

/// Which round, and what it adds to the node's environment.
struct Round<'a> {
    label: &'static str,
    /// Used in the log file's name.
    file: &'static str,
    env: &'a [(&'a str, &'a str)],
}

/// What a round against one node measured.
struct NodeResult {
    label: &'static str,
    note: Option<String>,
    federated_records: Option<u64>,
    /// From starting the process to `GET /healthz` answering.
    healthy_after: Duration,
    rest: Rss,
    runs: Vec<(u32, WrkResult, Option<Rss>)>,
    later: Rss,
    sign_ins: SignIns,
    settle_secs: u64,
    /// The node's reply to `q=leadership`.
    body: Vec<u8>,
    /// The size of each query's reply, in `QUERIES` order.
    reply_bytes: Vec<usize>,
    stop: Stopped,
}

#[allow(clippy::too_many_arguments)]
fn node_round(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    settings: &Settings,
    config: &Path,
    script: &Path,
    tmp: &Path,
    round: Round<'_>,
) -> Result<NodeResult> {
    let port = free_port()?;
    let web: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = tmp.join(format!("node-{}.log", round.file));
    eprintln!("{}: starting skillmesh run on {web}", round.label);
    let mut node = NodeProcess::start(config, &log, web, round.env)?;

    let health = wait_healthy(rt, client, &mut node)?;
    let federated_records = health
        .get("federated_records")
        .and_then(serde_json::Value::as_u64);
    let healthy_after = node.started.elapsed();
    eprintln!(
        "  healthy after {:.1} s, federated records: {}",
        healthy_after.as_secs_f64(),
        federated_records.map_or_else(|| "?".to_string(), |n| n.to_string())
    );
    let cookie = rt
        .block_on(sign_in(client, web))
        .with_context(|| format!("signing in as {USER}"))
        .map_err(|error| node.with_log(error))?;

    let rest_at = node.started + REST_AFTER_START;
    if let Some(wait) = rest_at.checked_duration_since(Instant::now()) {
        eprintln!(
            "  waiting {:.0} s for the at-rest reading",
            wait.as_secs_f64()
        );
        std::thread::sleep(wait);
    }
    let rest = node.rss()?;

    let (body, reply_bytes) = rt
        .block_on(check_queries(client, web, &cookie))
        .map_err(|error| node.with_log(error))?;

    let mut runs = Vec::new();
    for connections in CONNECTIONS {
        eprintln!("  wrk -c{connections} for {} s", settings.load_secs);
        let result = wrk(script, web, &cookie, connections, settings.load_secs)
            .map_err(|error| node.with_log(error))?;
        eprintln!(
            "    {} req/s, p99 {:.2} ms",
            thousands(result.rps),
            result.p99_ms
        );
        let rss = node.rss()?;
        runs.push((connections, result, Some(rss)));
    }
    eprintln!("  settling {} s", settings.settle_secs);
    std::thread::sleep(Duration::from_secs(settings.settle_secs));
    let later = node.rss()?;
    let sign_ins = sign_in_burst(rt, client, &mut node, settings.settle_secs)?;
    let stop = node.stop()?;
    eprintln!(
        "  stopped in {:.1} s ({})",
        stop.took.as_secs_f64(),
        stop.describe()
    );
    Ok(NodeResult {
        label: round.label,
        note: None,
        federated_records,
        healthy_after,
        rest,
        runs,
        later,
        sign_ins,
        settle_secs: settings.settle_secs,
        body,
        reply_bytes,
        stop,
    })
}

/// The burst of sign-ins after the search load.
struct SignIns {
    took: Duration,
    after: Rss,
    later: Rss,
}

/// Signs in `SIGN_INS` times at once; every one must succeed.
fn sign_in_burst(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    node: &mut NodeProcess,
    settle_secs: u64,
) -> Result<SignIns> {
    eprintln!("  {SIGN_INS} sign-ins at once");
    let web = node.web;
    let began = Instant::now();
    let answers = rt.block_on(futures::future::join_all(
        (0..SIGN_INS).map(|_| sign_in(client, web)),
    ));
    let took = began.elapsed();
    let failed = answers.iter().filter(|a| a.is_err()).count();
    if let Some(Err(first)) = answers.into_iter().find(Result::is_err) {
        return Err(node.with_log(first.context(format!(
            "{failed} of {SIGN_INS} sign-ins at once failed; the first"
        ))));
    }
    let after = node.rss()?;
    eprintln!(
        "    took {:.1} s; RSS {}; settling {settle_secs} s",
        took.as_secs_f64(),
        after.show()
    );
    std::thread::sleep(Duration::from_secs(settle_secs));
    let later = node.rss()?;
    Ok(SignIns { took, after, later })
}

/// A `skillmesh run` child process, stopped (SIGINT, then SIGKILL) when
/// dropped, so no error path leaves it running.
struct NodeProcess {
    child: Child,
    pid: u32,
    log: PathBuf,
    web: SocketAddr,
    started: Instant,
}

/// How the node stopped.
struct Stopped {
    status: ExitStatus,
    took: Duration,
    killed: bool,
}

impl Stopped {
    fn describe(&self) -> String {
        if self.killed {
            format!(
                "did not stop within {} s of SIGINT; killed",
                STOP_TIMEOUT.as_secs()
            )
        } else {
            format!("SIGINT, {}", self.status)
        }
    }
}

impl NodeProcess {
    fn start(config: &Path, log: &Path, web: SocketAddr, env: &[(&str, &str)]) -> Result<Self> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("cannot reopen {}", log.display()))?;
        let mut cmd = skillmesh(&["run", "--config", path_text(config)?]);
        cmd.env("SKILLMESH_WEB_LISTEN", web.to_string())
            .env("SKILLMESH_NETWORK_LISTEN", "/ip4/127.0.0.1/tcp/0")
            .env("SKILLMESH_NETWORK_MDNS", "false")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {} run", bin()))?;
        Ok(NodeProcess {
            pid: child.id(),
            child,
            log: log.to_path_buf(),
            web,
            started: Instant::now(),
        })
    }

    /// The exit status, if it has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn rss(&mut self) -> Result<Rss> {
        if let Some(status) = self.exited() {
            return Err(self.with_log(anyhow!("the node exited unexpectedly ({status})")));
        }
        Rss::of(self.pid)
    }

    /// SIGINT, then SIGKILL if it has not stopped within `STOP_TIMEOUT`.
    fn stop(&mut self) -> Result<Stopped> {
        let started = Instant::now();
        if let Some(status) = self.exited() {
            return Ok(Stopped {
                status,
                took: Duration::ZERO,
                killed: false,
            });
        }
        // `kill` rather than libc: the workspace forbids unsafe code.
        let sent = Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .status();
        if let Ok(status) = &sent
            && status.success()
        {
            while started.elapsed() < STOP_TIMEOUT {
                if let Some(status) = self.exited() {
                    return Ok(Stopped {
                        status,
                        took: started.elapsed(),
                        killed: false,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.child
            .kill()
            .with_context(|| format!("cannot kill the node (pid {})", self.pid))?;
        let status = self
            .child
            .wait()
            .with_context(|| format!("cannot wait for the node (pid {})", self.pid))?;
        Ok(Stopped {
            status,
            took: started.elapsed(),
            killed: true,
        })
    }

    /// `error`, with the end of the node's log.
    fn with_log(&self, error: anyhow::Error) -> anyhow::Error {
        error.context(format!(
            "node on {} (pid {}); the end of its log {}:\n{}",
            self.web,
            self.pid,
            self.log.display(),
            log_tail(&self.log, 30)
        ))
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if self.exited().is_none()
            && let Err(error) = self.stop()
        {
            eprintln!("could not stop the node (pid {}): {error:#}", self.pid);
        }
    }
}

/// Polls `/healthz` until it answers 200; fails early if the node exits.
fn wait_healthy(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    node: &mut NodeProcess,
) -> Result<serde_json::Value> {
    let url = format!("http://{}/healthz", node.web);
    let mut last = String::from("no answer yet");
    while node.started.elapsed() < HEALTH_TIMEOUT {
        if let Some(status) = node.exited() {
            return Err(node.with_log(anyhow!(
                "`skillmesh run` exited before it answered /healthz ({status})"
            )));
        }
        let answer = rt.block_on(async {
            let response = client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        });
        match answer {
            Ok((status, body)) if status == reqwest::StatusCode::OK => {
                return serde_json::from_slice(&body)
                    .context("/healthz answered 200 with something other than JSON")
                    .map_err(|error| node.with_log(error));
            }
            Ok((status, _)) => last = format!("it answered {status}"),
            Err(error) => last = error.to_string(),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(node.with_log(anyhow!(
        "GET {url} did not answer 200 within {} s (last: {last})",
        HEALTH_TIMEOUT.as_secs()
    )))
}

/// Signs in as a browser does and returns the session cookie
/// (`skillmesh_session_...=value`).
async fn sign_in(client: &reqwest::Client, web: SocketAddr) -> Result<String> {
    let form = client
        .get(format!("http://{web}/signin"))
        .send()
        .await
        .context("GET /signin")?;
    if form.status() != reqwest::StatusCode::OK {
        bail!("GET /signin answered {}", form.status());
    }
    let cookies = cookie_pairs(form.headers()).join("; ");
    let html = form.text().await.context("reading the sign-in form")?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow!("the sign-in form has no `csrf` field"))?;
    let body = format!(
        "csrf={}&username={}&password={}&next=%2F",
        form_encode(csrf),
        form_encode(USER),
        form_encode(PASSWORD)
    );
    let signed_in = client
        .post(format!("http://{web}/signin"))
        .header("cookie", cookies)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .context("POST /signin")?;
    let status = signed_in.status();
    cookie_pairs(signed_in.headers())
        .into_iter()
        .find(|pair| pair.starts_with("skillmesh_session_"))
        .ok_or_else(|| anyhow!("POST /signin answered {status} without a session cookie"))
}

/// The `name=value` part of each Set-Cookie header.
fn cookie_pairs(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(|pair| pair.trim().to_string())
        .collect()
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// Sends each query of the mix once with the cookie: each must answer 200
/// (or the load figures would measure errors). Returns the reply to
/// `BODY_QUERY` and every reply's size.
async fn check_queries(
    client: &reqwest::Client,
    web: SocketAddr,
    cookie: &str,
) -> Result<(Vec<u8>, Vec<usize>)> {
    let mut body = None;
    let mut sizes = Vec::new();
    for q in QUERIES {
        let url = format!("http://{web}/api/v1/search?q={q}");
        let response = client
            .get(&url)
            .header("cookie", cookie)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("reading the reply to GET {url}"))?;
        if status != reqwest::StatusCode::OK {
            bail!(
                "GET /api/v1/search?q={q} answered {status}: {}",
                one_line(&String::from_utf8_lossy(&bytes[..bytes.len().min(300)]))
            );
        }
        sizes.push(bytes.len());
        if q == BODY_QUERY {
            body = Some(bytes.to_vec());
        }
    }
    let body = body.ok_or_else(|| anyhow!("the query mix has no {BODY_QUERY:?}"))?;
    Ok((body, sizes))
}

// ---------------------------------------------------------------------------
// Bare axum

/// What bare axum measured.
struct BareResult {
    body_bytes: usize,
    runs: Vec<(u32, WrkResult, Option<Rss>)>,
}

fn bare_axum_round(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    script: &Path,
    body: Vec<u8>,
) -> Result<BareResult> {
    let body_bytes = body.len();
    let body = Bytes::from(body);
    let app = axum::Router::new().route(
        "/api/v1/search",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("cannot bind bare axum to 127.0.0.1:0")?;
    let web = listener
        .local_addr()
        .context("bare axum's listening address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let mut runs = Vec::new();
    let mut failure = None;
    for connections in CONNECTIONS {
        eprintln!(
            "bare axum: wrk -c{connections} for {} s",
            settings.load_secs
        );
        // No cookie: bare axum does not look at it, but the header is sent
        // all the same so the requests are the same size.
        match wrk(
            script,
            web,
            "skillmesh_session_bare=x",
            connections,
            settings.load_secs,
        ) {
            Ok(result) => runs.push((connections, result, None)),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let _ = stop.send(());
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
    match failure {
        Some(error) => Err(error.context("bare axum")),
        None => Ok(BareResult { body_bytes, runs }),
    }
}

// ---------------------------------------------------------------------------
// wrk

/// What one wrk run reported.
struct WrkResult {
    requests: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// "Non-2xx or 3xx responses" (wrk counts status 400 and above).
    non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    socket_errors: u64,
}

impl WrkResult {
    fn failed(&self) -> bool {
        self.non_2xx > 0 || self.socket_errors > 0 || self.requests == 0
    }
}

fn wrk_script() -> String {
    let list = QUERIES
        .iter()
        .map(|q| format!("{q:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("local queries = {{{list}}}\n{WRK_SCRIPT_HEAD}")
}

fn wrk(
    script: &Path,
    web: SocketAddr,
    cookie: &str,
    connections: u32,
    secs: u64,
) -> Result<WrkResult> {
    let url = format!("http://{web}/");
    let args = [
        format!("-t{WRK_THREADS}"),
        format!("-c{connections}"),
        format!("-d{secs}s"),
        "--latency".to_string(),
        "-s".to_string(),
        path_text(script)?.to_string(),
        url,
        "--".to_string(),
        cookie.to_string(),
    ];
    let output = Command::new("wrk")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run wrk")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "`wrk {}` failed ({}): {}{}",
            args[..args.len() - 1].join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            stdout.trim()
        );
    }
    parse_wrk(&stdout).with_context(|| format!("cannot read wrk's output:\n{stdout}"))
}

fn parse_wrk(text: &str) -> Result<WrkResult> {
    let mut requests = None;
    let mut rps = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut non_2xx = 0;
    let mut socket_errors = 0;
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rps = Some(
                rest.trim()
                    .parse::<f64>()
                    .with_context(|| format!("bad Requests/sec line {line:?}"))?,
            );
        } else if first == "50%" || first == "99%" {
            let value = words
                .next()
                .ok_or_else(|| anyhow!("no value on the line {line:?}"))
                .and_then(duration_ms)?;
            if first == "50%" {
                p50 = Some(value);
            } else {
                p99 = Some(value);
            }
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest
                .trim()
                .parse()
                .with_context(|| format!("bad line {line:?}"))?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in rest.split(',') {
                let count = part
                    .split_whitespace()
                    .nth(1)
                    .ok_or_else(|| anyhow!("bad line {line:?}"))?;
                socket_errors += count
                    .parse::<u64>()
                    .with_context(|| format!("bad line {line:?}"))?;
            }
        } else if line.contains(" requests in ") {
            requests = Some(
                first
                    .parse::<u64>()
                    .with_context(|| format!("bad line {line:?}"))?,
            );
        }
    }
    Ok(WrkResult {
        requests: requests.ok_or_else(|| anyhow!("no `N requests in` line"))?,
        rps: rps.ok_or_else(|| anyhow!("no `Requests/sec:` line"))?,
        p50_ms: p50.ok_or_else(|| anyhow!("no `50%` latency line (was --latency passed?)"))?,
        p99_ms: p99.ok_or_else(|| anyhow!("no `99%` latency line (was --latency passed?)"))?,
        non_2xx,
        socket_errors,
    })
}

/// wrk's durations ("812.00us", "1.23ms", "2.01s", "1.50m") in ms.
fn duration_ms(text: &str) -> Result<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        bail!("{text:?} is not a duration as wrk prints them");
    };
    let value: f64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a duration as wrk prints them"))?;
    Ok(value * scale)
}

// ---------------------------------------------------------------------------
// Memory, machine, processes

/// Resident memory of a process, in kB as /proc reports it.
#[derive(Clone, Copy)]
struct Rss {
    vm_kb: u64,
    anon_kb: u64,
}

impl Rss {
    fn of(pid: u32) -> Result<Rss> {
        let path = format!("/proc/{pid}/status");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let field = |name: &str| -> Result<u64> {
            let line = text
                .lines()
                .find(|line| line.starts_with(name))
                .ok_or_else(|| anyhow!("{path} has no {name} line"))?;
            line[name.len()..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| anyhow!("cannot read the {name} line of {path}: {line:?}"))
        };
        Ok(Rss {
            vm_kb: field("VmRSS:")?,
            anon_kb: field("RssAnon:")?,
        })
    }

    fn vm_mb(self) -> f64 {
        self.vm_kb as f64 / 1024.0
    }

    fn anon_mb(self) -> f64 {
        self.anon_kb as f64 / 1024.0
    }

    fn show(self) -> String {
        format!("{:.0} / {:.0}", self.vm_mb(), self.anon_mb())
    }
}

/// The machine and the moment, taken at the start.
struct Machine {
    cores: String,
    model: String,
    date: String,
    loadavg: String,
}

impl Machine {
    fn now() -> Machine {
        let cores = command_text("nproc", &[]).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or_else(|_| "?".to_string(), |n| n.to_string())
        });
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        let date = command_text("date", &["-u"]).unwrap_or_else(|| "unknown date".to_string());
        let loadavg = std::fs::read_to_string("/proc/loadavg")
            .map(|text| text.trim().to_string())
            .unwrap_or_else(|_| "unknown".to_string());
        Machine {
            cores,
            model,
            date,
            loadavg,
        }
    }
}

/// A command's trimmed stdout, if it ran and succeeded.
fn command_text(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A `skillmesh` command without this process's `SKILLMESH_*` variables,
/// so only what the bench sets reaches the node.
fn skillmesh(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SKILLMESH_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Runs `cmd` to the end (feeding `stdin` if given); an error names `what`
/// and carries its stderr.
fn run_checked(mut cmd: Command, what: &str, stdin: Option<&str>) -> Result<Output> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{what}` ({})", bin()))?;
    if let Some(text) = stdin {
        let mut pipe = child
            .stdin
            .take()
            .ok_or_else(|| anyhow!("`{what}` has no stdin"))?;
        pipe.write_all(text.as_bytes())
            .with_context(|| format!("cannot write to the stdin of `{what}`"))?;
    }
    let output = child
        .wait_with_output()
        .with_context(|| format!("cannot wait for `{what}`"))?;
    if !output.status.success() {
        bail!(
            "`{what}` failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        );
    }
    Ok(output)
}

/// A loopback port free right now (bound and released).
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0 to find a free port")?;
    Ok(listener
        .local_addr()
        .context("the free port's address")?
        .port())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

fn path_text(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", path.display()))
}

fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let tail = all[all.len().saturating_sub(lines)..].join("\n");
            if tail.is_empty() {
                "(empty)".to_string()
            } else {
                tail
            }
        }
        Err(error) => format!("(cannot read it: {error})"),
    }
}

/// The text on one line, shortened.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > 300 {
        let short: String = joined.chars().take(300).collect();
        format!("{short}…")
    } else {
        joined
    }
}

/// A whole number with thousands separators.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

// ---------------------------------------------------------------------------
// The report

struct Report<'a> {
    settings: &'a Settings,
    machine: &'a Machine,
    setup: &'a Setup,
    nodes: [&'a NodeResult; 2],
    bare: &'a BareResult,
}

impl Report<'_> {
    fn all_succeeded(&self) -> bool {
        self.nodes
            .iter()
            .flat_map(|node| node.runs.iter())
            .chain(self.bare.runs.iter())
            .all(|(_, result, _)| !result.failed())
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let s = self.settings;
        let m = self.machine;
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "## Search under load from outside (`load`): {} records",
            thousands(s.records as f64)
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Machine: {} cores, {}. Date: {}. /proc/loadavg at the start: {}.",
            m.cores, m.model, m.date, m.loadavg
        );
        let _ = writeln!(out, "Node binary: `{}`.", bin());
        let _ = writeln!(
            out,
            "`skillmesh sample-data --records {}`: {:.1} s ({})",
            s.records,
            self.setup.sample_data.as_secs_f64(),
            self.setup.sample_data_said
        );
        let _ = writeln!(
            out,
            "Data directory afterwards: {:.0} MB (store, search index, keys, config).",
            self.setup.data_dir_bytes as f64 / (1024.0 * 1024.0)
        );
        let _ = writeln!(
            out,
            "wrk {WRK_THREADS} threads, {} s per run, GET /api/v1/search cycling through {} \
             queries with a session cookie; client and server share the machine's cores.",
            s.load_secs,
            QUERIES.len()
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| what | connections | req/s | p50 ms | p99 ms | non-2xx | socket errors | \
             RSS MB (VmRSS / anon) after |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for node in self.nodes {
            for (connections, result, rss) in &node.runs {
                row(&mut out, node.label, *connections, result, *rss);
            }
        }
        for (connections, result, rss) in &self.bare.runs {
            row(&mut out, "bare axum", *connections, result, *rss);
        }
        let _ = writeln!(out);
        for node in self.nodes {
            let peak_after = node
                .runs
                .iter()
                .filter_map(|(_, _, rss)| rss.map(Rss::vm_mb))
                .fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "- {}: answered /healthz {:.1} s after start. RSS MB (VmRSS / anon) at rest ({} s \
                 after start) {}, {}; after load at most {:.0}, {}; {} s later {}. Federated \
                 records per /healthz: {}. Stopped: {}.",
                node.label,
                node.healthy_after.as_secs_f64(),
                REST_AFTER_START.as_secs(),
                node.rest.show(),
                aim(
                    node.rest.vm_mb() < AIM_REST_MB,
                    &format!("aim < {AIM_REST_MB:.0}")
                ),
                peak_after,
                aim(
                    peak_after < AIM_LOADED_MB,
                    &format!("aim < {AIM_LOADED_MB:.0}")
                ),
                node.settle_secs,
                node.later.show(),
                node.federated_records
                    .map_or_else(|| "?".to_string(), |n| thousands(n as f64)),
                node.stop.describe()
            );
            if let Some((_, at_aim, _)) = node
                .runs
                .iter()
                .find(|(connections, _, _)| *connections == AIM_CONNECTIONS)
            {
                let _ = writeln!(
                    out,
                    "  At {AIM_CONNECTIONS} connections: {} req/s ({}), p99 {:.2} ms ({}).",
                    thousands(at_aim.rps),
                    aim(
                        at_aim.rps >= AIM_RPS,
                        &format!("aim ≥ {}", thousands(AIM_RPS))
                    ),
                    at_aim.p99_ms,
                    aim(
                        at_aim.p99_ms < AIM_P99_MS,
                        &format!("aim < {AIM_P99_MS:.0} ms")
                    )
                );
            }
            let _ = writeln!(
                out,
                "  {SIGN_INS} sign-ins at once took {:.1} s; RSS MB after them {} ({}), {} s \
                 later {}.",
                node.sign_ins.took.as_secs_f64(),
                node.sign_ins.after.show(),
                aim(
                    node.sign_ins.after.vm_mb() < AIM_LOADED_MB,
                    &format!("aim < {AIM_LOADED_MB:.0}")
                ),
                node.settle_secs,
                node.sign_ins.later.show()
            );
            if let Some(note) = &node.note {
                let _ = writeln!(out, "  Note: {note}.");
            }
        }
        if let Some(node) = self.nodes.first() {
            let sizes = QUERIES
                .iter()
                .zip(&node.reply_bytes)
                .map(|(q, bytes)| {
                    format!("{}: {}", if q.is_empty() { "(empty)" } else { q }, bytes)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "- Reply bytes per query (first run): {sizes}.");
        }
        let _ = writeln!(
            out,
            "- bare axum served the node's reply to q={BODY_QUERY} ({} bytes) as a fixed body, \
             on 2 tokio workers in the bench process.",
            self.bare.body_bytes
        );
        let _ = writeln!(
            out,
            "- Aims (from the issue): at {AIM_CONNECTIONS} connections ≥ {} req/s and p99 < \
             {AIM_P99_MS:.0} ms; VmRSS < {AIM_REST_MB:.0} MB at rest and < {AIM_LOADED_MB:.0} MB \
             after load.",
            thousands(AIM_RPS)
        );
        out
    }
}

fn row(out: &mut String, what: &str, connections: u32, result: &WrkResult, rss: Option<Rss>) {
    let failures = if result.failed() { " **FAIL**" } else { "" };
    let _ = writeln!(
        out,
        "| {what} | {connections} | {} | {:.2} | {:.2} | {}{failures} | {} | {} |",
        thousands(result.rps),
        result.p50_ms,
        result.p99_ms,
        result.non_2xx,
        result.socket_errors,
        rss.map_or_else(|| "–".to_string(), Rss::show)
    );
}

fn aim(met: bool, aim: &str) -> String {
    format!("{aim}: {}", if met { "met" } else { "missed" })
}
