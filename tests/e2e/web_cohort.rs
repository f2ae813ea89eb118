//! A cohort across organisations, in a real headless Chromium against real
//! nodes on loopback: Contoso's Olga opens a cohort of 5 seats, at most 2
//! per organisation, with a weekly session; seven people from Northwind,
//! Fabrikam and Tailspin apply through their own nodes; Olga admits them
//! one by one, and the third from Northwind and the sixth overall are
//! refused; an admitted member sees the goal, the schedule and the roster,
//! with names only where people allowed it.

use crate::common::browser::Browser;
use crate::common::nodes::{Org, held_seq, p2p_addr, start_org, wait_for};
use crate::common::web::{
    WAIT, add, reload_until, screenshot, set_checked, set_value, sign_in, sign_out, url,
};
use anyhow::{Context, Result};
use skillmesh_config::FederationMode;
use skillmesh_node::store::Role;

/// `who` (at `org`) applies for the cohort, letting the group see their
/// name or not.
async fn apply(b: &Browser, org: &Org, who: &str, listing: &str, named: bool) -> Result<()> {
    sign_in(b, org, who).await?;
    b.goto(&url(org, listing)).await?;
    b.wait_for_text("#provenance", "signature checked", WAIT)
        .await?;
    b.fill("#goal", "Run a fair first review").await?;
    set_checked(b, "#name_to_group", named).await?;
    b.click("#send-request").await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    sign_out(b).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_seats_two_per_organisation_across_three_organisations() -> Result<()> {
    let contoso = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&contoso).await;
    let mut others = Vec::new();
    for name in ["Northwind", "Fabrikam", "Tailspin"] {
        others.push(start_org(name, std::slice::from_ref(&addr), FederationMode::Open).await);
    }
    let [northwind, fabrikam, tailspin] =
        <[Org; 3]>::try_from(others).map_err(|_| anyhow::anyhow!("three organisations"))?;
    add(&contoso, "olga@contoso.example", "Olga Owner", Role::Member);
    // (email, display name, node, lets the group see the name)
    let applicants = [
        ("n1@northwind.example", "Nadia One", &northwind, true),
        ("n2@northwind.example", "Noah Two", &northwind, false),
        ("n3@northwind.example", "Nell Three", &northwind, true),
        ("f1@fabrikam.example", "Farah One", &fabrikam, true),
        ("f2@fabrikam.example", "Femi Two", &fabrikam, true),
        ("t1@tailspin.example", "Tara One", &tailspin, true),
        ("t2@tailspin.example", "Theo Two", &tailspin, true),
    ];
    for (email, name, org, _) in &applicants {
        add(org, email, name, Role::Member);
    }

    // Olga opens the cohort.
    let b = Browser::start().await?;
    sign_in(&b, &contoso, "olga@contoso.example").await?;
    b.goto(&url(&contoso, "/offers/new?kind=cohort_offer"))
        .await?;
    b.fill("#title", "New managers: your first performance review")
        .await?;
    b.fill("#goal", "Run a fair, useful first review with your team")
        .await?;
    b.fill("#seats_total", "5").await?;
    b.fill("#seats_per_org", "2").await?;
    b.fill("#weeks", "6").await?;
    b.fill("#weekly_hours", "2").await?;
    set_value(&b, "starts_on", "2030-03-04").await?;
    set_value(&b, "session_time", "16:00").await?;
    b.fill("#topics", "leadership, feedback").await?;
    b.fill("#languages", "en").await?;
    b.click("#save-publish").await?;
    b.wait_for_text("main", "Published", WAIT).await?;
    sign_out(&b).await?;
    let contoso_key = contoso.node.service.org();
    let item = contoso
        .node
        .service
        .store_for_tests()
        .items()?
        .into_iter()
        .next()
        .context("the cohort")?;
    for org in [&northwind, &fabrikam, &tailspin] {
        let id = item.id.clone();
        wait_for("the cohort reaches every partner", || async {
            held_seq(org, &contoso_key, &id).is_some()
        })
        .await;
    }
    let listing = format!("/listing/{}/{}", contoso_key.to_hex(), item.id);

    // Seven people apply, each through their own node.
    for (email, _, org, named) in &applicants {
        apply(&b, org, email, &listing, *named).await?;
    }
    wait_for("every application reaches Contoso", || async {
        contoso
            .node
            .service
            .store_for_tests()
            .inbox()
            .expect("inbox")
            .len()
            == applicants.len()
    })
    .await;
    let request_of = |name: &str| -> Result<String> {
        contoso
            .node
            .service
            .store_for_tests()
            .inbox()?
            .into_iter()
            .find(|e| e.requester_name.as_deref() == Some(name))
            .map(|e| e.id)
            .with_context(|| format!("{name}'s application"))
    };

    // Olga admits them in turn: the third from Northwind and the sixth
    // overall are refused.
    sign_in(&b, &contoso, "olga@contoso.example").await?;
    for (name, admitted) in [
        ("Nadia One", true),
        ("Noah Two", true),
        ("Nell Three", false),
        ("Farah One", true),
        ("Femi Two", true),
        ("Tara One", true),
        ("Theo Two", false),
    ] {
        b.goto(&url(&contoso, "/requests")).await?;
        let id = request_of(name)?;
        b.click(&format!("#inbox li[data-request=\"{id}\"] button.accept"))
            .await?;
        let outcome = if admitted {
            "Answer sent."
        } else {
            "no places left"
        };
        b.wait_for_text("main", outcome, WAIT)
            .await
            .with_context(|| format!("{name}: {outcome}"))?;
    }
    sign_out(&b).await?;

    // Nadia sees the group: goal, six weekly sessions and five members,
    // Noah only as a member from Northwind.
    sign_in(&b, &northwind, "n1@northwind.example").await?;
    reload_until(&b, &northwind, "/requests", "#outbox", "Members (5)").await?;
    let outbox = b.text("#outbox").await?;
    for expected in [
        "Run a fair, useful first review with your team",
        "Nadia One · Northwind",
        "A member from Northwind",
        "Farah One · Fabrikam",
        "Tara One · Tailspin",
        "2030-03-04 16:00 UTC",
    ] {
        assert!(outbox.contains(expected), "{expected:?} in {outbox}");
    }
    assert!(!outbox.contains("Noah Two"), "{outbox}");
    assert!(!outbox.contains("Theo Two") && !outbox.contains("Nell Three"));
    screenshot(&b, "cohort").await?;
    b.close().await?;
    Ok(())
}
