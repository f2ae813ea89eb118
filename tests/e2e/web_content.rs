//! Learning paths across organisations, in a real headless Chromium against
//! real nodes on loopback: Northwind's Tomás cannot save a `javascript:`
//! link; he writes a learning path of three items and shares it; Contoso's
//! Aisha finds it in search on Contoso's node, follows it, letting
//! Northwind count her among its followers (Tomás is credited there; it
//! learns a count, not who, and she can take it back), and ticks two
//! items off (her progress stays with her), and recommends it to Ben, who
//! finds it on his home page; Tomás stops sharing it, and it
//! is gone from Contoso's search and pages, leaving Aisha only her
//! progress, marked withdrawn, while Northwind's people still find it in
//! their own search, marked as kept inside.

use crate::common::browser::Browser;
use crate::common::nodes::{held_seq, northwind_and_contoso, wait_for};
use crate::common::web::{
    WAIT, add, reload_until, screenshot, set_checked, sign_in, sign_out, url,
};
use anyhow::{Context, Result};
use skillmesh_node::store::Role;

const ENTRIES: &str =
    "Google SRE book: being on-call | https://sre.google/sre-book/being-on-call/ | Read this first
Incident review template | https://example.org/review-template
Kubernetes failure stories | https://k8s.af/ | Pick two";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learning_path_is_shared_found_followed_ticked_and_withdrawn() -> Result<()> {
    let (northwind, contoso) = northwind_and_contoso().await;
    add(
        &northwind,
        "tomas@northwind.example",
        "Tomás Ferreira",
        Role::Member,
    );
    add(
        &contoso,
        "aisha@contoso.example",
        "Aisha Bello",
        Role::Member,
    );
    add(&contoso, "ben@contoso.example", "Ben Osei", Role::Member);
    let b = Browser::start().await?;

    // A `javascript:` link is refused, with a reason.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/offers/new?kind=content")).await?;
    b.fill("#title", "A handy tool").await?;
    b.fill("#url", "javascript:alert(1)").await?;
    b.click("#save-draft").await?;
    b.wait_for_text("main", "http:// or https://", WAIT).await?;
    assert!(
        northwind.node.service.store_for_tests().items()?.is_empty(),
        "nothing was saved"
    );

    // A learning path of three items, shared with partners.
    b.goto(&url(&northwind, "/offers/new?kind=content")).await?;
    b.find("#content_type")
        .await?
        .select_by_value("list")
        .await
        .context("choosing a list")?;
    b.fill("#title", "Kubernetes on-call: where to start")
        .await?;
    b.fill("#why", "What I wish I had read before my first rota.")
        .await?;
    b.fill("#entries", ENTRIES).await?;
    b.fill("#topics", "Kubernetes, On-call").await?;
    b.click("#save-publish").await?;
    b.wait_for_text("main", "Published", WAIT).await?;
    let id = b
        .find("tr[data-offer]")
        .await?
        .attr("data-offer")
        .await?
        .context("the list's id")?;
    sign_out(&b).await?;

    // Aisha finds it on Contoso's node, follows it, ticks two items off.
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    reload_until(
        &b,
        &contoso,
        "/find?q=on-call+where+to+start&kind=content",
        "main",
        "Kubernetes on-call: where to start",
    )
    .await?;
    let listing = format!("/listing/{}/{id}", northwind.node.service.org().to_hex());
    b.goto(&url(&contoso, &listing)).await?;
    set_checked(&b, "#tell-curator", true).await?;
    b.click("#follow-button").await?;
    b.wait_for_text("main", "You follow this learning path", WAIT)
        .await?;
    set_checked(&b, "#progress input[value='0']", true).await?;
    set_checked(&b, "#progress input[value='2']", true).await?;
    b.click("#save-progress").await?;
    b.wait_for_text("#progress-count", "2 of 3 done", WAIT)
        .await?;
    screenshot(&b, "learning-path").await?;
    b.goto(&url(&contoso, "/")).await?;
    b.wait_for_text("#following", "2 of 3 done", WAIT).await?;
    // Nothing of her progress left Contoso.
    let follows = contoso.node.service.store_for_tests().all_follows()?;
    assert_eq!(follows.len(), 1);
    assert!(
        northwind
            .node
            .service
            .store_for_tests()
            .all_follows()?
            .is_empty()
    );

    // She recommends it to Ben, her colleague, who finds it on his home
    // page with her note.
    b.goto(&url(&contoso, &listing)).await?;
    b.fill("#recommend-note", "Start with the review template.")
        .await?;
    b.click("#recommend-button").await?;
    b.wait_for_text(
        "main",
        "Recommended: it is on your colleague's home page",
        WAIT,
    )
    .await?;
    // Curating counts in Aisha's recognition (her recommendation), and in
    // Tomás's at Northwind (her follow): Contoso told Northwind how many
    // of its people follow the list, never who.
    assert_eq!(contoso.node.service.recognition("aisha")?.curated, 1);
    wait_for("Northwind credits Tomás with Aisha's follow", || async {
        northwind
            .node
            .service
            .recognition("tomas")
            .is_ok_and(|r| r.curated == 1)
    })
    .await;
    let told = northwind
        .node
        .service
        .store_for_tests()
        .received_counts(&id)?;
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].from_org, told[0].followers),
        (contoso.node.service.org(), 1)
    );
    // She changes her mind, keeping her progress: the count falls to none.
    b.goto(&url(&contoso, &listing)).await?;
    set_checked(&b, "#tell-curator", false).await?;
    b.click("#save-tell").await?;
    b.wait_for_text("#progress-count", "2 of 3 done", WAIT)
        .await?;
    wait_for("Northwind hears that the count fell", || async {
        northwind
            .node
            .service
            .recognition("tomas")
            .is_ok_and(|r| r.curated == 0)
    })
    .await;
    sign_out(&b).await?;
    sign_in(&b, &contoso, "ben@contoso.example").await?;
    let recommended = b.text("#recommended").await?;
    for expected in [
        "Kubernetes on-call: where to start",
        "from Aisha Bello",
        "Start with the review template.",
    ] {
        assert!(
            recommended.contains(expected),
            "{expected:?} in {recommended}"
        );
    }
    assert!(
        b.find("#following").await.is_err(),
        "Aisha's progress is hers alone"
    );
    sign_out(&b).await?;

    // Tomás stops sharing it: it is gone from Contoso.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/offers")).await?;
    b.click(&format!(
        "tr[data-offer='{id}'] button[data-action=unpublish]"
    ))
    .await?;
    b.wait_for_text("main", "unpublished", WAIT).await?;
    // Kept inside Northwind now: its people still find it, marked so.
    b.goto(&url(
        &northwind,
        "/find?q=on-call+where+to+start&kind=content",
    ))
    .await?;
    b.wait_for_text("#result-count", "1 result", WAIT).await?;
    let found = b.text("main").await?;
    for expected in [
        "Kubernetes on-call: where to start",
        "kept inside: not shared with partners",
    ] {
        assert!(found.contains(expected), "{expected:?} in {found}");
    }
    let northwind_key = northwind.node.service.org();
    wait_for("the retraction reaches Contoso", || async {
        held_seq(&contoso, &northwind_key, &id).is_some_and(|(_, gone)| gone)
    })
    .await;
    sign_out(&b).await?;
    sign_in(&b, &contoso, "aisha@contoso.example").await?;
    reload_until(
        &b,
        &contoso,
        "/find?q=on-call+where+to+start&kind=content",
        "#result-count",
        "0 results",
    )
    .await?;
    b.goto(&url(&contoso, &listing)).await?;
    b.wait_for_text("main", "no such record", WAIT).await?;
    b.goto(&url(&contoso, "/")).await?;
    b.wait_for_text("#following", "withdrawn by Northwind", WAIT)
        .await?;
    sign_out(&b).await?;

    // Tomás deletes it: Delete asks first and says what it does; Cancel
    // keeps it, the confirmation deletes it.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/offers")).await?;
    let delete = format!("tr[data-offer='{id}'] button[data-action=delete]");
    b.click(&delete).await?;
    b.wait_for_text(
        "#delete-effect",
        "deleting it removes it from this node only",
        WAIT,
    )
    .await?;
    b.click("#cancel").await?;
    let row = format!("tr[data-offer='{id}']");
    b.wait_for_text(&row, "Kubernetes on-call: where to start", WAIT)
        .await?;
    b.click(&delete).await?;
    b.wait_for_text("#delete-effect", "Colleagues here no longer see it", WAIT)
        .await?;
    b.click("#confirm-delete").await?;
    b.wait_for_text("main", "Deleted:", WAIT).await?;
    assert!(b.find(&row).await.is_err(), "no longer listed");
    b.close().await?;
    Ok(())
}
