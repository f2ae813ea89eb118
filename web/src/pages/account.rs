//! `/account`: who I am here, and my API token for scripts.

use axum::body::Bytes;
use axum::extract::State;
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult};
use crate::Shared;
use crate::api::NodeApi;

fn render(ctx: &Ctx, token: Option<&str>) -> Markup {
    let user = ctx.me.as_ref().map(|m| &m.user);
    html! {
        h1 { "My account" }
        @if let Some(u) = user {
            dl.facts {
                dt { "Signed in as" } dd { (u.username) }
                dt { "Name" } dd { (u.display_name) }
                dt { "Role" } dd { @if u.is_admin() { "admin" } @else { "member" } }
            }
        }
        h2 { "API token" }
        p { "Scripts can call this node's JSON API (" a href="/api/v1/openapi.json" { "OpenAPI document" } ") with " code { "Authorization: Bearer <token>" } ", acting as you." }
        @if let Some(t) = token {
            p.notice { "Your new token (shown only now; a new one replaces it):" }
            pre.preview #api-token { (t) }
        }
        form method="post" action="/account" {
            (ctx.csrf())
            button type="submit" { "Create a new token" }
        }
    }
}

pub async fn page(ctx: Ctx) -> PageResult {
    ctx.user()?;
    Ok(ctx.render("My account", render(&ctx, None)))
}

pub async fn new_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let token = state
        .node
        .new_api_token(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("My account", render(&ctx, Some(&token))))
}
