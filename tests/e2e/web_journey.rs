//! The web journey end to end, in a real headless Chromium against real
//! nodes on loopback: a member of Northwind opts in and publishes a
//! mentoring offer; a member of Contoso finds it by topic and asks for it;
//! the Northwind member accepts; the Contoso member sees the acceptance and
//! the contact details; Contoso's admin blocks Northwind and its offers
//! vanish from Contoso's search. Northwind's listing carries markup and
//! script, which must render as text.
//!
//! Set `SKILLMESH_SCREENSHOTS=docs/screenshots` to refresh the README's
//! screenshots from this run.

use crate::common::browser::Browser;
use crate::common::nodes::{northwind_and_contoso, wait_for};
use crate::common::web::{
    WAIT, add, reload_until, screenshot, set_checked, sign_in, sign_out, url,
};
use anyhow::Result;
use skillmesh_node::store::Role;
/// What Tomás puts in his headline: it must show as text on Contoso.
const HOSTILE: &str =
    r#"<script>window.skillmeshProbe=1</script>" onmouseover="window.skillmeshProbe=2"#;

async fn no_script_ran(b: &Browser) -> Result<()> {
    let ran = b
        .client()
        .execute("return window.skillmeshProbe !== undefined", vec![])
        .await?;
    assert_eq!(
        ran,
        serde_json::Value::Bool(false),
        "markup from another organisation ran"
    );
    assert!(
        !b.page_source()
            .await?
            .contains("<script>window.skillmeshProbe")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_ask_accept_then_block() -> Result<()> {
    let (northwind, contoso) = northwind_and_contoso().await;
    add(
        &northwind,
        "tomas@northwind.example",
        "Tomás Silva",
        Role::Member,
    );
    add(
        &contoso,
        "aisha@contoso.example",
        "Aisha Khan",
        Role::Member,
    );
    add(&contoso, "admin@contoso.example", "Chen Admin", Role::Admin);
    let b = Browser::start().await?;

    // Tomás opts in, field by field, and sees the preview.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/profile")).await?;
    b.fill("#headline", HOSTILE).await?;
    b.fill("#topics", "Kubernetes: expert\nIncident response: advanced")
        .await?;
    b.fill("#languages", "en, pt").await?;
    b.fill("#time_zone", "Europe/Lisbon").await?;
    for field in ["display_name", "headline", "topics", "availability"] {
        set_checked(&b, &format!("#share-{field}"), true).await?;
    }
    set_checked(&b, "#share-email", false).await?;
    b.click("#save-profile").await?;
    b.wait_for_text("main", "Saved.", WAIT).await?;
    let preview = b.text("#preview").await?;
    assert!(
        preview.contains("Kubernetes") && preview.contains("Tomás Silva"),
        "{preview}"
    );
    assert!(
        !preview.contains("tomas@northwind.example"),
        "email was not opted in: {preview}"
    );
    assert!(
        !preview.contains("Europe/Lisbon"),
        "time zone was not opted in: {preview}"
    );
    screenshot(&b, "profile").await?;

    // He publishes a mentoring offer.
    b.goto(&url(&northwind, "/offers/new?kind=mentoring_offer"))
        .await?;
    b.fill("#title", "Running Kubernetes in production").await?;
    b.fill(
        "#description",
        "Four sessions on operating clusters and on-call.",
    )
    .await?;
    b.fill("#topics", "Kubernetes, on-call").await?;
    b.click("#save-publish").await?;
    b.wait_for_text("main", "Published", WAIT).await?;
    screenshot(&b, "offers").await?;
    sign_out(&b).await?;

    // Aisha, at Contoso, finds it by topic.
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    screenshot(&b, "home").await?;
    reload_until(
        &b,
        &contoso,
        "/find?q=kubernetes",
        ".results",
        "Running Kubernetes in production",
    )
    .await?;
    let results = b.text(".results").await?;
    assert!(results.contains("Northwind"), "{results}");
    assert!(
        results.contains(HOSTILE),
        "the headline shows as text: {results}"
    );
    no_script_ran(&b).await?;
    screenshot(&b, "find").await?;
    b.set_viewport_size(390, 844).await?;
    screenshot(&b, "find-phone").await?;
    b.set_viewport_size(1280, 800).await?;
    let link = b
        .client()
        .find(fantoccini::Locator::LinkText(
            "Running Kubernetes in production",
        ))
        .await?;
    link.click().await?;
    b.wait_for_text("#provenance", "signature checked", WAIT)
        .await?;
    assert_eq!(b.text("#from-org").await?, "Northwind");
    screenshot(&b, "listing").await?;
    b.fill("#goal", "Run on-call for my team").await?;
    b.fill("#preferred_times", "Tuesday mornings CET").await?;
    b.fill("#message", "Hello Tomás!").await?;
    b.click("#send-request").await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    reload_until(
        &b,
        &contoso,
        "/requests",
        "#outbox",
        "queued at the other organisation",
    )
    .await?;
    sign_out(&b).await?;

    // Tomás accepts.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/requests")).await?;
    let inbox = b
        .wait_for_text("#inbox", "Run on-call for my team", WAIT)
        .await?;
    assert!(
        inbox.contains("Aisha Khan") && inbox.contains("Contoso"),
        "{inbox}"
    );
    b.fill(
        "#inbox textarea[name=reply]",
        "Happy to. Let's start next week.",
    )
    .await?;
    screenshot(&b, "requests").await?;
    b.click("#inbox button.accept").await?;
    b.wait_for_text("main", "Answer sent.", WAIT).await?;
    sign_out(&b).await?;

    // Aisha sees the acceptance and Tomás's contact details.
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    reload_until(&b, &contoso, "/requests", "#outbox", "accepted").await?;
    let outbox = b.text("#outbox").await?;
    assert!(outbox.contains("tomas@northwind.example"), "{outbox}");
    assert!(
        outbox.contains("Happy to. Let's start next week."),
        "{outbox}"
    );
    sign_out(&b).await?;

    // Contoso's admin blocks Northwind: its offers vanish from search.
    sign_in(&b, &contoso, "admin@contoso.example").await?;
    b.goto(&url(&contoso, "/admin")).await?;
    let row = format!(
        "#orgs tr[data-org='{}'] button[data-action=block]",
        northwind.node.service.org().to_hex()
    );
    b.wait_for_text("#orgs", "Northwind", WAIT).await?;
    no_script_ran(&b).await?;
    screenshot(&b, "admin").await?;
    b.click(&row).await?;
    // Block asks first, saying what it does.
    b.wait_for_text(
        "main",
        "refuses its records and requests and drops what it sent",
        WAIT,
    )
    .await?;
    b.click("#confirm-block").await?;
    b.wait_for_text("main", "Organisation updated.", WAIT)
        .await?;
    b.goto(&url(&contoso, "/find?q=kubernetes")).await?;
    let count = b.text("#result-count").await?;
    assert_eq!(count, "0 results", "Northwind's records are gone");
    b.goto(&url(&contoso, "/admin/audit?action=org_blocked"))
        .await?;
    b.wait_for_text("#audit", "org_blocked", WAIT).await?;
    screenshot(&b, "audit").await?;
    wait_for("the block to hold", || async {
        contoso
            .node
            .service
            .store_for_tests()
            .records_of(&northwind.node.service.org())
            .map(|r| r.is_empty())
            .unwrap_or(false)
    })
    .await;

    b.close().await?;
    northwind.node.stop().await;
    contoso.node.stop().await;
    Ok(())
}
