//! A first-time trainer, in a real headless Chromium against a real node:
//! Tomás starts a talk from the guide's template, invites his colleague
//! Joana to observe it; Joana answers the observation form; Tomás reads
//! what she wrote; another colleague (Marek) and the admin (Priya) see
//! none of it, in the pages or the API.

use crate::common::browser::Browser;
use crate::common::nodes::start_org;
use crate::common::web::{WAIT, add, screenshot, sign_in, sign_out, url};
use anyhow::{Context, Result};
use skillmesh_config::FederationMode;
use skillmesh_node::store::Role;
use skillmesh_web::{AccountsApi, ObservationsApi};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observers_feedback_is_for_the_trainer_alone() -> Result<()> {
    let northwind = start_org("Northwind", &[], FederationMode::Open).await;
    for (email, name, role) in [
        ("tomas@northwind.example", "Tomás Ferreira", Role::Member),
        ("joana@northwind.example", "Joana Silva", Role::Member),
        ("marek@northwind.example", "Marek Nowak", Role::Member),
        ("priya@northwind.example", "Priya Raman", Role::Admin),
    ] {
        add(&northwind, email, name, role);
    }
    let b = Browser::start().await?;

    // Tomás starts from the guide's template.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/guide")).await?;
    b.click("#use-template").await?;
    let summary = b.text("#summary").await?;
    assert!(
        summary.contains("Goal:") && summary.contains("Exercise:") && summary.contains("Feedback:"),
        "{summary}"
    );
    b.fill("#title", "Blameless incident reviews").await?;
    b.click("#save-publish").await?;
    b.wait_for_text("main", "Published", WAIT).await?;
    let id = b
        .find("tr[data-offer]")
        .await?
        .attr("data-offer")
        .await?
        .context("the talk's id")?;

    // He invites Joana to observe it.
    b.goto(&url(&northwind, &format!("/offers/{id}"))).await?;
    b.find("#observer")
        .await?
        .select_by_value("joana")
        .await
        .context("choosing Joana")?;
    b.fill("#when", "Tuesday 14:00").await?;
    b.click("#invite-observer-button").await?;
    b.wait_for_text("main", "Invited", WAIT).await?;
    sign_out(&b).await?;

    // Joana answers.
    sign_in(&b, &northwind, "joana@northwind.example").await?;
    b.goto(&url(&northwind, "/observations")).await?;
    b.wait_for_text("#to-give", "Blameless incident reviews", WAIT)
        .await?;
    for (name, value) in [("clarity", "4"), ("pace", "3"), ("interaction", "5")] {
        b.find(&format!("#to-give select[name={name}]"))
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choosing {name}"))?;
    }
    b.fill("#to-give textarea[name=keep]", "The live demo of a review")
        .await?;
    b.fill(
        "#to-give textarea[name=change]",
        "Fewer slides before the exercise",
    )
    .await?;
    b.click("#to-give button[type=submit]").await?;
    b.wait_for_text("main", "only the person you observed sees it", WAIT)
        .await?;
    // Observing counts in Joana's recognition.
    assert_eq!(northwind.node.service.recognition("joana")?.observed, 1);
    sign_out(&b).await?;

    // Tomás reads it.
    sign_in(&b, &northwind, "tomas@northwind.example").await?;
    b.goto(&url(&northwind, "/observations")).await?;
    let mine = b.text("#of-mine").await?;
    for expected in [
        "Joana Silva",
        "Clarity\n4 of 5",
        "The live demo of a review",
        "Fewer slides before the exercise",
    ] {
        assert!(mine.contains(expected), "{expected:?} in {mine}");
    }
    screenshot(&b, "observation").await?;
    sign_out(&b).await?;

    // Nobody else sees it: a colleague, nor the admin.
    for who in ["marek@northwind.example", "priya@northwind.example"] {
        sign_in(&b, &northwind, who).await?;
        b.goto(&url(&northwind, "/observations")).await?;
        let page = b.text("main").await?;
        assert!(!page.contains("The live demo"), "{who} saw it: {page}");
        assert!(
            !page.contains("Blameless incident reviews"),
            "{who}: {page}"
        );
        sign_out(&b).await?;
    }
    let web = skillmesh_node::web_api::WebState::new(
        northwind.node.service.clone(),
        northwind.node.network.clone(),
    );
    for who in ["marek@northwind.example", "priya@northwind.example"] {
        let user = web.user(who).await?.context("known")?;
        let seen = web.observations(&user).await?;
        assert!(seen.to_give.is_empty() && seen.of_mine.is_empty(), "{who}");
        let observation = &northwind.node.service.store_for_tests().observations()?[0];
        assert!(
            web.give_observation(
                &user,
                &observation.id,
                skillmesh_web::ObservationForm {
                    clarity: 1,
                    pace: 1,
                    interaction: 1,
                    keep: "x".into(),
                    change: "y".into(),
                },
            )
            .await
            .is_err(),
            "{who} cannot answer in Joana's place"
        );
    }
    b.close().await?;
    Ok(())
}
