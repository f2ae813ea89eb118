//! Single sign-on (issue 22), in a real headless Chromium against a real
//! node and a real OpenID provider on loopback (panva's certified
//! `oidc-provider`, `common::oidc`): the first sign-in makes the person,
//! the provider's admin group makes an admin, an address at a domain the
//! organisation does not allow is refused with a clear message, sign-out
//! works, and with password sign-in off no password opens the node. A
//! provider that cannot be reached is said so on the page.

use std::net::SocketAddr;

use crate::common::browser::Browser;
use crate::common::nodes::{Org, start_org_with};
use crate::common::oidc::{Person, Provider};
use crate::common::web::{WAIT, sign_out, url};
use crate::common::{free_port, post_sign_in};
use anyhow::{Context, Result};
use skillmesh_config::{OidcSettings, SecretSource};
use skillmesh_node::store::Role;

const PEOPLE: &[Person] = &[
    Person {
        login: "mia",
        password: "mia-at-the-provider",
        email: "Mia.Chen@contoso.example",
        name: "Mia Chen",
        groups: &["staff", "skillmesh-admins"],
    },
    Person {
        login: "tomas",
        password: "tomas-at-the-provider",
        email: "tomas@contoso.example",
        name: "Tomas Berg",
        groups: &["staff"],
    },
    Person {
        login: "eve",
        password: "eve-at-the-provider",
        email: "eve@elsewhere.example",
        name: "Eve",
        groups: &["skillmesh-admins"],
    },
];

fn oidc(provider: &Provider, issuer: &str) -> OidcSettings {
    OidcSettings {
        issuer_url: issuer.to_string(),
        client_id: provider.client_id.clone(),
        client_secret: SecretSource::Env(provider.client_secret.clone()),
        allowed_email_domains: vec!["contoso.example".into()],
        admin_claim: Some("groups".into()),
        admin_claim_value: Some("skillmesh-admins".into()),
        scopes: vec!["groups".into()],
        name: "your Contoso account".into(),
    }
}

/// A node on a port chosen first, so the provider knows where to send
/// browsers back to; password sign-in as `passwords` says.
async fn contoso_with(web: SocketAddr, settings: OidcSettings, passwords: bool) -> Org {
    start_org_with("Contoso", move |c| {
        c.web.listen = web;
        c.auth.password_sign_in = passwords;
        c.auth.oidc = Some(settings);
    })
    .await
}

/// Signs in through the provider as `person`, from the node's sign-in page.
async fn sso_sign_in(b: &Browser, org: &Org, person: &Person) -> Result<()> {
    b.goto(&url(org, "/signin")).await?;
    b.click("#sso").await?;
    b.fill("#login", person.login).await?;
    b.fill("#password", person.password).await?;
    b.click("#provider-signin").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_with_their_company_account() -> Result<()> {
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
    let provider = Provider::start(&format!("http://{web}/signin/sso/callback"), PEOPLE);
    let contoso = contoso_with(web, oidc(&provider, &provider.issuer), false).await;
    let store = contoso.node.service.store_for_tests();
    let b = Browser::start().await?;

    // The sign-in page offers the provider and no password form.
    b.goto(&url(&contoso, "/signin")).await?;
    assert_eq!(b.text("#sso").await?, "Sign in with your Contoso account");
    assert!(
        b.client()
            .find(fantoccini::Locator::Css("#username"))
            .await
            .is_err()
    );

    // Mia's first sign-in makes her account; her group makes her an admin.
    sso_sign_in(&b, &contoso, &PEOPLE[0]).await?;
    b.wait_for_text("#signed-in-as", "Mia Chen", WAIT)
        .await
        .context("Mia is signed in")?;
    let mia = store
        .account("mia.chen@contoso.example")?
        .context("her account was made")?;
    assert_eq!(mia.role, Role::Admin);
    assert!(mia.sso_subject.is_some());
    b.goto(&url(&contoso, "/admin")).await?;
    b.wait_for_text("h1", "Admin", WAIT).await?;

    // Sign-out works: her pages ask for a sign-in again.
    sign_out(&b).await?;
    b.goto(&url(&contoso, "/account")).await?;
    assert!(b.current_url().await?.contains("/signin"), "signed out");
    // The provider remembers her (its own session): another person signs
    // in after its cookies are gone, as on another computer.
    b.client().delete_all_cookies().await?;

    // Tomas is not in the admin group: a member.
    sso_sign_in(&b, &contoso, &PEOPLE[1]).await?;
    b.wait_for_text("#signed-in-as", "Tomas Berg", WAIT).await?;
    assert_eq!(
        store.account("tomas@contoso.example")?.map(|a| a.role),
        Some(Role::Member)
    );
    b.goto(&url(&contoso, "/admin")).await?;
    b.wait_for_text("main", "This page is for the organisation's admins.", WAIT)
        .await?;
    sign_out(&b).await?;
    b.client().delete_all_cookies().await?;

    // Eve's address is at a domain Contoso does not allow: a clear
    // message, and no account.
    sso_sign_in(&b, &contoso, &PEOPLE[2]).await?;
    b.wait_for_text(
        "main",
        "Sign-in with eve@elsewhere.example is not allowed here: only addresses at contoso.example may sign in.",
        WAIT,
    )
    .await?;
    assert!(store.account("eve@elsewhere.example")?.is_none());
    b.close().await?;

    // No password opens the node, even one an account was given.
    crate::common::web::add(&contoso, "local@contoso.example", "Local", Role::Member);
    let refused = reqwest::Client::new()
        .post(format!("http://{web}/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=local%40contoso.example&password={}",
            crate::common::web::PASSWORD.replace(' ', "+")
        ))
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await?
            .contains("Signing in with a password is switched off here")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_cannot_be_reached_is_said_so_and_passwords_still_work() {
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let provider = Provider::start(&format!("http://{web}/signin/sso/callback"), PEOPLE);
    // A port nobody listens on.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let contoso = contoso_with(web, oidc(&provider, &dead), true).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(format!("http://{web}/signin/sso"))
        .send()
        .await
        .expect("GET /signin/sso");
    assert_eq!(page.status(), 503);
    let text = page.text().await.expect("page");
    assert!(
        text.contains(&format!("The sign-in provider at {dead} cannot be reached")),
        "{text}"
    );
    // A callback nobody started is refused, not followed.
    let forged = client
        .get(format!(
            "http://{web}/signin/sso/callback?state=made-up&code=x"
        ))
        .send()
        .await
        .expect("GET callback");
    assert_eq!(forged.status(), 403);
    // Local accounts still sign in with their password.
    crate::common::web::add(&contoso, "local@contoso.example", "Local", Role::Member);
    let signed_in = post_sign_in(
        contoso.node.web_addr,
        "local@contoso.example",
        crate::common::web::PASSWORD,
        None,
    )
    .await;
    assert_eq!(signed_in.status(), 303);
}
