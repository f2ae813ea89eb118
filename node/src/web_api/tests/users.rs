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
async fn admins_invite_users_who_choose_their_password_through_a_link_once() {
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
    let invitation = added.invitation.expect("invited");
    assert_eq!(invitation.purpose, "invitation");
    let token = invitation
        .url
        .strip_prefix("/access/")
        .expect("a link path")
        .to_string();
    // No password opens the account until Cy chooses one.
    for guess in ["", "correct horse battery"] {
        assert!(
            n.api
                .sign_in("cy@northwind.example", guess)
                .await
                .expect("sign in")
                .is_none()
        );
    }
    let page = n
        .api
        .access_link(&token)
        .await
        .expect("page")
        .expect("works");
    assert_eq!(
        (page.display_name.as_str(), page.purpose.as_str()),
        ("Cy", "invitation")
    );
    let weak = n.api.use_access_link(&token, "short").await;
    assert!(matches!(weak, Err(ApiError::Invalid(_))), "{weak:?}");
    let cy = n
        .api
        .use_access_link(&token, "Cy's own long password")
        .await
        .expect("set");
    assert_eq!(cy.username, "cy@northwind.example");
    assert!(
        n.api
            .sign_in("cy@northwind.example", "Cy's own long password")
            .await
            .expect("sign in")
            .is_some()
    );
    // Once only.
    assert!(n.api.access_link(&token).await.expect("page").is_none());
    assert!(matches!(
        n.api.use_access_link(&token, "another long password").await,
        Err(ApiError::NotFound(_))
    ));
    // A reset link now; a newer one replaces it.
    let first = n
        .api
        .new_access_link(&n.ana, "cy@northwind.example")
        .await
        .expect("link");
    assert_eq!(first.purpose, "password_reset");
    let second = n
        .api
        .new_access_link(&n.ana, "cy@northwind.example")
        .await
        .expect("link");
    let token_of = |url: &str| url.strip_prefix("/access/").expect("path").to_string();
    assert!(
        n.api
            .access_link(&token_of(&first.url))
            .await
            .expect("page")
            .is_none()
    );
    n.api
        .use_access_link(&token_of(&second.url), "a brand new password")
        .await
        .expect("reset");
    assert!(
        n.api
            .sign_in("cy@northwind.example", "Cy's own long password")
            .await
            .expect("sign in")
            .is_none()
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

#[tokio::test]
async fn a_deactivated_person_is_signed_out_refused_and_withdrawn_from_partners() {
    let n = node();
    let svc = n.api.service().clone();
    let admin = User {
        username: "admin@northwind.example".into(),
        ..n.ana.clone()
    };
    // Bob shares his listing, publishes a talk and has a token.
    let update = ProfileUpdate {
        display_name: "Bob".into(),
        profile: skillmesh_protocol::profile::ProfileDetails::default(),
        sharing: SharedFields {
            display_name: true,
            ..SharedFields::default()
        },
        questions: None,
    };
    let profile = n.api.update_profile(&n.bob, update).await.expect("share");
    let listing = format!("listing-{}", profile.person_id);
    let talk = n
        .api
        .save_offer(&n.bob, None, talk("Bob's talk", 30))
        .await
        .expect("save")
        .id;
    n.api
        .offer_action(&n.bob, &talk, OfferAction::Publish)
        .await
        .expect("publish");
    let token = n.api.new_api_token(&n.bob, "").await.expect("token").token;
    let held = |id: &str| {
        svc.store_for_tests()
            .get_record(&svc.org(), id)
            .expect("read")
            .is_some_and(|r| !r.tombstone)
    };
    assert!(held(&listing) && held(&talk));

    let changed = n
        .api
        .set_user_active(&admin, &n.bob.username, false)
        .await
        .expect("deactivate");
    assert!(changed.deactivated);
    assert_eq!(
        n.api.sign_in(&n.bob.username, PASSWORD).await.expect("x"),
        None
    );
    assert_eq!(
        n.api.user(&n.bob.username).await.expect("x"),
        None,
        "sessions end"
    );
    assert_eq!(n.api.user_for_token(&token).await.expect("x"), None);
    assert!(!held(&listing), "the listing is retracted");
    assert!(!held(&talk), "the talk is retracted");
    let users = n.api.users().await.expect("users");
    assert!(
        users
            .iter()
            .any(|u| u.username == n.bob.username && u.deactivated)
    );
    // Nobody deactivates themselves.
    assert!(matches!(
        n.api.set_user_active(&n.ana, &n.ana.username, false).await,
        Err(ApiError::Invalid(_))
    ));
    // Reactivated, Bob signs in again; what he shared stays withdrawn.
    n.api
        .set_user_active(&admin, &n.bob.username, true)
        .await
        .expect("reactivate");
    assert!(
        n.api
            .sign_in(&n.bob.username, PASSWORD)
            .await
            .expect("x")
            .is_some()
    );
    assert!(!held(&talk));
}
