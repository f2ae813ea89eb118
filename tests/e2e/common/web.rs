//! Browser steps shared by the web end-to-end tests: signing in and out
//! of a node's pages, waiting for another node's effect, screenshots.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use skillmesh_node::accounts::add_user;
use skillmesh_node::store::Role;

use super::browser::{Browser, screenshot_dir};
use super::nodes::Org;
use skillmesh_node::store::Actor;

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery";
/// How long a step may wait for a page or another node.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn url(org: &Org, path: &str) -> String {
    format!("http://{}{path}", org.node.web_addr)
}

pub fn add(org: &Org, email: &str, name: &str, role: Role) {
    add_user(
        org.node.service.store_for_tests(),
        email,
        name,
        role,
        PASSWORD,
        &Actor::person("test"),
    )
    .expect("add user");
}

/// Saves a screenshot as `name.png` in `SKILLMESH_SCREENSHOTS` (e.g.
/// docs/screenshots) or else in the test binary's screenshot directory.
pub async fn screenshot(b: &Browser, name: &str) -> Result<()> {
    let dir = std::env::var_os("SKILLMESH_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(screenshot_dir);
    b.screenshot(dir.join(format!("{name}.png"))).await?;
    Ok(())
}

pub async fn sign_in(b: &Browser, org: &Org, email: &str) -> Result<()> {
    b.goto(&url(org, "/signin")).await?;
    b.fill("#username", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#signin").await?;
    b.wait_for_text("#signed-in-as", "", WAIT)
        .await
        .with_context(|| format!("{email} signs in"))?;
    Ok(())
}

pub async fn sign_out(b: &Browser) -> Result<()> {
    b.click("header .who button").await?;
    b.wait_for_text("main", "You are signed out.", WAIT).await?;
    Ok(())
}

/// Ticks or unticks a checkbox.
pub async fn set_checked(b: &Browser, css: &str, on: bool) -> Result<()> {
    let el = b.find(css).await?;
    if el.is_selected().await? != on {
        el.click().await?;
    }
    Ok(())
}

/// Sets a date or time field's value as the page would have it (typing
/// into such fields depends on the browser's locale).
pub async fn set_value(b: &Browser, id: &str, value: &str) -> Result<()> {
    b.client()
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1]",
            vec![id.into(), value.into()],
        )
        .await
        .with_context(|| format!("setting #{id}"))?;
    Ok(())
}

/// Reloads `path` until `css` shows `needle` (another node is involved).
pub async fn reload_until(
    b: &Browser,
    org: &Org,
    path: &str,
    css: &str,
    needle: &str,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        b.goto(&url(org, path)).await?;
        if b.wait_for_text(css, needle, Duration::from_millis(300))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let text = b.text("main").await.unwrap_or_default();
            anyhow::bail!("{path}: `{css}` never showed {needle:?}; the page said:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
