//! Notifications by mail (issue 22), against a real SMTP server the test
//! starts on loopback (`common::smtp`): a real node's mailer (lettre)
//! delivers to the right person at once, collects a digest for someone
//! who chose one, and loses nothing while the mail server is down.

use std::time::Duration;

use skillmesh_config::EmailSettings;
use skillmesh_node::store::{Actor, MailChoice, NotificationKind, Person};

use crate::common::attacker::signed_request;
use crate::common::nodes::{listed_person, publish_to, start_org_with, talk_offer, wait_for};
use crate::common::smtp::SmtpSink;

fn person(id: &str, name: &str) -> Person {
    listed_person(id, name, &format!("{id}@northwind.example"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_people_are_mailed_digests_collect_and_a_down_server_loses_nothing() {
    let mut sink = SmtpSink::start().await;
    let smtp_url = format!("smtp://{}", sink.addr);
    let org = start_org_with("Northwind", |c| {
        c.email = Some(EmailSettings {
            smtp_url,
            from: "Skillmesh <skills@northwind.example>".into(),
            digest_interval_secs: 3,
        });
    })
    .await;
    let service = org.node.service.clone();
    let test = Actor::person("test");
    for (id, name) in [
        ("tomas", "Tomas Ferreira"),
        ("ana", "Ana Lima"),
        ("bo", "Bo Berg"),
    ] {
        service
            .add_person(&person(id, name), &test)
            .expect("person");
    }
    // Ana wants requests in a digest; Bo wants none mailed.
    service
        .set_mail_choices(
            "ana",
            &[(NotificationKind::RequestReceived, MailChoice::Digest)],
        )
        .expect("ana");
    service
        .set_mail_choices(
            "bo",
            &[(NotificationKind::RequestReceived, MailChoice::Never)],
        )
        .expect("bo");
    for (id, owner) in [("talk-t", "tomas"), ("talk-a", "ana"), ("talk-b", "bo")] {
        publish_to(&org, id, Some(owner), talk_offer(owner), &[]).await;
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let sender = skillmesh_protocol::OrgKey::from(&key.verifying_key());
    let ask = |offer: &str, i: u32| {
        service
            .receive_request(&signed_request(&key, service.org(), offer, i), sender)
            .expect("handled")
            .expect("taken");
    };

    // Tomas is mailed at once; Ana's two wait for the digest; Bo gets none.
    ask("talk-t", 1);
    ask("talk-a", 2);
    ask("talk-a", 3);
    ask("talk-b", 4);
    wait_for("Tomas's mail", || async {
        sink.messages()
            .iter()
            .any(|m| m.to == ["tomas@northwind.example"])
    })
    .await;
    let tomas = sink
        .messages()
        .into_iter()
        .find(|m| m.to == ["tomas@northwind.example"])
        .expect("mailed");
    assert!(tomas.data.contains("Mallory at"), "{}", tomas.data);
    assert!(
        tomas.data.contains("On-call without burnout"),
        "{}",
        tomas.data
    );
    assert!(
        tomas.data.contains("multipart/alternative"),
        "text and HTML"
    );
    assert!(tomas.data.contains("/requests"), "a link to the page");
    wait_for("Ana's digest", || async {
        sink.messages()
            .iter()
            .any(|m| m.to == ["ana@northwind.example"])
    })
    .await;
    let ana: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == ["ana@northwind.example"])
        .collect();
    assert_eq!(ana.len(), 1, "one digest for both");
    assert!(
        ana[0].subject().starts_with("2 things happened"),
        "{}",
        ana[0].subject()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = sink.messages();
    assert!(
        all.iter().all(|m| m.to != ["bo@northwind.example"]),
        "Bo chose no mail"
    );
    assert_eq!(
        all.iter()
            .filter(|m| m.to == ["ana@northwind.example"])
            .count(),
        1,
        "no second digest without anything new"
    );

    // The mail server goes down: the message waits in the queue and goes
    // out once it is back.
    sink.stop().await;
    ask("talk-t", 5);
    wait_for("a failed try", || async {
        service
            .store_for_tests()
            .queued_mail()
            .expect("queue")
            .iter()
            .any(|m| m.attempts > 0)
    })
    .await;
    let before = sink.messages().len();
    sink.resume().await;
    wait_for_long("the kept mail, once the server is back", || async {
        sink.messages().len() > before
    })
    .await;
    assert!(
        service
            .store_for_tests()
            .queued_mail()
            .expect("queue")
            .is_empty()
    );
    org.node.stop().await;
}

/// Like `wait_for`, for up to a minute (a retry waits 10 s).
async fn wait_for_long<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within a minute"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Mail settings that cannot work stop `skillmesh run` at once, with the
/// setting named, whether the config check or the mail library finds it.
#[test]
fn bad_mail_settings_stop_the_node_with_the_setting_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = crate::common::init_org(dir.path(), "Northwind");
    for (url, from, says) in [
        (
            "http://mail.example.org",
            "skills@northwind.example",
            "must start with smtp://",
        ),
        (
            "smtp://mail.example.org",
            "nobody",
            "is not an email address",
        ),
        (
            "smtp://mail.example.org?tls=sometimes",
            "skills@northwind.example",
            "notifications.email.smtp_url",
        ),
    ] {
        let out = std::process::Command::new(crate::common::skillmesh_bin())
            .args(["run", "--config", config.to_str().expect("utf-8")])
            .env("SKILLMESH_NETWORK_MDNS", "false")
            .env("SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL", url)
            .env("SKILLMESH_NOTIFICATIONS_EMAIL_FROM", from)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}: it must not start");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
