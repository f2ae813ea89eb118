//! Accounts: passwords, tokens, users added by admins.

use super::*;
use crate::accounts::sha256_hex;

#[tokio::test]
async fn tokens_and_passwords() {
    let n = node();
    let made = n
        .api
        .new_api_token(&n.ana, "nightly report")
        .await
        .expect("token");
    let token = made.token.clone();
    assert!(token.starts_with("smk_") && token.len() == 68, "{token}");
    assert_eq!(made.info.name, "nightly report");
    assert_eq!(made.info.id, sha256_hex(&token)[..16]);
    assert_eq!(
        n.api.user_for_token(&token).await.expect("lookup"),
        Some(n.ana.clone())
    );
    let store = n.api.service().store_for_tests();
    let held = store
        .api_token(&sha256_hex(&token))
        .expect("get")
        .expect("kept by its hash");
    assert!(!serde_json::to_string(&held).expect("json").contains(&token));
    // A second token does not revoke the first; each is listed with its
    // last use, and revoking one stops it at once, alone.
    let newer = n.api.new_api_token(&n.ana, "").await.expect("token").token;
    for t in [&token, &newer] {
        assert_eq!(
            n.api.user_for_token(t).await.expect("lookup"),
            Some(n.ana.clone())
        );
    }
    let listed = n.api.api_tokens(&n.ana).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|t| t.last_used_at.is_some()),
        "{listed:?}"
    );
    assert!(listed.iter().any(|t| t.name == "API token"), "{listed:?}");
    n.api
        .revoke_api_token(&n.ana, &made.info.id)
        .await
        .expect("revoke");
    assert_eq!(n.api.user_for_token(&token).await.expect("lookup"), None);
    assert_eq!(
        n.api.user_for_token(&newer).await.expect("lookup"),
        Some(n.ana.clone())
    );
    assert!(matches!(
        n.api.revoke_api_token(&n.ana, &made.info.id).await,
        Err(ApiError::NotFound(_))
    ));
    assert_eq!(
        n.api.user_for_token("smk_nope").await.expect("lookup"),
        None
    );

    let ana = &n.ana.username;
    assert_eq!(
        n.api.sign_in(ana, PASSWORD).await.expect("sign in"),
        Some(n.ana.clone())
    );
    assert_eq!(
        n.api.sign_in(ana, "wrong password!").await.expect("x"),
        None
    );
    assert_eq!(
        n.api
            .sign_in("nobody@northwind.example", PASSWORD)
            .await
            .expect("x"),
        None
    );
}

#[tokio::test]
async fn admins_add_users_with_a_password_shown_once() {
    let n = node();
    let added = n
        .api
        .add_user(
            &n.ana,
            NewUser {
                username: "cy@northwind.example".into(),
                display_name: "Cy".into(),
                role: Role::Admin,
                password: String::new(),
            },
        )
        .await
        .expect("add");
    assert_eq!(added.user.role, Role::Admin);
    assert_eq!(added.password.len(), 20);
    assert!(
        n.api
            .sign_in("cy@northwind.example", &added.password)
            .await
            .expect("sign in")
            .is_some()
    );
    let again = n
        .api
        .add_user(
            &n.ana,
            NewUser {
                username: "cy@northwind.example".into(),
                display_name: "Cy".into(),
                role: Role::Member,
                password: String::new(),
            },
        )
        .await;
    assert!(matches!(again, Err(ApiError::Conflict(_))), "{again:?}");
    assert_eq!(n.api.users().await.expect("users").len(), 3);
    let log = n
        .api
        .audit(&AuditQuery {
            action: "user_added".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    // The two set-up accounts, then the one Ana added.
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0].actor, n.ana.username);
    assert!(log[1..].iter().all(|e| e.actor == "test"), "{log:?}");
}
