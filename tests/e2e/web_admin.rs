//! An admin steers federation in a real headless Chromium against real
//! nodes: Northwind runs in allowlist mode; Contoso appears under "wants to
//! join" and nothing of it is let in until Northwind's admin accepts it;
//! the admin then stops time zones from leaving Northwind, and the listing
//! Contoso holds loses its time zone; the audit log shows both decisions.
//! A member is refused the admin pages.

use crate::common::browser::Browser;
use crate::common::nodes::{mentoring, p2p_addr, start_org, wait_for};
use crate::common::web::{WAIT, add, reload_until, screenshot, sign_in, sign_out, url};
use anyhow::Result;
use skillmesh_config::FederationMode;
use skillmesh_node::service::listing_id;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{Role, Sharing};
use skillmesh_protocol::Body;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_accepts_a_partner_and_narrows_what_leaves() -> Result<()> {
    let northwind = start_org("Northwind", &[], FederationMode::Allowlist).await;
    let contoso = start_org(
        "Contoso",
        &[p2p_addr(&northwind).await],
        FederationMode::Open,
    )
    .await;
    add(
        &northwind,
        "priya@northwind.example",
        "Priya Raman",
        Role::Admin,
    );
    add(
        &northwind,
        "tomas@northwind.example",
        "Tomás Silva",
        Role::Member,
    );
    // Contoso offers something; Northwind shares Tomás's listing, time
    // zone included.
    let svc = &contoso.node.service;
    svc.create_item(
        "hello",
        Some("amara"),
        mentoring("Leading your first team"),
        &Actor::person("test"),
    )?;
    svc.publish_item("hello", &Actor::person("test"))?;
    let nw = &northwind.node.service;
    let mut tomas = nw.store_for_tests().person("tomas")?.expect("tomas");
    tomas.profile.time_zone = Some("Europe/Lisbon".into());
    tomas.sharing = Sharing::listing();
    nw.update_person(&tomas, &Actor::person("test"))?;
    let tomas_tz = || {
        contoso
            .node
            .service
            .store_for_tests()
            .get_record(&nw.org(), &listing_id("tomas"))
            .ok()
            .flatten()
            .and_then(|row| row.record().ok())
            .and_then(|r| match r.body {
                Body::Expertise(e) => Some(e.time_zone),
                _ => None,
            })
    };
    wait_for("Contoso holds Tomás's listing", || async {
        tomas_tz() == Some(Some("Europe/Lisbon".into()))
    })
    .await;

    let b = Browser::start().await?;
    // A member is refused the console.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/admin")).await?;
    b.wait_for_text("main", "This page is for the organisation's admins.", WAIT)
        .await?;
    sign_out(&b).await?;

    sign_in(&b, &northwind, "priya@northwind.example").await?;
    reload_until(&b, &northwind, "/admin", "#wants-to-join", "Contoso").await?;
    b.goto(&url(&northwind, "/find?q=leading")).await?;
    assert_eq!(
        b.text("#result-count").await?,
        "0 results",
        "nothing before accepting"
    );
    b.goto(&url(&northwind, "/admin")).await?;
    b.click(&format!(
        "#wants-to-join li[data-org='{}'] button[data-action=allow]",
        svc.org().to_hex()
    ))
    .await?;
    b.wait_for_text("main", "Organisation updated.", WAIT)
        .await?;
    reload_until(
        &b,
        &northwind,
        "/find?q=leading",
        ".results",
        "Leading your first team",
    )
    .await?;

    // Time zones stop leaving Northwind.
    b.goto(&url(&northwind, "/admin/policy")).await?;
    let tz = b.find("#policy-time_zone").await?;
    assert!(tz.is_selected().await?, "time zones leave by default");
    tz.click().await?;
    b.click("#save-policy").await?;
    b.wait_for_text("main", "Outbound policy saved", WAIT)
        .await?;
    screenshot(&b, "policy").await?;
    wait_for(
        "Contoso's copy of the listing to lose its time zone",
        || async { tomas_tz() == Some(None) },
    )
    .await;

    b.goto(&url(&northwind, "/admin/audit?action=policy_changed"))
        .await?;
    b.wait_for_text("#audit", "priya@northwind.example", WAIT)
        .await?;
    b.goto(&url(&northwind, "/admin/audit?action=org_allowed"))
        .await?;
    b.wait_for_text("#audit", "Contoso", WAIT).await?;

    b.close().await?;
    northwind.node.stop().await;
    contoso.node.stop().await;
    Ok(())
}

