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
