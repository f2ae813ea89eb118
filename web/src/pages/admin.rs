//! The admin console: federation mode and the allow/block lists, partner
//! organisations and connected peers, the approval queue, the per-field
//! outbound policy, the audit log, the chat webhook, network health, and
//! accounts.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use skillmesh_protocol::OrgKey;

use super::{Ctx, FormData, PageResult, done, org_key, pager, query_map};
use crate::Shared;
use crate::api::{
    AddedUser, ApiError, AuditQuery, FederationMode, NewUser, OrgAction, OrgRow, Role,
    SharedFields, Webhook,
};
use crate::dates::datetime;
use crate::pages::listing;
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::wire_name;

pub(super) fn admin_nav() -> Markup {
    html! {
        nav.sub aria-label="Admin" {
            a href="/admin" { "Federation and health" } " · "
            a href="/admin/approvals" { "Approval queue" } " · "
            a href="/admin/policy" { "Outbound policy" } " · "
            a href="/admin/audit" { "Audit log" } " · "
            a href="/admin/webhook" { "Chat webhook" } " · "
            a href="/admin/demand" { "Demand" } " · "
            a href="/admin/impact" { "Impact" } " · "
            a href="/admin/users" { "People and accounts" }
        }
    }
}

/// Each mode and what it really does (see `policy::decide` in the node).
/// `open` and `blocklist` let in the same organisations: both are kept so
/// configs that name either stay valid, and the words say so.
const MODES: [(FederationMode, &str); 3] = [
    (
        FederationMode::Open,
        "open: federate with every organisation that connects or is relayed, except those you \
         block (the same as blocklist)",
    ),
    (
        FederationMode::Allowlist,
        "allowlist: federate only with the organisations on your allowlist; any other that \
         connects waits in “wants to join”, and what is held of it is hidden and cannot be \
         requested (its withdrawals are still honoured)",
    ),
    (
        FederationMode::Blocklist,
        "blocklist: the same as open, for configs that name it: every organisation except those \
         you block",
    ),
];

/// Organisations shown per page of `/admin` (and at most in "wants to
/// join"): a row is about 1 KB, so the page stays under the 100 KB aim
/// however large the network grows.
const ORGS_PER_PAGE: usize = 50;

/// One page of the organisations that match a filter.
struct OrgsPage<'a> {
    rows: Vec<&'a OrgRow>,
    /// How many match in all.
    matching: usize,
    /// The page shown (from 1), of `pages`.
    page: usize,
    pages: usize,
}

/// The organisations whose name contains `q` or whose key starts with it
/// (ignoring case), page `page` (from 1, clamped to the pages there are).
fn orgs_page<'a>(orgs: impl IntoIterator<Item = &'a OrgRow>, q: &str, page: usize) -> OrgsPage<'a> {
    let q = q.trim().to_lowercase();
    let matching: Vec<&OrgRow> = orgs
        .into_iter()
        .filter(|o| {
            q.is_empty() || o.name.to_lowercase().contains(&q) || o.key.to_hex().starts_with(&q)
        })
        .collect();
    let pages = matching.len().div_ceil(ORGS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    OrgsPage {
        matching: matching.len(),
        rows: matching
            .into_iter()
            .skip((page - 1) * ORGS_PER_PAGE)
            .take(ORGS_PER_PAGE)
            .collect(),
        page,
        pages,
    }
}

