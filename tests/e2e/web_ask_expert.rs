//! Asking an expert (issue 22), in a real headless Chromium against two
//! real nodes on loopback: a Northwind expert with no offers shares her
//! listing; a Contoso member finds her, asks her a question from the
//! listing; she is notified by mail (a mail server the test runs) and in
//! the app (the count on every page, the
//! notification), finds it in her requests and accepts; the asker is
//! notified and sees her contact details. Until she accepts, nothing of hers but the listing
//! reaches Contoso.

use crate::common::browser::Browser;
use crate::common::nodes::{p2p_addr, start_org, start_org_with, wait_for};
use crate::common::smtp::SmtpSink;
use crate::common::web::{WAIT, add, reload_until, set_checked, sign_in, sign_out, url};
use anyhow::Result;
use skillmesh_config::EmailSettings;
use skillmesh_config::FederationMode;
use skillmesh_node::store::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_asks_an_expert_with_no_offers_and_gets_her_contact_once_accepted() -> Result<()> {
    // Northwind mails its people, through a mail server the test runs.
    let sink = SmtpSink::start().await;
    let smtp_url = format!("smtp://{}", sink.addr);
    let northwind = start_org_with("Northwind", |c| {
        c.email = Some(EmailSettings {
            smtp_url,
            from: "Skillmesh <skills@northwind.example>".into(),
            digest_interval_secs: 86_400,
        });
    })
    .await;
    let contoso = start_org(
        "Contoso",
        &[p2p_addr(&northwind).await],
        FederationMode::Open,
    )
    .await;
    add(
        &northwind,
        "joana@northwind.example",
        "Joana Reis",
        Role::Member,
    );
    add(
        &contoso,
        "aisha@contoso.example",
        "Aisha Khan",
        Role::Member,
    );
    let b = Browser::start().await?;

    // Joana shares her name and topics, not her email; questions are
    // open by default, at most 4 in 30 days.
    sign_in(&b, &northwind, "joana@northwind.example").await?;
    b.goto(&url(&northwind, "/profile")).await?;
    b.fill("#topics", "Postgres: expert\nQuery tuning: advanced")
        .await?;
    for field in ["display_name", "topics"] {
        set_checked(&b, &format!("#share-{field}"), true).await?;
    }
    set_checked(&b, "#share-email", false).await?;
    assert_eq!(
        b.find("#questions_per_month")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("4")
    );
    b.click("#save-profile").await?;
    b.wait_for_text("main", "Saved.", WAIT).await?;
    sign_out(&b).await?;

    // Aisha finds her listing and asks her a question from it.
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    reload_until(&b, &contoso, "/find?q=postgres", ".results", "Joana Reis").await?;
    b.client()
        .find(fantoccini::Locator::LinkText("Joana Reis"))
        .await?
        .click()
        .await?;
    b.wait_for_text("#provenance", "signature checked", WAIT)
        .await?;
    assert!(
        b.client()
            .find_all(fantoccini::Locator::Css("#expert-offers"))
            .await?
            .is_empty(),
        "she has no offers"
    );
    b.fill("#question", "Why does our planner ignore the index?")
        .await?;
    b.click("#ask-form input[name=ask][value=review]").await?;
    b.fill("#ask-message", "I can send the EXPLAIN output.")
        .await?;
    b.click("#send-question").await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    reload_until(
        &b,
        &contoso,
        "/requests",
        "#outbox",
        "queued at the other organisation",
    )
    .await?;
    let outbox = b.text("#outbox").await?;
    assert!(
        outbox.contains("Question for Joana Reis (a review of my work)"),
        "{outbox}"
    );
    assert!(!outbox.contains("joana@northwind.example"), "not yet");
    sign_out(&b).await?;

    // Joana is mailed at once (her choice by default)...
    wait_for("Joana's mail", || async {
        sink.messages()
            .iter()
            .any(|m| m.to == ["joana@northwind.example"])
    })
    .await;
    let mail = sink
        .messages()
        .into_iter()
        .find(|m| m.to == ["joana@northwind.example"])
        .expect("mailed");
    assert!(
        mail.data.contains("asks you a question") && mail.data.contains("/requests"),
        "{}",
        mail.data
    );
    // ...and told on every page, sees the notification, and finds the
    // question in her requests; she accepts it.
    sign_in(&b, &northwind, "joana@northwind.example").await?;
    assert_eq!(b.text("#unread-count").await?, "1");
    b.click("#notifications-link").await?;
    let notes = b
        .wait_for_text("#notifications", "asks you a question", WAIT)
        .await?;
    assert!(
        notes.contains("Aisha Khan at Contoso asks you a question: Why does our planner"),
        "{notes}"
    );
    b.click("#mark-all-read").await?;
    b.wait_for_text("main", "Marked as read.", WAIT).await?;
    assert!(
        b.client()
            .find_all(fantoccini::Locator::Css("#unread-count"))
            .await?
            .is_empty(),
        "read: no count"
    );
    b.goto(&url(&northwind, "/requests")).await?;
    let inbox = b
        .wait_for_text("#inbox", "Why does our planner ignore the index?", WAIT)
        .await?;
    assert!(
        inbox.contains("A question for you")
            && inbox.contains("a review of my work")
            && inbox.contains("Aisha Khan")
            && inbox.contains("Contoso"),
        "{inbox}"
    );
    b.fill(
        "#inbox textarea[name=reply]",
        "Send it over, happy to look.",
    )
    .await?;
    b.click("#inbox button.accept").await?;
    b.wait_for_text("main", "Answer sent.", WAIT).await?;
    sign_out(&b).await?;

    // Aisha is told of the answer, and sees Joana's contact details.
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    reload_until(
        &b,
        &contoso,
        "/notifications",
        "#notifications",
        "Northwind accepted your request",
    )
    .await?;
    reload_until(&b, &contoso, "/requests", "#outbox", "accepted").await?;
    let outbox = b.text("#outbox").await?;
    assert!(outbox.contains("joana@northwind.example"), "{outbox}");
    assert!(outbox.contains("Send it over, happy to look."), "{outbox}");

    b.close().await?;
    northwind.node.stop().await;
    contoso.node.stop().await;
    Ok(())
}