/// An admin removes a person, in the browser, after a confirmation that
/// says what will happen: their listing and offer leave the partner's
/// store and search, the request waiting for them is declined at the
/// asker's node, and their account and profile are gone here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_removes_a_person_who_is_withdrawn_everywhere() -> Result<()> {
    use crate::common::nodes::{held_seq, northwind_and_contoso, outbox_status, publish_to};
    use skillmesh_node::store::OutboxStatus;

    let (northwind, contoso) = northwind_and_contoso().await;
    add(
        &northwind,
        "priya@northwind.example",
        "Priya Raman",
        Role::Admin,
    );
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
    let nw = &northwind.node.service;
    let mut tomas = nw.store_for_tests().person("tomas")?.expect("tomas");
    tomas.sharing = Sharing::listing();
    nw.update_person(&tomas, &Actor::person("test"))?;
    publish_to(
        &northwind,
        "mentor-k8s",
        Some("tomas"),
        mentoring("Kubernetes in production"),
        &[&contoso],
    )
    .await;
    let org_nw = nw.org();
    wait_for("Contoso holds Tomás's listing", || async {
        held_seq(&contoso, &org_nw, &listing_id("tomas")).is_some_and(|(_, gone)| !gone)
    })
    .await;
    let asked = contoso.node.service.request_offer(
        "aisha",
        org_nw,
        "mentor-k8s",
        "Run k8s well",
        "",
        "",
        false,
    )?;
    wait_for("the request waits at Northwind", || async {
        outbox_status(&contoso, &asked.id) == Some(OutboxStatus::Queued)
    })
    .await;

    assert!(from_northwind_found(&contoso, &org_nw), "found before");

    let b = Browser::start().await?;
    sign_in(&b, &northwind, "priya@northwind.example").await?;
    b.goto(&url(&northwind, "/admin/users")).await?;
    b.click("tr[data-user='tomas@northwind.example'] button[data-action=remove]")
        .await?;
    b.wait_for_text("main", "withdrawn from every partner", WAIT)
        .await?;
    b.click("#confirm-remove").await?;
    b.wait_for_text("main", "Removed: withdrawn from every partner", WAIT)
        .await?;
    assert!(
        !b.text("#users").await?.contains("tomas@northwind.example"),
        "no longer listed"
    );
    b.close().await?;

    // Gone from the partner: listing and offer withdrawn, not found.
    for id in [listing_id("tomas"), "mentor-k8s".to_string()] {
        wait_for("Contoso holds only a retraction", || async {
            held_seq(&contoso, &org_nw, &id).is_some_and(|(_, gone)| gone)
        })
        .await;
    }
    assert!(!from_northwind_found(&contoso, &org_nw));
    // The asker hears a definite no.
    wait_for("declined at Contoso", || async {
        outbox_status(&contoso, &asked.id) == Some(OutboxStatus::Declined)
    })
    .await;
    // Nothing of the account or profile is left at Northwind.
    let store = nw.store_for_tests();
    assert!(store.account("tomas@northwind.example")?.is_none());
    assert!(store.person("tomas")?.is_none());
    assert!(store.items_of("tomas")?.is_empty());
    Ok(())
}

/// Whether `org` finds anything of `from`'s about Kubernetes.
fn from_northwind_found(
    org: &crate::common::nodes::Org,
    from: &skillmesh_protocol::OrgKey,
) -> bool {
    let found = org.node.service.search(
        &skillmesh_node::search::SearchQuery {
            q: "kubernetes".into(),
            ..Default::default()
        },
        skillmesh_node::clock::now(),
    );
    found.hits.iter().any(|h| h.org == from.to_hex())
}