pub async fn federation<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    uri: axum::http::Uri,
) -> PageResult {
    ctx.admin()?;
    let f = state.node.federation().await.map_err(|e| ctx.fail(e))?;
    let health = state.node.health().await;
    let params = query_map(&uri);
    let q = params.get("q").map_or("", |s| s.trim());
    let asked_page = params
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1);
    let listed = orgs_page(&f.orgs, q, asked_page);
    let page_href = |p: usize| {
        let mut url = form_urlencoded::Serializer::new(String::from("/admin?"));
        if !q.is_empty() {
            url.append_pair("q", q);
        }
        url.append_pair("page", &p.to_string());
        url.finish()
    };
    let button = |org: &str, action: &str, label: &str| {
        html! {
            form.inline method="post" action={ "/admin/orgs/" (org) } {
                (ctx.csrf())
                input type="hidden" name="action" value=(action);
                button.secondary type="submit" data-action=(action) { (label) }
            }
            " "
        }
    };
    let joining = orgs_page(f.orgs.iter().filter(|o| o.wants_to_join), q, 1);
    // After a switch to allowlist: how many current partners stayed allowed.
    let kept = params.get("kept").and_then(|k| k.parse::<u64>().ok());
    let allowed = f
        .orgs
        .iter()
        .filter(|o| o.listing.as_deref() == Some("allowed"))
        .count();
    Ok(ctx.render(
        "Admin",
        html! {
            h1 { "Admin: federation and health" }
            (admin_nav())
            h2 { "Federation mode" }
            form.stack #mode-form method="post" action="/admin/mode" {
                (ctx.csrf())
                @for (mode, label) in MODES {
                    label.check { input type="radio" name="mode" value=(wire_name(&mode)) checked[f.mode == mode]; (label) }
                }
                @if f.mode != FederationMode::Allowlist {
                    p.hint #partners-kept {
                        "Switching to allowlist keeps your current partners allowed: "
                        strong { (f.current_partners) @if f.current_partners == 1 { " current partner stays allowed" } @else { " current partners stay allowed" } }
                        " (organisations not blocked whose records this node holds, that are in its peer book or connected now). You can remove any of them afterwards."
                    }
                }
                button type="submit" { "Save mode" }
            }
            @if f.mode == FederationMode::Allowlist {
                p #allowlist-kept {
                    @if let Some(kept) = kept {
                        strong { (kept) @if kept == 1 { " current partner stays allowed" } @else { " current partners stay allowed" } } " after the switch to allowlist. "
                    }
                    (allowed) " organisation" @if allowed != 1 { "s" } " on the allowlist. Records of any other are hidden and cannot be requested."
                }
            }
            p.hint {
                "Approval before publishing: " strong { @if f.approval_required { "required" } @else { "not required" } }
                " (set " code { "federation.approval_required" } " in the config)."
            }
            @if !joining.rows.is_empty() {
                h2 { "Wants to join" }
                ul #wants-to-join {
                    @for o in &joining.rows {
                        li data-org=(o.key.to_hex()) {
                            strong { (o.name) } " " code { (o.key.fingerprint()) } " "
                            @if o.new { span.badge.new-org { "new" } " " }
                            @if let Some(w) = &o.lookalike { span.warning.lookalike { (w) } " " }
                            (button(&o.key.to_hex(), "allow", "Accept as partner"))
                            (button(&o.key.to_hex(), "refuse", "Refuse"))
                        }
                    }
                }
                @if joining.matching > joining.rows.len() {
                    p.hint { (joining.matching - joining.rows.len()) " more wait; narrow the list with the filter below." }
                }
            }
            h2 { "Organisations" }
            form.inline #org-filter role="search" method="get" action="/admin" {
                input #org-q type="search" name="q" value=(q) aria-label="Organisation name or key" placeholder="Name or key…";
                " "
                button.secondary type="submit" { "Filter" }
                @if !q.is_empty() { " " a href="/admin" { "Show all" } }
            }
            p.meta #org-count {
                (f.orgs.len()) " organisation" @if f.orgs.len() != 1 { "s" }
                @if !q.is_empty() { ", " (listed.matching) " matching" }
            }
            div.scroll {
                table #orgs {
                    thead { tr { th { "Organisation" } th { "Listed" } th { "Records held" } th { "Connected" } th { "Actions" } } }
                    tbody {
                        @for o in &listed.rows {
                            tr data-org=(o.key.to_hex()) {
                                td {
                                    strong { (o.name) } br; code.meta { (o.key.fingerprint()) }
                                    @if o.new { " " span.badge.new-org { "new" } }
                                    @if let Some(w) = &o.lookalike { br; span.warning.lookalike { (w) } }
                                }
                                td.listing { (o.listing.as_deref().unwrap_or("—")) }
                                td { (o.records) }
                                td { @if o.connected { "yes" } @else { "no" } }
                                td {
                                    @if o.listing.as_deref() != Some("allowed") { (button(&o.key.to_hex(), "allow", "Allow")) }
                                    @if o.listing.as_deref() != Some("blocked") { (button(&o.key.to_hex(), "block", "Block")) }
                                    @match o.listing.as_deref() {
                                        Some("blocked") => (button(&o.key.to_hex(), "clear", "Unblock")),
                                        Some(_) => (button(&o.key.to_hex(), "clear", "Remove from allowlist")),
                                        None => {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager(listed.page, listed.pages, page_href))
            h2 { "Network health" }
            @if !health.problems.is_empty() {
                ul.problems #problems {
                    @for p in &health.problems { li data-code=(p.code) { strong { "Degraded: " } (p.message) } }
                }
            }
            dl.facts #this-node {
                dt { "This node's key fingerprint" } dd #fingerprint { code { (health.org_fingerprint) } }
                dt { "Peer id" } dd #peer-id { code { (health.peer_id) } }
                dt { "Addresses partners can dial" } dd #addresses {
                    @if health.listen_addrs.is_empty() { "none yet" }
                    @for a in &health.listen_addrs { code { (a) } br; }
                }
                dt { "Connected peers" } dd #peer-count { (f.peers.len()) }
                dt { "Records from other organisations" } dd { (f.federated_records) }
                dt { "Records we publish" } dd { (f.own_records) }
            }
            @if !f.peers.is_empty() {
                ul { @for p in &f.peers { li { (p.org_name) " " code.meta { (p.peer_id) } } } }
            }
            h3 { "Rejected records by reason" }
            @if f.rejections.is_empty() { p { "None." } } @else {
                table #rejections {
                    tbody { @for r in &f.rejections { tr { td { code { (r.code) } } td { (r.count) } } } }
                }
            }
            h3 { "Records refused by policy" }
            @if f.policy_refusals.is_empty() { p { "None." } } @else {
                div.scroll {
                    table #policy-refusals {
                        thead { tr { th { "Organisation" } th { "Why" } th { "Records" } th { "Last" } } }
                        tbody {
                            @for r in &f.policy_refusals {
                                tr data-refused-org=(r.org.to_hex()) data-reason=(r.reason) {
                                    td { strong { (r.org_name) } (super::fingerprint(&r.org_fingerprint)) }
                                    td { (refusal_words(&r.reason)) }
                                    td.count { (r.count) }
                                    td { (datetime(r.last_at)) }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Our records refused by partners" }
            @if f.quota_notices.is_empty() { p { "None." } } @else {
                ul #quota-notices {
                    @for n in &f.quota_notices {
                        li data-notice-org=(n.org.to_hex()) {
                            strong { (n.org_name) } (super::fingerprint(&n.org_fingerprint))
                            " refused our record " code { (n.record_id) } ": over its quota ("
                            (n.held) " of " (n.limit) " records), told us " (datetime(n.received_at))
                            @if n.count > 1 { " (" (n.count) " notices)" }
                        }
                    }
                }
            }
        },
    ))
}

/// What a policy refusal's reason code means, for the console.
fn refusal_words(reason: &str) -> &'static str {
    match reason {
        "blocked" => "blocked",
        "not_allowed" => "not on the allowlist",
        "over_quota" => "over its record quota",
        _ => "refused by policy",
    }
}

pub async fn set_mode<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let mode = MODES
        .iter()
        .map(|(m, _)| *m)
        .find(|m| wire_name(m) == form.get("mode"))
        .ok_or_else(|| ctx.fail(ApiError::Invalid("Choose a federation mode.".into())))?;
    let changed = state
        .node
        .set_federation_mode(&me.user, mode)
        .await
        .map_err(|e| ctx.fail(e))?;
    if mode == FederationMode::Allowlist {
        return done(&format!("/admin?kept={}", changed.partners_kept), "mode");
    }
    done("/admin", "mode")
}

