//! Learning programmes end to end, in a real headless Chromium against
//! real nodes on loopback: Contoso's admin creates a learning week,
//! invites Fabrikam and adds Contoso's session; Fabrikam's admin adds
//! Fabrikam's session from Fabrikam's node; a Northwind member finds the
//! event on Northwind's node with both, signs up for Fabrikam's session,
//! and is admitted at once by Contoso's node; the session is in their
//! personal calendar feed, fetched as a calendar program would and
//! parsed; they give feedback;
//! Northwind's impact dashboard shows none of it while fewer people than
//! its privacy floor (3 here) stand behind the figures, and exactly what
//! was done once two colleagues signed up and said how it went too; and
//! only when its admin publishes a summary does Contoso see it (signed,
//! totals only), until it is withdrawn. Last, Fabrikam's admin takes Fabrikam's session
//! out of the programme again, and every node's copy loses it.

use crate::common::browser::Browser;
use crate::common::nodes::{
    event_sessions, held_seq, p2p_addr, start_org, start_org_with, wait_for,
};
use crate::common::web::{
    WAIT, add, reload_until, screenshot, set_checked, set_value, sign_in, sign_out, url,
};
use anyhow::{Context, Result};
use skillmesh_config::FederationMode;
use skillmesh_node::clock;
use skillmesh_node::store::{Actor, OutboxStatus, Role};
use skillmesh_web::FeedbackForm;
use skillmesh_web::dates::{date, time_of_day};

