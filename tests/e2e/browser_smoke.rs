//! The browser end-to-end harness works: a real node in this process, a
//! real headless Chromium driven over WebDriver, and the home page as a
//! person sees it, including a hostile organisation name rendered as text.

use std::time::Duration;

use crate::common::browser::{Browser, screenshot_dir};
use crate::common::nodes::start_org_with;

/// A name that would run a script if the page did not escape it.
const HOSTILE_NAME: &str =
    r#"Northwind <script>window.skillmeshProbe = 1; document.title = "pwned"</script> & Co"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_shows_the_organisation_name_as_text() -> anyhow::Result<()> {
    let org = start_org_with(HOSTILE_NAME, |_| {}).await;
    let home = format!("http://{}/", org.node.web_addr);
    let browser = Browser::start().await?;

    browser.goto(&home).await?;
    // The whole name, markup included, is the heading's visible text.
    browser
        .wait_for_text("h1", HOSTILE_NAME, Duration::from_secs(10))
        .await?;
    let title = browser.title().await?;
    assert!(
        title.contains(HOSTILE_NAME),
        "the page title {title:?} should name the organisation"
    );
    // No script element came from the name, and nothing of it ran.
    let injected = browser
        .client()
        .execute(
            "return Array.from(document.scripts).some(s => s.textContent.includes('skillmeshProbe'))
                || window.skillmeshProbe !== undefined",
            vec![],
        )
        .await?;
    assert_eq!(
        injected,
        serde_json::Value::Bool(false),
        "the name was run as markup"
    );
    assert!(browser.current_url().await?.starts_with(&home));

    let dir = screenshot_dir();
    let desktop = browser.screenshot(dir.join("home-desktop.png")).await?;
    browser.set_viewport_size(390, 844).await?;
    let phone = browser.screenshot(dir.join("home-phone.png")).await?;
    for png in [desktop, phone] {
        let bytes = std::fs::read(&png)?;
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            png.display()
        );
    }

    browser.close().await?;
    org.node.stop().await;
    Ok(())
}