pub async fn org_action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(org): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let org = org_key(&ctx, &org)?;
    let action = match form.get("action") {
        "allow" => OrgAction::Allow,
        // Blocking drops what the organisation sent: the button asks first.
        "block" => {
            let federation = state.node.federation().await.map_err(|e| ctx.fail(e))?;
            let name = federation
                .orgs
                .iter()
                .find(|o| o.key == org)
                .map_or_else(|| "this organisation".to_string(), |o| o.name.clone());
            return Ok(confirm_block(&ctx, &org, &name));
        }
        "block-confirmed" => OrgAction::Block,
        "clear" => OrgAction::Clear,
        "refuse" => OrgAction::Refuse,
        _ => return Err(ctx.fail(ApiError::Invalid("Unknown action.".into()))),
    };
    state
        .node
        .org_action(&me.user, &org, action)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin", "org")
}

/// "Block …?": what blocking does, with the button that does it and the
/// way back.
fn confirm_block(ctx: &Ctx, org: &OrgKey, name: &str) -> Response {
    ctx.render(
        "Block an organisation",
        html! {
            h1 { "Block " (name) "?" }
            p { "Key fingerprint " code.fingerprint { (org.fingerprint()) } }
            p #block-effect { "Blocking an organisation refuses its records and requests and drops what it sent:" }
            ul {
                li { "this node disconnects from it and deletes every offer, event and content item it sent, so people here no longer find them;" }
                li { "from now on its records and its requests are refused;" }
                li { "the audit log records the block." }
            }
            p { "You can unblock it later." }
            form.inline method="post" action={ "/admin/orgs/" (org.to_hex()) } {
                (ctx.csrf())
                input type="hidden" name="action" value="block-confirmed";
                button #confirm-block type="submit" { "Block " (name) }
            }
            " "
            a #cancel href="/admin" { "Cancel" }
        },
    )
}

