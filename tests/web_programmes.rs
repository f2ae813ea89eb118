//! Learning programmes end to end, in a real headless Chromium against
//! real nodes on loopback: Contoso's learning week lists sessions of its
//! own and one contributed by Fabrikam; a Northwind member finds the event
//! on Northwind's node, signs up for Fabrikam's session, and is admitted at
//! once by Contoso's node; the session is in their personal calendar feed,
//! fetched as a calendar program would and parsed; they give feedback; and
//! Northwind's impact dashboard shows exactly that.

mod common;

use anyhow::{Context, Result};
use common::browser::Browser;
use common::nodes::{event_session, p2p_addr, publish_to, start_org};
use common::web::{WAIT, add, reload_until, screenshot, sign_in, sign_out, url};
use skillmesh_config::FederationMode;
use skillmesh_node::clock;
use skillmesh_node::store::Role;
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::Event;

/// The events of an iCalendar file, as (SUMMARY, DTSTART) pairs, after
/// unfolding its lines.
fn events(ics: &str) -> Vec<(String, String)> {
    let unfolded = ics.replace("\r\n ", "");
    let mut out = Vec::new();
    let (mut summary, mut start) = (String::new(), String::new());
    for line in unfolded.split("\r\n") {
        if let Some(v) = line.strip_prefix("SUMMARY:") {
            summary = v.to_string();
        } else if let Some(v) = line.strip_prefix("DTSTART:") {
            start = v.to_string();
        } else if line == "END:VEVENT" {
            out.push((std::mem::take(&mut summary), std::mem::take(&mut start)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_for_a_learning_week_session_calendar_feedback_impact() -> Result<()> {
    let contoso = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&contoso).await;
    let fabrikam = start_org(
        "Fabrikam",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    let northwind = start_org(
        "Northwind",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    add(
        &northwind,
        "ines@northwind.example",
        "Inês Duarte",
        Role::Member,
    );
    add(
        &northwind,
        "priya@northwind.example",
        "Priya Raman",
        Role::Admin,
    );

    // Contoso's learning week, with a session Fabrikam contributes.
    let now = clock::now();
    // A whole hour a day ahead, so the calendar's time is easy to check.
    let at = (now / 3600 + 26) * 3600;
    let week = Body::Event(Event {
        title: "Learning week".into(),
        description: "Talks from three organisations.".into(),
        starts_at: at,
        ends_at: at + 5 * 86_400,
        sessions: vec![
            event_session("opening", "Opening: why we learn together", at, None),
            event_session(
                "blameless",
                "Blameless incident reviews",
                at + 86_400,
                Some(fabrikam.node.service.org()),
            ),
        ],
        languages: vec!["en".into()],
    });
    publish_to(&contoso, "week", None, week, &[&northwind]).await;
    let contoso_key = contoso.node.service.org();

    // Inês finds it and signs up for Fabrikam's session.
    let b = Browser::start().await?;
    sign_in(&b, &northwind, "ines@northwind.example").await?;
    b.goto(&url(&northwind, "/find?q=learning+week")).await?;
    b.wait_for_text("main", "Learning week", WAIT).await?;
    b.goto(&url(
        &northwind,
        &format!("/listing/{}/week", contoso_key.to_hex()),
    ))
    .await?;
    b.click("button[data-session=blameless]").await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    reload_until(&b, &northwind, "/requests", "#outbox", "accepted").await?;
    screenshot(&b, "sign-up").await?;

    // Her calendar feed holds that session, and only that one.
    b.goto(&url(&northwind, "/account")).await?;
    b.click("#new-calendar").await?;
    b.wait_for_text("#calendar-url", "/calendar/", WAIT).await?;
    let feed_url = b.text("#calendar-url").await?;
    let ics = reqwest::get(feed_url.trim())
        .await
        .context("fetching the feed")?
        .text()
        .await?;
    let found = events(&ics);
    let starts = skillmesh_web::dates::ical_utc(at + 86_400);
    assert_eq!(
        found,
        vec![("Blameless incident reviews".to_string(), starts)],
        "{ics}"
    );

    // She says how it went.
    b.goto(&url(&northwind, "/requests")).await?;
    b.click("#outbox details.feedback summary").await?;
    for (name, value) in [("rating", "5"), ("before", "2"), ("after", "4")] {
        b.find(&format!("#outbox select[name={name}]"))
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choosing {name}"))?;
    }
    b.fill("#outbox textarea[name=apply]", "Write the timeline first")
        .await?;
    b.click("#outbox details.feedback button[type=submit]")
        .await?;
    b.wait_for_text("main", "your feedback is saved", WAIT)
        .await?;
    sign_out(&b).await?;

    // Northwind's impact dashboard shows what was done.
    sign_in(&b, &northwind, "priya@northwind.example").await?;
    b.goto(&url(&northwind, "/admin/impact")).await?;
    let figures = b.text("#impact").await?;
    for expected in [
        "Requests made\n1",
        "Requests made and answered\n1",
        "Feedback given\n1",
        "Average rating (1-5)\n5.0",
        "Skill before (1-5)\n2.0",
        "Skill after (1-5)\n4.0",
        "Cross-organisation connections\n1",
    ] {
        assert!(figures.contains(expected), "{expected:?} in {figures}");
    }
    assert!(b.text("#partner-chart").await?.contains("Contoso"));
    screenshot(&b, "impact").await?;
    b.close().await?;
    Ok(())
}
