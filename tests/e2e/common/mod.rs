//! Shared helpers for the end-to-end tests: find (or build) the real
//! `skillmesh` binary, run it in temp dirs, and talk to it over loopback.

#![allow(dead_code)]

pub mod attacker;
pub mod browser;
pub mod chat;
pub mod cluster;
pub mod nodes;
pub mod oidc;
pub mod smtp;
pub mod web;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The `skillmesh` binary of this build profile (release for a bench,
/// debug for a test). The test command builds it first; when a test or a
/// bench is run on its own, it is built here.
pub fn skillmesh_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    static BUILD: Mutex<()> = Mutex::new(());
    BIN.get_or_init(|| {
        let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>/skillmesh
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = profile_dir.join("skillmesh");
        if profile_dir.ends_with("release") && bin.exists() {
            // A bench: building the binary from here would build the
            // dependencies again with the node's features rather than this
            // package's (minutes, each time), so it is built beforehand,
            // and an old one is refused rather than measured.
            assert!(
                !older_than_sources(&bin),
                "{} is older than the source; run `cargo build --release -p skillmesh-node` first",
                bin.display()
            );
        }
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "skillmesh-node", "--bin", "skillmesh"]);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build");
            assert!(status.success(), "building skillmesh failed");
        }
        bin
    })
    .clone()
}

/// Whether a file under the node's crates (`*/src`, `Cargo.lock`) changed
/// after `bin` was built.
fn older_than_sources(bin: &Path) -> bool {
    fn newest(path: &Path) -> Option<std::time::SystemTime> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_dir() {
            return meta.modified().ok();
        }
        std::fs::read_dir(path)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| newest(&e.path()))
            .max()
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok();
    [
        "node/src",
        "protocol/src",
        "config/src",
        "web/src",
        "Cargo.lock",
    ]
    .iter()
    .filter_map(|p| newest(&root.join(p)))
    .max()
    .is_some_and(|changed| built.is_none_or(|b| changed > b))
}

/// Runs `skillmesh args...` to completion.
pub fn skillmesh(args: &[&str]) -> Output {
    Command::new(skillmesh_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run skillmesh")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `skillmesh init` into `dir` with a web port of 0 (chosen at start).
pub fn init_org(dir: &Path, name: &str) -> PathBuf {
    cluster::init(dir, name, &[], "127.0.0.1:0", None)
}

/// A running `skillmesh` process, killed (by its PID) when dropped.
pub struct Running {
    pub child: Child,
    pub web: SocketAddr,
    lines: mpsc::Receiver<String>,
}

impl Running {
    /// Starts `skillmesh args...` and waits for it to print its web address.
    pub fn start(args: &[&str]) -> Running {
        Running::start_with_env(args, &[])
    }

    /// Like [`Running::start`], with extra environment variables (one of
    /// them may set `RUST_LOG`, which is `warn` otherwise).
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut command = Command::new(skillmesh_bin());
        command
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied());
        Running::spawn(command)
    }

    /// Like [`Running::start_with_env`], with the log (stderr) written to
    /// the file `log` at the configured level, as an operator runs it (a
    /// node under attack logs a lot, and would stall once an unread pipe
    /// is full).
    pub fn start_logging(args: &[&str], env: &[(&str, &str)], log: &Path) -> Running {
        let mut command = Command::new(skillmesh_bin());
        command
            .args(args)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied());
        let file = std::fs::File::create(log).expect("create the log file");
        Running::spawn_with_stderr(command, file.into())
    }

    /// Starts `command` (one that runs `skillmesh`, such as `ip netns exec
    /// NS skillmesh run …`, which becomes the process it starts) and waits
    /// for it to print its web address.
    pub fn spawn(command: Command) -> Running {
        Running::spawn_with_stderr(command, Stdio::piped())
    }

    /// [`Running::spawn`] with stderr going to `stderr`.
    fn spawn_with_stderr(mut command: Command, stderr: Stdio) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn skillmesh");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = web_address(&line) {
                        return Running {
                            child,
                            web: addr,
                            lines,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().expect("output");
                    panic!(
                        "skillmesh did not start: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
    }

    /// Lines printed so far after the web address.
    pub fn drain_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "skillmesh did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `http://ADDR` in a line of output.
fn web_address(line: &str) -> Option<SocketAddr> {
    let start = line.find("http://")? + "http://".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c == '/' || c.is_whitespace())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// All web addresses a demo printed, in order, until its "Ctrl-C" line.
pub fn demo_addresses(run: &Running) -> Vec<SocketAddr> {
    let mut out = vec![run.web];
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match run.lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("Ctrl-C") => return out,
            Ok(line) => out.extend(web_address(&line)),
            Err(_) => {}
        }
    }
    panic!("demo did not finish printing its addresses");
}

/// `GET http://addr/path` as JSON.
pub async fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let res = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("GET");
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    res.json().await.expect("JSON body")
}

/// stderr of a finished command, checked to be one `error: ...` line.
pub fn one_line_error(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got {:?}",
        out.status
    );
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    lines[0].to_string()
}

/// The session cookie (`name=value`) a successful sign-in set.
pub fn session_cookie(signed_in: &reqwest::Response) -> String {
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("skillmesh_session_"))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// Signs in at the node serving `web` as a browser would: fetches the
/// form and its CSRF cookie, then posts the form (with redirects left to
/// the caller). With `forwarded_for`, both requests carry it in
/// `X-Forwarded-For`, as a reverse proxy in front of the node would add.
pub async fn post_sign_in(
    web: std::net::SocketAddr,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let forwarded = |req: reqwest::RequestBuilder| match forwarded_for {
        Some(addr) => req.header("x-forwarded-for", addr),
        None => req,
    };
    let form = forwarded(client.get(format!("http://{web}/signin")))
        .send()
        .await
        .expect("GET /signin");
    let cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a sign-in cookie")
        .to_string();
    let html = form.text().await.expect("form");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string();
    let body = format!(
        "csrf={csrf}&next=%2F&username={}&password={}",
        username.replace('@', "%40"),
        password
    );
    forwarded(client.post(format!("http://{web}/signin")))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST /signin")
}

/// An API token for `username`, got as a script would: sign in with the
/// password, read the session's CSRF token from the account page, and ask
/// `POST /api/v1/tokens` for a token.
pub async fn api_token(web: SocketAddr, username: &str, password: &str) -> String {
    let signed_in = post_sign_in(web, username, password, None).await;
    assert_eq!(signed_in.status().as_u16(), 303, "sign-in as {username}");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let client = reqwest::Client::new();
    let account = client
        .get(format!("http://{web}/account"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET /account")
        .text()
        .await
        .expect("account page");
    let csrf = account
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field on the account page")
        .to_string();
    let res = client
        .post(format!("http://{web}/api/v1/tokens"))
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .expect("POST /api/v1/tokens");
    assert_eq!(res.status().as_u16(), 201, "token");
    let body: serde_json::Value = res.json().await.expect("token JSON");
    body["token"].as_str().expect("token").to_string()
}

/// `skillmesh user add` with a chosen password; returns the password.
pub fn add_user(config: &Path, username: &str, admin: bool) -> String {
    let password = "correct horse battery staple";
    let mut args = vec![
        "user",
        "add",
        username,
        "--password-stdin",
        "--config",
        config.to_str().expect("utf-8"),
    ];
    if admin {
        args.push("--admin");
    }
    let mut child = Command::new(skillmesh_bin())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn user add");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("write password");
    }
    let out = child.wait_with_output().expect("user add");
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    password.to_string()
}