pub async fn approvals<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    ctx.admin()?;
    let queue = state.node.approvals().await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Approval queue",
        html! {
            h1 { "Approval queue" }
            (admin_nav())
            @if queue.is_empty() { p { "Nothing waits for approval." } }
            ol.results #approvals {
                @for a in &queue {
                    li.card data-id=(a.id) {
                        span.kind { (a.kind.label()) }
                        h3 { (a.title) }
                        p.meta { "From " (a.owner) }
                        (listing::body(&a.body, &|s| html! { (s.contributor.map_or_else(|| ctx.org_name.clone(), |o| o.short())) }))
                        form method="post" action={ "/admin/approvals/" (a.id) } {
                            (ctx.csrf())
                            button type="submit" { "Approve and publish" }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn approve<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    state
        .node
        .approve(&me.user, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin/approvals", "approved")
}

pub async fn policy<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    ctx.admin()?;
    let fields = state
        .node
        .outbound_policy()
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Outbound policy",
        html! {
            h1 { "Outbound policy" }
            (admin_nav())
            p { "Which profile fields may leave " (ctx.org_name) " at all. A person's own choice can only narrow this. Saving re-publishes every listing to match." }
            form.stack #policy-form method="post" action="/admin/policy" {
                (ctx.csrf())
                @for (name, label, on) in fields.fields() {
                    label.check { input type="checkbox" name="field" value=(name) id={ "policy-" (name) } checked[on]; (label) }
                }
                button #save-policy type="submit" { "Save policy" }
            }
        },
    ))
}

pub async fn set_policy<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let mut fields = SharedFields::default();
    for f in form.all("field") {
        if !fields.set(f, true) {
            return Err(ctx.fail(ApiError::Invalid(format!("There is no field called {f}."))));
        }
    }
    state
        .node
        .set_outbound_policy(&me.user, fields)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin/policy", "policy")
}

/// The chat webhook page: the address (with `typed` in the field and
/// `error` above it after a refused change), what waits, and the test
/// button.
fn webhook_page(ctx: &Ctx, hook: &Webhook, typed: Option<&str>, error: Option<&str>) -> Markup {
    let value = typed.or(hook.url.as_deref()).unwrap_or("");
    html! {
        h1 { "Chat webhook" }
        (admin_nav())
        p {
            "An incoming webhook of a Slack, Microsoft Teams, Mattermost or Rocket.Chat channel hears of "
            (ctx.org_name) "'s new talks, mentoring, cohorts and events as they are first published to partners, and of every listing or offer that waits for approval, each with a link to its page here. "
            "Messages wait on this node until the chat server takes them, in order, so a server that is down loses nothing."
        }
        @if let Some(e) = error {
            p.error #webhook-error role="alert" { (e) }
        }
        form.stack #webhook-form method="post" action="/admin/webhook" {
            (ctx.csrf())
            label { "Incoming-webhook address (from the channel's settings; keep it secret)"
                input #webhook-url type="url" name="url" value=(value) maxlength="2000" placeholder="https://hooks.slack.com/services/…" autocomplete="off";
            }
            button #save-webhook type="submit" { "Save address" }
        }
        @if hook.url.is_some() {
            form.inline #clear-webhook method="post" action="/admin/webhook" {
                (ctx.csrf())
                input type="hidden" name="url" value="";
                button.secondary type="submit" { "Remove the webhook" }
            }
            " "
            form.inline #test-webhook method="post" action="/admin/webhook/test" {
                (ctx.csrf())
                button.secondary type="submit" { "Send a test message" }
            }
        }
        h2 { "Delivery" }
        p #webhook-waiting {
            @if hook.waiting == 0 { "Nothing waits: every message went out." }
            @else if hook.waiting == 1 { "1 message waits to be posted." }
            @else { (hook.waiting) " messages wait to be posted, oldest first." }
        }
        @if let Some(e) = &hook.last_error {
            p.error #webhook-last-error {
                "The chat server did not take the oldest: " code { (e) } "."
                @if let Some(at) = hook.next_try_at { " Next try " (datetime(at)) "." }
                " A 404 or 403 usually means the webhook was removed from the channel or the address is mistyped."
            }
        }
    }
}

