//! A real OpenID provider on loopback for the single sign-on tests:
//! panva's certified `oidc-provider` for Node.js, run by
//! `tests/oidc/provider.mjs` with one client and the people a test gives
//! (the test command installs it with `npm ci`). Stopped, by its PID,
//! when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

/// Someone the provider knows: their login and password there, and the
/// claims it gives about them.
pub struct Person {
    pub login: &'static str,
    pub password: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub groups: &'static [&'static str],
}

pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    child: Child,
}

impl Provider {
    /// Starts the provider with one client that may send browsers back
    /// to `redirect_uri`, knowing `people`.
    pub fn start(redirect_uri: &str, people: &[Person]) -> Provider {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider is not installed: run `npm ci --prefix tests/oidc` (the test command does)"
        );
        let port = super::free_port();
        let people: serde_json::Map<String, serde_json::Value> = people
            .iter()
            .map(|p| {
                (
                    p.login.to_string(),
                    json!({
                        "password": p.password,
                        "email": p.email,
                        "email_verified": true,
                        "name": p.name,
                        "groups": p.groups,
                    }),
                )
            })
            .collect();
        let (client_id, client_secret) = (
            "skillmesh-test".to_string(),
            "test-client-secret".to_string(),
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", &client_id)
            .env("OIDC_CLIENT_SECRET", &client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env("OIDC_PEOPLE", serde_json::Value::Object(people).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // Read to the end: a closed pipe would end the provider at its
        // next line (EPIPE).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let issuer = loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(issuer) = line.strip_prefix("listening ") {
                        break issuer.to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the test OpenID provider did not start");
                }
            }
        };
        Provider {
            issuer,
            client_id,
            client_secret,
            child,
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
