//! Federation heals itself: real `skillmesh` processes started in the
//! wrong order, restarted, and cut off from each other, with nobody
//! restarting anything by hand.
//!
//! The partition test cuts a real link: the cut-off node runs in a network
//! namespace of its own, joined to this one by a veth pair, and the test
//! takes the link down and up again (`ip link set … down`). That needs
//! root (CI runs as root); without it the test fails with a clear message,
//! unless `SKILLMESH_TEST_NO_NETNS=1` says to skip it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::cluster::*;
use crate::common::*;

/// The start order does not matter, and a restarted bootstrap node is
/// found again: a node set up from an invite, started while the inviting
/// node is down, says on `/healthz` what it is trying and joins within
/// 20 s of that node coming up; after the inviting node restarts, both
/// reconnect within 20 s, and what was published meanwhile arrives.
#[tokio::test]
async fn nodes_join_whatever_the_start_order_and_reconnect_after_a_restart() {
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let a_p2p = format!("/ip4/127.0.0.1/tcp/{}", free_port());
    let a_cfg = init(a_dir.path(), "Northwind", &[&a_p2p], "127.0.0.1:0", None);
    let b_cfg = init(
        b_dir.path(),
        "Contoso",
        &["/ip4/127.0.0.1/tcp/0"],
        "127.0.0.1:0",
        Some(&invite(&a_cfg)),
    );

    let password = add_user(&b_cfg, "dana@contoso.example", false);
    // B first, alone: degraded, and it says whom it is trying.
    let b = run(&b_cfg);
    within(
        Duration::from_secs(10),
        "B reports it knows nobody connected",
        || async {
            let h = health(b.web).await?;
            let problem = &h["problems"][0];
            if h["status"] == "degraded"
                && problem["code"] == "no_peers"
                && problem["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(&a_p2p))
            {
                Ok(())
            } else {
                Err(h.to_string())
            }
        },
    )
    .await;
    // Long enough for several failed dials to back off.
    tokio::time::sleep(Duration::from_secs(12)).await;

    let a = run(&a_cfg);
    let joined = within(
        Duration::from_secs(20),
        "B joins A after A comes up",
        || async {
            let (ha, hb) = (health(a.web).await?, health(b.web).await?);
            let ok = peers(&ha) >= 1
                && peers(&hb) >= 1
                && ha["federated_records"].as_u64() >= Some(1)
                && hb["federated_records"].as_u64() >= Some(1)
                && hb["status"] == "ok";
            if ok {
                Ok(())
            } else {
                Err(format!("{ha} {hb}"))
            }
        },
    )
    .await;
    eprintln!("B joined A {joined:?} after A started");
    // A connection that closes within 2 s of opening looks to the other
    // side like being turned away, and it waits a minute before dialling
    // again (docs/PROTOCOL.md §Discovery and redial); and A writes what it
    // learnt of B in the background. So the connection settles first, as
    // it would have before a real crash. (Without this, a crash right
    // after joining left B waiting out the minute, and the test failed.)
    tokio::time::sleep(Duration::from_secs(3)).await;

    // A restarts (killed, as a crash would); B publishes while it is down.
    drop(a);
    within(Duration::from_secs(20), "B notices A is gone", || async {
        let hb = health(b.web).await?;
        if peers(&hb) == 0 {
            Ok(())
        } else {
            Err(hb.to_string())
        }
    })
    .await;
    let token = api_token(b.web, "dana@contoso.example", &password).await;
    publish_talk(b.web, &token, "Published while the partner was down").await;
    let b_fingerprint = health(b.web).await.expect("health")["records_fingerprint"].clone();
    let a = run(&a_cfg);
    let back = within(
        Duration::from_secs(20),
        "A and B reconnect and agree after A restarts",
        || async {
            let (ha, hb) = (health(a.web).await?, health(b.web).await?);
            let ok = peers(&ha) >= 1
                && peers(&hb) >= 1
                && ha["records_fingerprint"] == hb["records_fingerprint"]
                && hb["records_fingerprint"] == b_fingerprint;
            if ok {
                Ok(())
            } else {
                Err(format!("{ha} {hb}"))
            }
        },
    )
    .await;
    eprintln!("reconnected and in agreement {back:?} after A restarted");
}

// ------------------------------------------------------------- partition

/// A network namespace with a veth link to this one, removed on drop.
struct Netns {
    name: String,
    host_if: String,
    host_ip: String,
    ns_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    fn create() -> Result<Netns, String> {
        let id = std::process::id() % 10_000;
        let subnet = 100 + (std::process::id() % 150);
        let ns = Netns {
            name: format!("skillmesh-test-{id}"),
            host_if: format!("smh{id}"),
            host_ip: format!("10.213.{subnet}.1"),
            ns_ip: format!("10.213.{subnet}.2"),
        };
        let peer_if = format!("smn{id}");
        ip(&["netns", "add", &ns.name])?;
        ip(&[
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer_if,
            "netns",
            &ns.name,
        ])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/30", ns.host_ip),
            "dev",
            &ns.host_if,
        ])?;
        ip(&["link", "set", &ns.host_if, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["-n", ns.name.as_str()];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&["addr", "add", &format!("{}/30", ns.ns_ip), "dev", &peer_if])?;
        inside(&["link", "set", &peer_if, "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    fn cut(&self) {
        ip(&["link", "set", &self.host_if, "down"]).expect("cut the link");
    }

    fn heal(&self) {
        ip(&["link", "set", &self.host_if, "up"]).expect("heal the link");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_if]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// A partitioned node converges within 10 s of the link coming back: three
/// organisations, one of them (Fabrikam) in its own network namespace. The
/// link is cut; the others notice within about 15 s (their `/healthz`
/// stops counting it); during the cut Northwind withdraws an offer and a
/// person at Contoso asks for Fabrikam's talk. Within 10 s of the heal all
/// three hold the same records (the withdrawal included) and the request
/// is in Fabrikam's inbox, once.
#[tokio::test]
async fn a_partitioned_node_converges_within_10_s_of_the_heal() {
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(e) if std::env::var("SKILLMESH_TEST_NO_NETNS").as_deref() == Ok("1") => {
            eprintln!("skipped (SKILLMESH_TEST_NO_NETNS=1): {e}");
            return;
        }
        Err(e) => panic!(
            "cannot create a network namespace to cut a link ({e}); this test needs root \
             and iproute2, or SKILLMESH_TEST_NO_NETNS=1 to skip it"
        ),
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    // Northwind and Contoso listen on loopback for each other and on the
    // host end of the link for Fabrikam.
    let p2p = |host: &str| format!("/ip4/{host}/tcp/{}", free_port());
    let (a_lo, a_link) = (p2p("127.0.0.1"), p2p(&ns.host_ip));
    let a_cfg = init(
        dirs[0].path(),
        "Northwind",
        &[&a_lo, &a_link],
        "127.0.0.1:0",
        None,
    );
    let invite_a = invite(&a_cfg);
    let b_cfg = init(
        dirs[1].path(),
        "Contoso",
        &[
            "/ip4/127.0.0.1/tcp/0",
            &format!("/ip4/{}/tcp/0", ns.host_ip),
        ],
        "127.0.0.1:0",
        Some(&invite_a),
    );
    let p_web = format!("{}:{}", ns.ns_ip, free_port());
    let p_cfg = init(
        dirs[2].path(),
        "Fabrikam",
        &[&format!("/ip4/{}/tcp/0", ns.ns_ip)],
        &p_web,
        None,
    );
    // Fabrikam bootstraps from Northwind's address on the link.
    let a_peer = peer_id_of(&a_cfg);
    let p_cfg_text = std::fs::read_to_string(&p_cfg).expect("config");
    std::fs::write(
        &p_cfg,
        p_cfg_text.replace(
            "bootstrap = []",
            &format!("bootstrap = [\"{a_link}/p2p/{a_peer}\"]"),
        ),
    )
    .expect("write config");

    let (a_pw, b_pw, p_pw) = (
        add_user(&a_cfg, "ana@northwind.example", false),
        add_user(&b_cfg, "ben@contoso.example", false),
        add_user(&p_cfg, "pia@fabrikam.example", false),
    );
    let a = run(&a_cfg);
    let b = run(&b_cfg);
    let mut in_ns = Command::new("ip");
    in_ns
        .args(["netns", "exec", &ns.name])
        .arg(skillmesh_bin())
        .args(["run", "--config", p_cfg.to_str().expect("utf-8")]);
    let p = Running::spawn(in_ns);
    let nodes = [a.web, b.web, p.web];

    let a_token = api_token(a.web, "ana@northwind.example", &a_pw).await;
    let b_token = api_token(b.web, "ben@contoso.example", &b_pw).await;
    let p_token = api_token(p.web, "pia@fabrikam.example", &p_pw).await;
    let withdrawn = publish_talk(a.web, &a_token, "Withdrawn during the cut").await;
    let p_talk = publish_talk(p.web, &p_token, "Asked for during the cut").await;
    let p_org = health(p.web).await.expect("health")["org_key"]
        .as_str()
        .expect("key")
        .to_string();

    within(
        Duration::from_secs(30),
        "all three connect and agree",
        || async {
            let mut seen = Vec::new();
            for web in nodes {
                seen.push(health(web).await?);
            }
            let agree = seen.iter().all(|h| {
                peers(h) == 2 && h["records_fingerprint"] == seen[0]["records_fingerprint"]
            });
            if agree {
                Ok(())
            } else {
                Err(format!("{seen:?}"))
            }
        },
    )
    .await;

    ns.cut();
    let cut_at = Instant::now();
    let noticed = within(
        Duration::from_secs(20),
        "the others notice the cut",
        || async {
            let (ha, hb) = (health(a.web).await?, health(b.web).await?);
            if peers(&ha) == 1 && peers(&hb) == 1 {
                Ok(())
            } else {
                Err(format!("{ha} {hb}"))
            }
        },
    )
    .await;
    eprintln!("the cut was noticed after {noticed:?}");

    // During the cut: a withdrawal at Northwind, a request at Contoso.
    api(
        a.web,
        &a_token,
        reqwest::Method::POST,
        &format!("/offers/{withdrawn}/actions"),
        Some(serde_json::json!({"action": "unpublish"})),
    )
    .await;
    let request = api(
        b.web,
        &b_token,
        reqwest::Method::POST,
        "/requests",
        Some(serde_json::json!({
            "offer_org": p_org, "offer_id": p_talk,
            "goal": "Learn how you run incident reviews"})),
    )
    .await;
    let request_id = request["id"].as_str().expect("request id").to_string();
    // Keep the link down a while longer, as a real outage would.
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(cut_at.elapsed())).await;

    ns.heal();
    let healed = within(
        Duration::from_secs(10),
        "all three agree again and the request arrived",
        || async {
            let mut seen = Vec::new();
            for web in nodes {
                seen.push(health(web).await?);
            }
            let agree = seen
                .iter()
                .all(|h| h["records_fingerprint"] == seen[0]["records_fingerprint"]);
            let inbox = reqwest::Client::new()
                .get(format!("http://{}/api/v1/requests/inbox", p.web))
                .bearer_auth(&p_token)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json::<serde_json::Value>()
                .await
                .map_err(|e| e.to_string())?;
            let arrived = inbox
                .as_array()
                .map(|l| l.iter().filter(|r| r["id"] == request_id.as_str()).count());
            if agree && arrived == Some(1) {
                Ok(())
            } else {
                Err(format!("{seen:?} inbox {inbox}"))
            }
        },
    )
    .await;
    eprintln!("converged {healed:?} after the heal");
    // The withdrawal is what they agree on: Fabrikam no longer lists it.
    let listing = reqwest::Client::new()
        .get(format!(
            "http://{}/api/v1/listings/{}/{withdrawn}",
            p.web,
            health(a.web).await.expect("health")["org_key"]
                .as_str()
                .expect("key")
        ))
        .bearer_auth(&p_token)
        .send()
        .await
        .expect("listing");
    assert_eq!(listing.status().as_u16(), 404, "the withdrawn talk is gone");
    drop(p);
    drop(ns);
}

/// A node's peer id, read without starting it: from `skillmesh invite`,
/// whose bootstrap addresses end in `/p2p/<id>`.
fn peer_id_of(config: &Path) -> String {
    let invite = invite(config);
    let hex = invite
        .strip_prefix("skillmesh-invite-1:")
        .expect("invite prefix");
    let json: serde_json::Value =
        serde_json::from_slice(&hex::decode(hex).expect("hex")).expect("invite JSON");
    json["bootstrap"][0]
        .as_str()
        .and_then(|a| a.rsplit("/p2p/").next())
        .expect("peer id")
        .to_string()
}