pub async fn webhook<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    ctx.admin()?;
    let hook = state.node.webhook().await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("Chat webhook", webhook_page(&ctx, &hook, None, None)))
}

/// `POST /admin/webhook`: sets the address, or clears it when empty. A
/// refused address comes back on the page, with why, still in the field.
pub async fn set_webhook<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let url = Some(form.get("url").to_string()).filter(|u| !u.is_empty());
    match state.node.set_webhook(&me.user, url.clone()).await {
        Ok(_) if url.is_some() => done("/admin/webhook", "webhook_saved"),
        Ok(_) => done("/admin/webhook", "webhook_cleared"),
        Err(ApiError::Invalid(why)) => {
            let hook = state.node.webhook().await.map_err(|e| ctx.fail(e))?;
            let page = webhook_page(&ctx, &hook, url.as_deref(), Some(&why));
            let mut res = ctx.render("Chat webhook", page);
            *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(res)
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub async fn test_webhook<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    state
        .node
        .test_webhook(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/admin/webhook", "webhook_test")
}

/// Audit rows one page shows at most.
const PAGE_AUDIT_ROWS: usize = 300;

pub async fn audit<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> PageResult {
    ctx.admin()?;
    let Query(mut query) = query.map_err(|e| ctx.fail(ApiError::Invalid(e.body_text())))?;
    // A page stays small (under 100 KB); the JSON API returns up to 1,000.
    query.limit = query.limit.min(PAGE_AUDIT_ROWS);
    let rows = state.node.audit(&query).await.map_err(|e| ctx.fail(e))?;
    let federation = state.node.federation().await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Audit log",
        html! {
            h1 { "Audit log" }
            (admin_nav())
            form.row #audit-filter method="get" action="/admin/audit" {
                select name="org" aria-label="Organisation" {
                    option value="" { "Every organisation" }
                    @for o in &federation.orgs {
                        option value=(o.key.to_hex()) selected[query.org == o.key.to_hex()] { (o.name) }
                    }
                }
                select name="who" aria-label="Who" {
                    option value="" { "Everyone" }
                    option value="people" selected[query.who == "people"] { "People's actions" }
                    option value="network" selected[query.who == "network"] { "Network" }
                }
                input type="text" name="action" value=(query.action) placeholder="action, e.g. record_rejected" aria-label="Action";
                input type="date" name="day" value=(query.day) aria-label="Day (UTC)";
                button type="submit" { "Filter" }
            }
            p { (rows.len()) " entries, newest first." }
            div.scroll {
                table #audit {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "Organisation" } th { "Record" } th { "Detail" } } }
                    tbody {
                        @for r in &rows {
                            tr {
                                td { (datetime(r.at)) }
                                td { (r.actor) }
                                td { code { (r.action) } }
                                td {
                                    (r.org_name.as_deref().or(r.org.as_deref()).unwrap_or(""))
                                    @if let Some(fp) = &r.org_fingerprint { " " code.fingerprint { (fp) } }
                                }
                                td { (r.record_id.as_deref().unwrap_or("")) }
                                td {
                                    (r.detail)
                                    @if let Some(c) = &r.claimed_org { " " span.claimed { "(claims to be from " code { (c.get(..16).unwrap_or(c)) "…" } ")" } }
                                    @if r.count > 1 { " " span.count { "×" (r.count) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn demand<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    ctx.admin()?;
    let rows = state.node.demand().await.map_err(|e| ctx.fail(e))?;
    let floor = state.node.min_group_size();
    Ok(ctx.render(
        "Demand",
        html! {
            h1 { "What people here want to learn" }
            (admin_nav())
            p { "Topics from the goals people at " (ctx.org_name) " noted, counted; never who noted them. Topics nobody in the network offers come first." }
            p.hint #demand-floor { "Topics wanted by fewer than " (floor) " people: not shown, so nobody can be picked out (privacy.min_group_size)." }
            @if rows.is_empty() { p { "No topic is wanted by " (floor) " people or more yet." } } @else {
                div.scroll {
                    table #demand {
                        thead { tr { th { "Topic" } th { "People who want it" } th { "Experts and offers in the network" } } }
                        tbody {
                            @for r in &rows {
                                tr {
                                    td { (r.topic) }
                                    td { (r.people) }
                                    td { @if r.supply == 0 { strong { "none" } } @else { (r.supply) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// What the users page says at its top, after an admin did something.
pub(crate) enum UsersNotice<'a> {
    Added(&'a AddedUser),
    Link(&'a str, &'a crate::api::AccessLinkView),
}

/// A link as the admin sees it once: where it goes, what it is for, and
/// until when it works.
fn link_notice(link: &crate::api::AccessLinkView) -> Markup {
    let what = if link.purpose == "invitation" {
        "an invitation"
    } else {
        "a link to choose a new password"
    };
    html! {
        " Send them " (what) " (shown only now; mailed to them too when this node sends mail; it works once, until "
        (crate::dates::datetime(link.expires_at)) "): "
        code #access-link { (link.url) }
    }
}

fn users_page(ctx: &Ctx, users: &[crate::api::User], notice: Option<UsersNotice<'_>>) -> Markup {
    html! {
        h1 { "People and accounts" }
        (admin_nav())
        @match notice {
            Some(UsersNotice::Added(a)) => {
                p.notice #added-user {
                    "Added " strong { (a.user.username) } "."
                    @if let Some(link) = &a.invitation { (link_notice(link)) }
                }
            }
            Some(UsersNotice::Link(username, link)) => {
                p.notice #new-link { "For " strong { (username) } "." (link_notice(link)) }
            }
            None => {}
        }
        div.scroll {
            table #users {
                thead { tr { th { "Name" } th { "Sign-in" } th { "Role" } th { "Account" } } }
                tbody {
                    @for u in users {
                        tr data-user=(u.username) {
                            td { (u.display_name) } td { (u.username) } td { (wire_name(&u.role)) }
                            td {
                                @let (action, label) = if u.deactivated { ("reactivate", "Reactivate") } else { ("deactivate", "Deactivate") };
                                @if u.deactivated { span.badge { "deactivated" } " " }
                                @if ctx.me.as_ref().is_none_or(|me| me.user.username != u.username) {
                                    form.inline method="post" action={ "/admin/users/" (u.username) "/" (action) } {
                                        (ctx.csrf())
                                        button.secondary type="submit" data-action=(action) { (label) }
                                    }
                                    @if !u.deactivated {
                                        " "
                                        form.inline method="post" action={ "/admin/users/" (u.username) "/link" } {
                                            (ctx.csrf())
                                            button.secondary type="submit" data-action="link" { "Password link" }
                                        }
                                    }
                                    " "
                                    form.inline method="post" action={ "/admin/users/" (u.username) "/remove" } {
                                        (ctx.csrf())
                                        button.secondary type="submit" data-action="remove" { "Remove…" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.hint { "Deactivating someone signs them out everywhere, stops their API tokens and calendar feed, and withdraws their listing and published offers from every partner. Reactivating lets them sign in again; they share again themselves. A password link lets someone choose their password: an invitation while they never had one, else a new password (which signs them out everywhere); it replaces the link they had." }
        h2 { "Add someone" }
        form.stack #add-user method="post" action="/admin/users" {
            (ctx.csrf())
            label { "Email (their sign-in)" input type="email" name="username" required; }
            label { "Name" input type="text" name="display_name" required maxlength="200"; }
            label { "Role"
                select name="role" { option value="member" { "member" } option value="admin" { "admin" } }
            }
            label { "Password (leave empty to send them an invitation to choose their own)" input type="password" name="password" autocomplete="new-password"; }
            button type="submit" { "Add" }
        }
    }
}

pub async fn users<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    ctx.admin()?;
    let users = state.node.users().await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("People and accounts", users_page(&ctx, &users, None)))
}

pub async fn add_user<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let role = match form.get("role") {
        "admin" => Role::Admin,
        _ => Role::Member,
    };
    let added = state
        .node
        .add_user(
            &me.user,
            NewUser {
                username: form.get("username").to_string(),
                display_name: form.get("display_name").to_string(),
                role,
                password: form.raw("password").to_string(),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    let users = state.node.users().await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "People and accounts",
        users_page(&ctx, &users, Some(UsersNotice::Added(&added))),
    ))
}

/// `POST /admin/users/{username}/{deactivate|reactivate}`.
pub async fn user_action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((username, action)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let active = match action.as_str() {
        "remove" => {
            let users = state.node.users().await.map_err(|e| ctx.fail(e))?;
            let Some(who) = users.iter().find(|u| u.username == username) else {
                return Err(ctx.fail(crate::api::ApiError::NotFound("No such account.".into())));
            };
            return Ok(ctx.render(
                "Remove someone",
                html! {
                    h1 { "Remove " (who.display_name) "?" }
                    p { "This removes " strong { (who.username) } " for good:" }
                    ul {
                        li { "their listing and every offer and content item they published are withdrawn from every partner;" }
                        li { "requests still waiting for them are declined, and the askers are told;" }
                        li { "their offers, profile, notifications, API tokens and sessions are deleted here." }
                    }
                    p { "What others hold of what happened (requests answered, recognition given) stays. To stop someone for a while instead, deactivate them." }
                    form.inline method="post" action={ "/admin/users/" (who.username) "/remove-confirmed" } {
                        (ctx.csrf())
                        button #confirm-remove type="submit" { "Remove " (who.display_name) }
                    }
                    " "
                    a href="/admin/users" { "Cancel" }
                },
            ));
        }
        "remove-confirmed" => {
            state
                .node
                .remove_user(&me.user, &username)
                .await
                .map_err(|e| ctx.fail(e))?;
            return super::done("/admin/users", "user_removed");
        }
        "link" => {
            let link = state
                .node
                .new_access_link(&me.user, &username)
                .await
                .map_err(|e| ctx.fail(e))?;
            let users = state.node.users().await.map_err(|e| ctx.fail(e))?;
            return Ok(ctx.render(
                "People and accounts",
                users_page(&ctx, &users, Some(UsersNotice::Link(&username, &link))),
            ));
        }
        "deactivate" => false,
        "reactivate" => true,
        _ => {
            return Err(ctx.fail(crate::api::ApiError::NotFound("No such action.".into())));
        }
    };
    state
        .node
        .set_user_active(&me.user, &username, active)
        .await
        .map_err(|e| ctx.fail(e))?;
    super::done("/admin/users", "user_changed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use skillmesh_protocol::OrgKey;

    fn org(n: u8, name: &str) -> OrgRow {
        OrgRow {
            key: OrgKey::from_bytes([n; 32]),
            name: name.to_string(),
            listing: None,
            records: 0,
            connected: false,
            wants_to_join: false,
            fingerprint: String::new(),
            new: false,
            lookalike: None,
        }
    }

    #[test]
    fn organisations_are_paged_and_filtered_by_name_or_key() {
        let orgs: Vec<OrgRow> = (0..120).map(|n| org(n, &format!("Org {n}"))).collect();
        let first = orgs_page(&orgs, "", 1);
        assert_eq!(
            (first.rows.len(), first.matching, first.pages),
            (50, 120, 3)
        );
        let last = orgs_page(&orgs, "", 3);
        assert_eq!(last.rows.len(), 20);
        assert_eq!(last.rows[0].name, "Org 100");
        assert_eq!(
            orgs_page(&orgs, "", 99).page,
            3,
            "past the end: the last page"
        );
        assert_eq!(orgs_page(&orgs, "", 0).page, 1);

        let named = orgs_page(&orgs, " org 11", 1);
        let names: Vec<&str> = named.rows.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Org 11", "Org 110", "Org 111", "Org 112", "Org 113", "Org 114", "Org 115",
                "Org 116", "Org 117", "Org 118", "Org 119"
            ]
        );
        // Key 0x2a2a…: by the start of its hex, in either case.
        let by_key = orgs_page(&orgs, "2A2A2A", 1);
        assert_eq!(by_key.rows.len(), 1);
        assert_eq!(by_key.rows[0].name, "Org 42");
        let none = orgs_page(&orgs, "nobody", 2);
        assert_eq!(
            (none.rows.len(), none.matching, none.page, none.pages),
            (0, 0, 1, 1)
        );
    }
}