/// Fills the session form (the host's or a contributor's) for a session
/// at `at`.
async fn fill_session(b: &Browser, title: &str, at: i64) -> Result<()> {
    b.fill("#session_title", title).await?;
    set_value(b, "session_day", &date(at)).await?;
    set_value(b, "session_at", &time_of_day(at)).await?;
    Ok(())
}

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
    // The smallest privacy floor there is: three people must stand behind
    // a figure.
    let northwind = start_org_with("Northwind", |c| {
        c.network.bootstrap = vec![addr.clone()];
        c.federation.mode = FederationMode::Open;
        c.privacy.min_group_size = 3;
    })
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
    add(
        &contoso,
        "amara@contoso.example",
        "Amara Okafor",
        Role::Admin,
    );
    add(
        &fabrikam,
        "kenji@fabrikam.example",
        "Kenji Sato",
        Role::Admin,
    );
    let fabrikam_key = fabrikam.node.service.org();
    let now = clock::now();
    // A whole hour a day ahead, so the calendar's time is easy to check.
    let at = (now / 3600 + 26) * 3600;

    // Contoso's admin creates the learning week, invites Fabrikam to add
    // sessions, and puts Contoso's opening session in the programme.
    let b = Browser::start().await?;
    sign_in(&b, &contoso, "amara@contoso.example").await?;
    b.goto(&url(&contoso, "/offers/new?kind=event")).await?;
    b.fill("#title", "Learning week").await?;
    b.fill("#description", "Talks from three organisations.")
        .await?;
    set_value(&b, "first_day", &date(at)).await?;
    set_value(&b, "last_day", &date(at + 4 * 86_400)).await?;
    set_checked(
        &b,
        &format!("#contributors input[value='{}']", fabrikam_key.to_hex()),
        true,
    )
    .await?;
    b.click("#save-publish").await?;
    b.wait_for_text("main", "Published", WAIT).await?;
    let week = b
        .find("tr[data-offer]")
        .await?
        .attr("data-offer")
        .await?
        .context("the event's id")?;
    b.goto(&url(&contoso, &format!("/offers/{week}"))).await?;
    fill_session(&b, "Opening: why we learn together", at).await?;
    b.click("#add-session-button").await?;
    b.wait_for_text("#sessions", "Opening: why we learn together", WAIT)
        .await?;
    sign_out(&b).await?;
    let listing = format!("/listing/{}/{week}", contoso.node.service.org().to_hex());

    // Fabrikam's admin adds Fabrikam's session from Fabrikam's own node.
    sign_in(&b, &fabrikam, "kenji@fabrikam.example").await?;
    reload_until(&b, &fabrikam, &listing, "main", "Opening").await?;
    fill_session(&b, "Blameless incident reviews", at + 86_400).await?;
    screenshot(&b, "contribute").await?;
    b.click("#contribute-button").await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    reload_until(&b, &fabrikam, "/requests", "#outbox", "accepted").await?;
    sign_out(&b).await?;

    // Inês, at Northwind, finds the week with both sessions, and signs up
    // for Fabrikam's.
    sign_in(&b, &northwind, "ines@northwind.example").await?;
    b.goto(&url(&northwind, "/find?q=learning+week")).await?;
    b.wait_for_text("main", "Learning week", WAIT).await?;
    reload_until(
        &b,
        &northwind,
        &listing,
        "main",
        "Blameless incident reviews",
    )
    .await?;
    let blameless: String = b
        .client()
        .execute(
            "return [...document.querySelectorAll('button[data-session]')]
                .find(b => b.textContent.includes('Blameless')).dataset.session",
            vec![],
        )
        .await?
        .as_str()
        .context("the session's id")?
        .to_string();
    // From Fabrikam, with its key fingerprint.
    assert_eq!(
        b.text(&format!("tr[data-session='{blameless}'] td.from"))
            .await?,
        format!("Fabrikam {}", fabrikam_key.fingerprint())
    );
    let programme = b.text("main table").await?;
    assert!(
        programme.contains("Opening: why we learn together"),
        "{programme}"
    );
    b.click(&format!("button[data-session='{blameless}']"))
        .await?;
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

    // Inês alone stands behind Northwind's figures: the dashboard shows
    // none of them, and says why.
    sign_in(&b, &northwind, "priya@northwind.example").await?;
    b.goto(&url(&northwind, "/admin/impact")).await?;
    let withheld = b.text("#impact-withheld").await?;
    assert!(
        withheld.contains("Fewer than 3 people here stand behind the figures"),
        "{withheld}"
    );
    assert!(!b.text("main").await?.contains("Requests made"));

    // Two colleagues sign up for the same session and say how it went,
    // as Inês did.
    let contoso_key = contoso.node.service.org();
    for email in ["tomas@northwind.example", "lena@northwind.example"] {
        let account = skillmesh_node::accounts::add_user(
            northwind.node.service.store_for_tests(),
            email,
            &email[..4],
            Role::Member,
            crate::common::web::PASSWORD,
            &Actor::person("test"),
        )
        .context("adding a colleague")?;
        let person = account.person_id.context("the colleague's person")?;
        let sent = northwind
            .node
            .service
            .sign_up(&person, contoso_key, &week, &blameless)
            .context("signing up")?;
        wait_for("Contoso admits the colleague", || async {
            northwind
                .node
                .service
                .store_for_tests()
                .outbox_entry(&sent.id)
                .ok()
                .flatten()
                .is_some_and(|e| e.status == OutboxStatus::Accepted)
        })
        .await;
        northwind
            .node
            .service
            .give_feedback(
                &person,
                &sent.id,
                FeedbackForm {
                    rating: 5,
                    apply: String::new(),
                    comment: String::new(),
                    before: 2,
                    after: 4,
                },
            )
            .context("feedback")?;
    }

    // Now Northwind's impact dashboard shows what was done.
    b.goto(&url(&northwind, "/admin/impact")).await?;
    let figures = b.text("#impact").await?;
    for expected in [
        "Requests made\n3",
        "Requests made and answered\n3",
        "Feedback given\n3",
        "Average rating (1-5)\n5.0",
        "Skill before (1-5)\n2.0",
        "Skill after (1-5)\n4.0",
        "Cross-organisation connections\n3",
    ] {
        assert!(figures.contains(expected), "{expected:?} in {figures}");
    }
    assert!(b.text("#partner-chart").await?.contains("Contoso"));
    screenshot(&b, "impact").await?;

    // None of it has left Northwind. Priya publishes a summary for
    // partners.
    let northwind_key = northwind.node.service.org();
    assert_eq!(held_seq(&contoso, &northwind_key, "impact-summary"), None);
    b.click("#publish-impact-button").await?;
    b.wait_for_text("main", "Published: partners", WAIT).await?;
    sign_out(&b).await?;

    // Contoso's admin sees it, signed by Northwind: the totals, and no
    // average of what one person said.
    sign_in(&b, &contoso, "amara@contoso.example").await?;
    reload_until(
        &b,
        &contoso,
        "/admin/impact",
        ".partner-summary",
        "signed by Northwind",
    )
    .await?;
    let summary = b.text(".partner-summary").await?;
    for expected in [
        "Requests made and answered\n3 of 3",
        "Feedback given\n3",
        "Average rating (1-5)\n—",
    ] {
        assert!(summary.contains(expected), "{expected:?} in {summary}");
    }
    assert!(!summary.contains("Write the timeline first"), "{summary}");
    sign_out(&b).await?;

    // Priya withdraws it, and it is gone from Contoso's node.
    sign_in(&b, &northwind, "priya@northwind.example").await?;
    b.goto(&url(&northwind, "/admin/impact")).await?;
    b.click("#withdraw-impact").await?;
    b.wait_for_text("main", "Withdrawn", WAIT).await?;
    wait_for("the retraction reaches Contoso", || async {
        held_seq(&contoso, &northwind_key, "impact-summary").is_some_and(|(_, gone)| gone)
    })
    .await;
    sign_out(&b).await?;

    // Kenji takes Fabrikam's session out of the programme again, from
    // Fabrikam's node; Contoso's node re-signs the week without it, and
    // Northwind's copy loses it.
    sign_in(&b, &fabrikam, "kenji@fabrikam.example").await?;
    b.goto(&url(&fabrikam, &listing)).await?;
    b.wait_for_text("#our-sessions", "Blameless incident reviews", WAIT)
        .await?;
    b.click(&format!(
        "#our-sessions li[data-session='{blameless}'] button[data-action=withdraw]"
    ))
    .await?;
    b.wait_for_text("main", "Request sent.", WAIT).await?;
    let contoso_key = contoso.node.service.org();
    wait_for(
        "Northwind holds the week without Fabrikam's session",
        || async {
            let (_, sessions) = event_sessions(&northwind, &contoso_key, &week);
            sessions.len() == 1 && sessions.iter().all(|s| s.id != blameless)
        },
    )
    .await;
    wait_for("so does Fabrikam", || async {
        event_sessions(&fabrikam, &contoso_key, &week).1.len() == 1
    })
    .await;
    b.goto(&url(&fabrikam, &listing)).await?;
    b.wait_for_text("main", "Opening: why we learn together", WAIT)
        .await?;
    assert!(
        !b.text("main").await?.contains("Blameless incident reviews"),
        "the listing no longer shows the withdrawn session"
    );
    b.close().await?;
    Ok(())
}
