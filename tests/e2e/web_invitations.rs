//! Invitations and password resets by link (issue 22), in a real headless
//! Chromium against a real node: an admin adds a person without a
//! password, the page shows the invitation link once; the person opens it,
//! chooses a password and is signed in. Later an admin makes a reset
//! link: using it signs the person out of the browser they were still
//! signed in with. A used or expired link says clearly what to do.

use crate::common::browser::Browser;
use crate::common::nodes::start_org_with;
use crate::common::web::{WAIT, add, sign_in, sign_out, url};
use anyhow::{Context, Result};
use skillmesh_node::store::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_chooses_a_password_and_a_reset_signs_them_out_elsewhere() -> Result<()> {
    let northwind = start_org_with("Northwind", |_| {}).await;
    add(
        &northwind,
        "priya@northwind.example",
        "Priya Raman",
        Role::Admin,
    );
    let admin = Browser::start().await?;

    // Priya adds Lena without a password: an invitation link, shown once.
    sign_in(&admin, &northwind, "priya@northwind.example").await?;
    admin.goto(&url(&northwind, "/admin/users")).await?;
    admin
        .fill("#add-user input[name=username]", "lena@northwind.example")
        .await?;
    admin
        .fill("#add-user input[name=display_name]", "Lena Park")
        .await?;
    admin.click("#add-user button[type=submit]").await?;
    admin
        .wait_for_text("#added-user", "Send them an invitation", WAIT)
        .await?;
    let invitation = admin.text("#access-link").await?;
    assert!(
        invitation.starts_with(&format!("http://{}/access/sml_", northwind.node.web_addr)),
        "{invitation}"
    );

    // Lena opens it in her own browser, chooses a password (the two
    // differ at first) and is signed in.
    let lena = Browser::start().await?;
    lena.goto(&invitation).await?;
    lena.wait_for_text("h1", "Welcome, Lena Park", WAIT).await?;
    lena.fill("#new-password", "lena's first password").await?;
    lena.fill("#repeat-password", "lena's first passwrod")
        .await?;
    lena.click("#set-password").await?;
    lena.wait_for_text("main", "The two passwords differ.", WAIT)
        .await?;
    lena.fill("#new-password", "lena's first password").await?;
    lena.fill("#repeat-password", "lena's first password")
        .await?;
    lena.click("#set-password").await?;
    lena.wait_for_text("#signed-in-as", "Lena Park", WAIT)
        .await
        .context("signed in by the invitation")?;
    assert!(lena.current_url().await?.ends_with("/profile"));

    // The link works once.
    admin.goto(&invitation).await?;
    admin
        .wait_for_text("main", "This link does not work (any more)", WAIT)
        .await?;

    // Priya makes Lena a reset link; Lena, still signed in, is signed out
    // once it is used.
    admin.goto(&url(&northwind, "/admin/users")).await?;
    admin
        .click("tr[data-user='lena@northwind.example'] button[data-action=link]")
        .await?;
    admin
        .wait_for_text("#new-link", "a link to choose a new password", WAIT)
        .await?;
    let reset = admin.text("#access-link").await?;
    sign_out(&admin).await?;
    admin.goto(&reset).await?;
    admin
        .wait_for_text("h1", "Choose a new password", WAIT)
        .await?;
    admin
        .fill("#new-password", "lena's second password")
        .await?;
    admin
        .fill("#repeat-password", "lena's second password")
        .await?;
    admin.click("#set-password").await?;
    admin
        .wait_for_text("#signed-in-as", "Lena Park", WAIT)
        .await?;
    lena.goto(&url(&northwind, "/account")).await?;
    assert!(
        lena.current_url().await?.contains("/signin"),
        "the reset signed out her other browser"
    );
    lena.close().await?;

    // An expired link says so.
    let store = northwind.node.service.store_for_tests();
    let (token, _) = northwind.node.service.new_access_link(
        "lena@northwind.example",
        &skillmesh_node::store::Actor::person("test"),
    )?;
    let sha = skillmesh_node::access_links::link_sha256(&token).expect("a token");
    let mut link = store.access_link(&sha)?.expect("kept");
    link.expires_at = link.created_at - 1;
    store.add_access_link(&link)?;
    admin
        .goto(&url(&northwind, &format!("/access/{token}")))
        .await?;
    admin
        .wait_for_text(
            "main",
            "Ask an admin of this organisation for a new one.",
            WAIT,
        )
        .await?;
    admin.close().await?;
    Ok(())
}
