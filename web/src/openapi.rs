//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API.
//!
//! Written by hand next to the routes it describes rather than generated:
//! the types are few, and the tests below hold it to the router: every
//! documented operation is routed (no 404 or 405), every documented
//! request example is accepted, and every route is documented.

use axum::Json;
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// The errors any operation may meet before its handler runs, answered
/// in the same JSON shape as the others (see `layers.rs`).
fn shared_responses() -> Value {
    json!({
        "NotFound": error_response("No such API operation, or no such thing (the message says which); code `not_found`."),
        "MethodNotAllowed": error_response("The path exists but does not take this method; the `Allow` header lists those it takes. Code `method_not_allowed`."),
        "PayloadTooLarge": error_response(&format!("The request body is larger than the node accepts ({} KiB). Code `payload_too_large`.", crate::MAX_BODY_BYTES / 1024)),
        "UnsupportedMediaType": error_response("The body is not sent as `Content-Type: application/json`. Code `unsupported_media_type`.")
    })
}

fn json_body(schema: Value) -> Value {
    json!({"content": {"application/json": {"schema": schema}}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": schema_ref(name)})
}

/// One operation. `ok` is (status, schema or null for no body).
fn op(
    summary: &str,
    tag: &str,
    ok: (u16, Value),
    request: Option<(Value, Value)>,
    admin: bool,
) -> Value {
    let (status, schema) = ok;
    let mut responses = serde_json::Map::new();
    responses.insert(
        status.to_string(),
        if schema.is_null() {
            json!({"description": "Done."})
        } else {
            let mut r = json_body(schema);
            r["description"] = json!("Success.");
            r
        },
    );
    responses.insert(
        "400".into(),
        error_response("Invalid input; the message says what to fix."),
    );
    responses.insert(
        "401".into(),
        error_response("Not signed in and no valid API token."),
    );
    if admin {
        responses.insert(
            "403".into(),
            error_response("Only admins may do this (or the CSRF header is missing)."),
        );
    } else {
        responses.insert(
            "403".into(),
            error_response("The CSRF header is missing or wrong (cookie sessions only)."),
        );
    }
    // The same for every operation: shared responses in the components.
    responses.insert("404".into(), response_ref("NotFound"));
    responses.insert("405".into(), response_ref("MethodNotAllowed"));
    if request.is_some() {
        responses.insert("413".into(), response_ref("PayloadTooLarge"));
        responses.insert("415".into(), response_ref("UnsupportedMediaType"));
    }
    let mut o = json!({"summary": summary, "tags": [tag], "responses": responses});
    if let Some((schema, example)) = request {
        o["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema, "example": example}}
        });
    }
    o
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_params(names: &[(&str, &str)]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|(n, d)| json!({"name": n, "in": "query", "required": false, "description": d, "schema": {"type": "string"}}))
            .collect(),
    )
}

fn with_params(mut op: Value, params: Value) -> Value {
    op["parameters"] = params;
    op
}

/// An organisation key used in examples.
pub const EXAMPLE_ORG: &str = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

pub fn spec() -> Value {
    let org_id = json!([
        path_param("org", "Organisation key, 64 hex digits."),
        path_param("id", "Record id.")
    ]);
    let id = json!([path_param("id", "Offer or record id.")]);
    let talk_example = json!({"kind": "talk_offer", "body": {
        "person": "ignored-set-by-the-node", "title": "Incident reviews that teach",
        "abstract": "How we run blameless reviews.", "topics": ["incident response"],
        "format": "talk", "audience": "everyone", "duration_minutes": 45,
        "languages": ["en"], "delivery": "remote", "status": "open"}});
    let more = following_paths(&org_id);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Skillmesh node API",
            "version": "1",
            "description": "The JSON API of one organisation's Skillmesh node: the same operations as its web pages. Authenticate with `Authorization: Bearer <API token>` (create one on /account or with POST /api/v1/tokens), or with the session cookie plus the `X-CSRF-Token` header for calls that change state. Every error, whatever its status, is `{\"error\": {\"code\", \"message\"}}` as `application/json`. Records and their envelopes are specified in docs/PROTOCOL.md."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/me": {"get": op("Who I am", "account", (200, schema_ref("User")), None, false)},
            "/tokens": {
                "get": op("My API tokens, oldest first (never the tokens themselves)", "account", (200, array_of("ApiToken")), None, false),
                "post": op("Create an API token besides those I hold, named for the script that uses it (the body is optional; the token is shown once)", "account", (201, json!({"allOf": [schema_ref("ApiToken"), {"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "description": "`smk_` and 64 hex digits; shown only now."}}}]})), Some((json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 80}}}), json!({"name": "nightly report"}))), false)},
            "/tokens/{id}": {"delete": with_params(op("Revoke one of my API tokens: it stops working at once, the others keep working", "account", (204, json!({"description": "Revoked."})), None, false), json!([path_param("id", "The token's id, as listed.")]))},
            "/notifications": {"get": op("My notifications, newest first: requests and questions for me, answers to mine, kudos, and (admins) what waits for approval", "account", (200, array_of("Notification")), None, false)},
            "/notifications/read": {"post": op("Mark my notifications read: those named in `ids`, or all of them (the body is optional)", "account", (200, json!({"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer", "description": "How many were unread."}}})), Some((json!({"type": "object", "additionalProperties": false, "properties": {"ids": {"type": "array", "items": {"type": "string"}}}}), json!({"ids": ["0000000069c7a1f0a1b2c3d4"]}))), false)},
            "/sessions": {"delete": op("Sign out everywhere: end every web session of mine, in every browser", "account", (200, json!({"type": "object", "required": ["ended"], "properties": {"ended": {"type": "integer", "description": "How many sessions ended."}}})), None, false)},
            "/search": {"get": with_params(
                op("Search experts, offers, cohorts, events and content of every federated organisation and ours", "search", (200, schema_ref("SearchResults")), None, false),
                query_params(&[("q", "Free text: every word must match, with typos tolerated, the last word also as a prefix, \"quoted phrases\" exactly, and synonyms of skill names (k8s = kubernetes)."), ("kind", "expertise, talk_offer, mentoring_offer, cohort_offer, event or content."), ("topic", "Topic."), ("org", "Organisation key."), ("format", "talk, workshop, mentoring, cohort, code_review, pairing, discussion, demo."), ("language", "Language."), ("time_zone", "Time zone."), ("availability", "open, limited or full."), ("page", "1-based page (20 per page).")]))},
            "/listings/{org}/{id}": {"get": with_params(op("One record in full, with whether its signature checks out", "search", (200, schema_ref("Listing")), None, false), org_id.clone())},
            "/profile": {
                "get": op("My profile, with the preview of what partners see", "profile", (200, schema_ref("Profile")), None, false),
                "put": op("Change my profile and what of it may leave", "profile", (200, schema_ref("Profile")), Some((schema_ref("ProfileUpdate"), json!({"display_name": "Tomás Silva", "headline": "Staff engineer", "topics": [{"name": "Kubernetes", "level": "expert"}], "languages": ["en", "pt"], "time_zone": "Europe/Lisbon", "formats": ["mentoring", "talk"], "availability": {"status": "open", "hours_per_month": 2}, "sharing": {"display_name": true, "headline": true, "topics": true, "availability": true}}))), false)
            },
            "/offers": {
                "get": op("My offers", "offers", (200, array_of("Offer")), None, false),
                "post": op("Create an offer (a draft until published)", "offers", (201, schema_ref("Offer")), Some((schema_ref("OfferBody"), talk_example.clone())), false)
            },
            "/offers/{id}": {
                "get": with_params(op("One of my offers", "offers", (200, schema_ref("Offer")), None, false), id.clone()),
                "put": with_params(op("Replace an offer's body (re-published if it was published)", "offers", (200, schema_ref("Offer")), Some((schema_ref("OfferBody"), talk_example)), false), id.clone())
            },
            "/offers/{id}/actions": {"post": with_params(op("Publish, pause, reopen, close or unpublish an offer", "offers", (200, schema_ref("Offer")), Some((json!({"type": "object", "properties": {"action": {"enum": ["publish", "pause", "reopen", "close", "unpublish"]}}, "required": ["action"]}), json!({"action": "publish"}))), false), id.clone())},
            "/requests": {"post": op("Ask for another organisation's offer, or ask one of its experts a question (`ask`)", "requests", (201, schema_ref("OutboxItem")), Some((schema_ref("NewRequest"), json!({"offer_org": EXAMPLE_ORG, "offer_id": "offer-1", "goal": "Run on-call for my team", "preferred_times": "Tuesday mornings CET", "message": "Hello!"}))), false)},
            "/requests/inbox": {"get": op("Requests for my offers", "requests", (200, array_of("InboxItem")), None, false)},
            "/requests/outbox": {"get": op("What I asked for, and where it stands", "requests", (200, array_of("OutboxItem")), None, false)},
            "/requests/inbox/{org}/{id}/answer": {"post": with_params(op("Accept or decline a request (acceptance shares my contact details)", "requests", (200, schema_ref("InboxItem")), Some((json!({"type": "object", "properties": {"accept": {"type": "boolean"}, "reply": {"type": "string"}}, "required": ["accept"]}), json!({"accept": true, "reply": "Happy to help."}))), false), org_id)},
            "/admin/federation": {"get": op("Federation mode, organisations, peers and rejections", "admin", (200, schema_ref("Federation")), None, true)},
            "/admin/federation/mode": {"put": op("Change the federation mode (a switch to allowlist keeps every current partner allowed)", "admin", (200, schema_ref("ModeChanged")), Some((json!({"type": "object", "properties": {"mode": {"enum": ["open", "allowlist", "blocklist"]}}, "required": ["mode"]}), json!({"mode": "allowlist"}))), true)},
            "/admin/orgs/{org}/actions": {"post": with_params(op("Allow (accept), block, clear or refuse an organisation", "admin", (204, Value::Null), Some((json!({"type": "object", "properties": {"action": {"enum": ["allow", "block", "clear", "refuse"]}}, "required": ["action"]}), json!({"action": "allow"}))), true), json!([path_param("org", "Organisation key, 64 hex digits.")]))},
            "/admin/approvals": {"get": op("Listings and offers waiting for approval", "admin", (200, array_of("Approval")), None, true)},
            "/admin/approvals/{id}/approve": {"post": with_params(op("Approve and publish", "admin", (204, Value::Null), None, true), id)},
            "/admin/policy": {
                "get": op("Which profile fields may leave the organisation", "admin", (200, schema_ref("SharedFields")), None, true),
                "put": op("Change the outbound policy (every listing is re-published)", "admin", (200, schema_ref("SharedFields")), Some((schema_ref("SharedFields"), json!({"display_name": true, "headline": true, "topics": true, "languages": true, "time_zone": false, "formats": true, "availability": true, "email": false}))), true)
            },
            "/admin/audit": {"get": with_params(op("The audit log, newest first", "admin", (200, array_of("AuditRow")), None, true), query_params(&[("org", "Organisation key."), ("action", "Action code, e.g. record_rejected."), ("day", "A UTC day, YYYY-MM-DD."), ("limit", "At most this many (default 200, at most 1000)."), ("who", "people: only what people did; network: only the node's and other organisations'.")]))},
            "/admin/webhook": {
                "get": op("The organisation's chat webhook: its address (admins only see it) and the messages waiting to be posted", "admin", (200, schema_ref("Webhook")), None, true),
                "put": op("Set the chat webhook's address: a Slack, Microsoft Teams, Mattermost or Rocket.Chat incoming webhook (http or https, a host, at most 2,000 characters), told of the organisation's new offers and events and of what waits for approval as {\"text\": ...}; null or empty clears it and drops what waits", "admin", (200, schema_ref("Webhook")), Some((json!({"type": "object", "additionalProperties": false, "properties": {"url": {"type": ["string", "null"], "maxLength": 2000}}}), json!({"url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}))), true)
            },
            "/admin/webhook/test": {"post": op("Queue a test message for the chat webhook (behind any waiting); GET /admin/webhook then shows whether it went", "admin", (202, schema_ref("Webhook")), None, true)},
            "/admin/demand": {"get": op("Most-wanted topics here and the network's supply for each (aggregates only; topics fewer than privacy.min_group_size people want are left out)", "admin", (200, array_of("DemandRow")), None, true)},
            "/admin/impact": {"get": with_params(op("What the organisation's peer learning came to (counts and averages only)", "admin", (200, schema_ref("Impact")), None, true), query_params(&[("since", "First day, YYYY-MM-DD (UTC)."), ("until", "Last day, inclusive."), ("topic", "Only what targeted this topic.")]))},
            "/admin/impact/summary": {
                "post": op("Publish to partners the summary of the figures for a period and topic (totals, and averages of feedback only from at least 5 people), signed; replaces the one published before", "admin", (201, schema_ref("PublishedImpact")), Some((schema_ref("ImpactQuery"), json!({"since": "2026-07-01", "until": "2026-09-30", "topic": ""}))), true),
                "delete": op("Withdraw the published summary (a retraction goes to partners)", "admin", (204, json!({"description": "Withdrawn."})), None, true)},
            "/admin/impact/summaries": {"get": op("The impact summaries held: ours (if published) first, then partners'", "admin", (200, json!({"type": "array", "items": schema_ref("PublishedImpact")})), None, true)},
            "/requests/outbox/{id}/kudos": {"post": with_params(op("Thank the person who gave what my accepted request asked for (sent to their organisation's node; counts towards their recognition; once per request)", "requests", (200, schema_ref("OutboxItem")), Some((schema_ref("NewKudos"), json!({"message": "The runbook template already saved us an hour."}))), false), json!([path_param("id", "The request id (from my outbox).")]))},
            "/requests/outbox/{id}/feedback": {"put": with_params(op("Say how something I was accepted for went (kept on this node; admins see only aggregates)", "requests", (204, json!({"description": "Saved."})), Some((schema_ref("FeedbackForm"), json!({"rating": 5, "apply": "Run reviews with a rubric", "comment": "", "before": 2, "after": 4}))), false), json!([path_param("id", "The request id (from my outbox).")]))},
            "/calendar/tokens": {"post": op("Create my calendar feed token (revokes the previous one; shown once). The feed is GET /calendar/{token}.ics, outside the API, for calendar programs", "account", (201, json!({"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]})), None, false)},
            "/goals": {
                "get": op("What I want to learn (kept on this node only)", "matching", (200, schema_ref("LearningGoals")), None, false),
                "put": op("Note what I want to learn (never sent to another organisation)", "matching", (200, schema_ref("LearningGoals")), Some((schema_ref("LearningGoals"), json!({"goals": "Get better at running on-call for my team", "topics": ["incident response", "Kubernetes"], "formats": ["mentoring"], "languages": ["en"], "max_hours_apart": 3}))), false)
            },
            "/suggestions": {"get": op("People and offers that could help with my goals, ranked on this node, with reasons", "matching", (200, array_of("Suggestion")), None, false)},
            "/admin/users/{username}/actions": {"post": with_params(op("Deactivate an account (signed out everywhere, tokens stop, listing and published offers withdrawn from every partner) or reactivate it; not one's own", "admin", (200, schema_ref("User")), Some((json!({"type": "object", "required": ["action"], "properties": {"action": {"enum": ["deactivate", "reactivate"]}}}), json!({"action": "deactivate"}))), true), json!([path_param("username", "The account's sign-in (email).")]))},
            "/admin/users": {
                "get": op("Accounts", "admin", (200, array_of("User")), None, true),
                "post": op("Add a member or admin: with the password given, or (an empty one) invited with a link to choose their own, returned once and mailed to them when the node sends mail", "admin", (201, schema_ref("AddedUser")), Some((schema_ref("NewUser"), json!({"username": "aisha@contoso.example", "display_name": "Aisha Khan", "role": "member", "password": ""}))), true)
            },
            "/admin/users/{username}": {"delete": with_params(op("Remove an account and its person: withdrawn from every partner, requests waiting for them declined, their offers, profile, notifications, tokens and sessions deleted; not one's own", "admin", (204, json!({"description": "Removed."})), None, true), json!([path_param("username", "The account's sign-in (email).")]))},
            "/admin/users/{username}/access-link": {"post": with_params(op("A new link for the person to choose their password: an invitation while they never had one, else a reset (using it signs them out everywhere); it replaces their earlier link, works once, and is mailed to them when the node sends mail", "admin", (201, schema_ref("AccessLink")), None, true), json!([path_param("username", "The account's sign-in (email).")]))}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A per-user API token."},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::session::SESSION_COOKIE, "description": "The web session (the cookie name carries a suffix per node); calls that change state also need the X-CSRF-Token header."}
            },
            "responses": shared_responses(),
            "schemas": schemas()
        }
    });
    // More paths than one `json!` can expand at once.
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), more) {
        paths.extend(more);
    }
    doc
}

/// The paths of the learning paths a person follows.
fn following_paths(org_id: &Value) -> Value {
    let s = |t: &str| json!({"type": t});
    let org = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    json!({
            "/following": {"get": op("The learning paths I follow, and how far I am (private to me)", "content", (200, json!({"type": "array", "items": {"type": "object", "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "id": s("string"), "title": s("string"), "done": s("integer"), "total": s("integer"), "withdrawn": s("boolean")}}})), None, false)},
            "/following/{org}/{id}": {
                "put": with_params(op("Follow a learning path (a content list, ours or a partner's), or change how; tell_curator lets a partner's list's organisation count you among its followers (a count, never who)", "content", (204, json!({"description": "Following."})), Some((json!({"type": "object", "properties": {"tell_curator": s("boolean")}}), json!({"tell_curator": true}))), false), org_id.clone()),
                "delete": with_params(op("Stop following it (the progress is forgotten)", "content", (204, json!({"description": "Not following."})), None, false), org_id.clone())},
            "/observations": {"get": op("Observations I was asked to give, and those of my sessions (nobody else's)", "content", (200, json!({"type": "object", "properties": {"to_give": {"type": "array"}, "of_mine": {"type": "array"}}})), None, false)},
            "/observations/{id}": {"put": with_params(op("As the observer: what I saw (only the trainer sees it)", "content", (204, json!({"description": "Saved."})), Some((json!({"type": "object", "required": ["clarity", "pace", "interaction", "keep", "change"], "properties": {"clarity": {"type": "integer", "minimum": 1, "maximum": 5}, "pace": {"type": "integer", "minimum": 1, "maximum": 5}, "interaction": {"type": "integer", "minimum": 1, "maximum": 5}, "keep": s("string"), "change": s("string")}}), json!({"clarity": 4, "pace": 3, "interaction": 5, "keep": "The live demo", "change": "Fewer slides before the exercise"}))), false), json!([path_param("id", "The observation id.")]))},
            "/offers/{id}/observers": {"post": with_params(op("Invite a colleague on this node to observe a session of my offer", "content", (201, json!({"description": "The invitation."})), Some((json!({"type": "object", "required": ["observer"], "properties": {"observer": {"type": "string", "description": "The colleague's person id."}, "when": s("string")}}), json!({"observer": "joana", "when": "Tuesday 14:00"}))), false), json!([path_param("id", "The offer id.")]))},
            "/colleagues": {"get": op("My colleagues on this node (to recommend something to)", "content", (200, json!({"type": "array", "items": {"type": "object", "properties": {"person_id": s("string"), "name": s("string")}}})), None, false)},
            "/recommendations": {
                "get": op("What colleagues recommended to me, newest first", "content", (200, json!({"type": "array", "items": {"type": "object", "properties": {"from_name": s("string"), "org": org, "org_name": s("string"), "org_fingerprint": s("string"), "id": s("string"), "title": s("string"), "note": s("string"), "at": s("integer")}}})), None, false),
                "post": op("Recommend content (ours or a partner's) to a colleague on this node, with a note; it shows on their home page", "content", (204, json!({"description": "Recommended."})), Some((json!({"type": "object", "required": ["org", "id", "to"], "properties": {"org": org, "id": s("string"), "to": {"type": "string", "description": "The colleague's person id."}, "note": s("string")}}), json!({"org": "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "id": "list-1", "to": "joana", "note": "Start with the second one."}))), false)},
            "/following/{org}/{id}/progress": {"put": with_params(op("Which entries of a followed learning path I have done (positions from 0)", "content", (204, json!({"description": "Saved."})), Some((json!({"type": "object", "required": ["done"], "properties": {"done": {"type": "array", "items": {"type": "integer"}}}}), json!({"done": [0, 2]}))), false), org_id.clone())},
    })
}

fn schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let org = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    let status =
        json!({"enum": ["waiting", "queued", "pending", "accepted", "declined", "refused"]});
    let slot = json!({"type": "object", "properties": {"starts_at": s("integer"), "duration_minutes": s("integer")}});
    let member = json!({"type": "object", "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "name": {"type": ["string", "null"]}}});
    let number = json!({"type": ["number", "null"]});
    let impact = json!({"type": "object", "properties": {
        "sessions_given": s("integer"), "minutes_given": s("integer"), "participants": s("integer"), "connections": s("integer"),
        "requests_made": s("integer"), "requests_made_answered": s("integer"), "requests_received": s("integer"), "requests_received_answered": s("integer"),
        "median_hours_to_answer": number, "feedback": s("integer"), "average_rating": number, "skill_before": number, "skill_after": number,
        "partners": {"type": "array", "items": {"type": "object", "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "given": s("integer"), "received": s("integer")}}},
        "wanted_without_supply": strings,
        "min_group_size": {"type": "integer", "description": "The privacy floor: figures fewer distinct people stand behind are left out."},
        "withheld": {"type": "boolean", "description": "Fewer than min_group_size people here stand behind these figures: every count and average is left out."},
        "partners_withheld": {"type": "integer", "description": "Partners left out of partners: fewer than min_group_size of our people were brought together with each."},
        "feedback_withheld": {"type": "boolean", "description": "Feedback came from fewer than min_group_size people: its count and averages are left out."}}});
    let group = json!({
        "description": "For a cohort I was admitted to: its goal, schedule and members (a name only where that member allowed it). Absent otherwise.",
        "type": "object",
        "properties": {"goal": s("string"), "starts_at": s("integer"), "weeks": s("integer"), "weekly_hours": s("integer"),
            "schedule": {"type": "array", "items": slot}, "members": {"type": "array", "items": member}}
    });
    let policy_refusals = json!({"type": "array", "description": "Records refused by policy, per organisation and reason, most recent first.", "items": {"type": "object", "required": ["org", "reason", "count", "last_at"], "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "reason": {"enum": ["blocked", "not_allowed", "over_quota"]}, "count": s("integer"), "last_at": s("integer")}}});
    let quota_notices = json!({"type": "array", "description": "The latest quota notice from each partner that refused our records.", "items": {"type": "object", "required": ["org", "record_id", "held", "limit", "received_at", "count"], "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "record_id": s("string"), "held": s("integer"), "limit": s("integer"), "received_at": s("integer"), "count": s("integer")}}});
    let mode_changed = json!({"type": "object", "required": ["mode", "partners_kept"], "properties": {"mode": {"enum": ["open", "allowlist", "blocklist"]}, "partners_kept": s("integer")}});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"enum": ["invalid", "not_found", "forbidden", "conflict", "unauthorized", "too_many_requests", "unavailable", "method_not_allowed", "payload_too_large", "unsupported_media_type"]},
            "message": s("string")}}}},
        "User": {"type": "object", "required": ["username", "role", "person_id", "display_name"], "properties": {"username": s("string"), "role": {"enum": ["member", "admin"]}, "person_id": s("string"), "display_name": s("string"), "deactivated": {"type": "boolean", "description": "Present and true when an admin deactivated the account."}}},
        "SharedFields": {"type": "object", "properties": {"display_name": s("boolean"), "headline": s("boolean"), "topics": s("boolean"), "languages": s("boolean"), "time_zone": s("boolean"), "formats": s("boolean"), "availability": s("boolean"), "email": s("boolean"),
            "recognition": {"type": "boolean", "description": "The person's recognition figures, signed on their listing (off until both the person and the policy switch it on)."}}},
        "Topic": {"type": "object", "required": ["name", "level"], "properties": {"name": s("string"), "level": {"enum": ["beginner", "intermediate", "advanced", "expert"]}}},
        "Availability": {"type": "object", "required": ["status"], "properties": {"status": {"enum": ["open", "limited", "full"]}, "hours_per_month": s("integer"), "note": s("string")}},
        "ProfileUpdate": {"type": "object", "required": ["display_name"], "additionalProperties": false, "properties": {
            "display_name": s("string"), "headline": s("string"), "topics": {"type": "array", "items": schema_ref("Topic")},
            "languages": strings, "time_zone": {"type": ["string", "null"]}, "formats": strings,
            "availability": {"oneOf": [schema_ref("Availability"), {"type": "null"}]}, "sharing": schema_ref("SharedFields"),
            "questions": {"type": "object", "required": ["open", "per_month"], "additionalProperties": false, "description": "Whether people of other organisations may ask me a question from my listing, and at most how many in 30 days (1 to 50). Left out of an update: unchanged.", "properties": {"open": s("boolean"), "per_month": {"type": "integer", "minimum": 1, "maximum": 50}}}}},
        "Profile": {"allOf": [schema_ref("ProfileUpdate"), {"type": "object", "properties": {
            "person_id": s("string"), "email": s("string"), "policy": schema_ref("SharedFields"),
            "preview": {"description": "The expertise listing exactly as partners receive it (docs/PROTOCOL.md), or null."},
            "pending_approval": s("boolean"),
            "recognition": {"type": "object", "description": "What the person has given, counted on this node: people helped and organisations reached (requests accepted, calls for talks answered), sessions and minutes (talks and mentoring agreed, cohort sessions held, calls answered), cohorts run, kudos received. The same figures a listing carries when both the person and the outbound policy share `recognition`.",
                "properties": {"people_helped": s("integer"), "organisations_reached": s("integer"), "sessions": s("integer"), "minutes": s("integer"), "cohorts_run": s("integer"), "kudos": s("integer"), "curated": s("integer"), "observed": s("integer")}},
            "kudos": {"type": "array", "description": "Thank-you notes received, newest first.", "items": {"type": "object", "properties": {"from_name": {"type": ["string", "null"]}, "from_org_name": s("string"), "from_org_fingerprint": s("string"), "offer_title": s("string"), "message": s("string"), "at": s("integer")}}}}}]},
        "ImpactQuery": {"type": "object", "properties": {"since": s("string"), "until": s("string"), "topic": s("string")}},
        "PublishedImpact": {"type": "object", "properties": {"org": org, "org_name": s("string"), "org_fingerprint": s("string"), "own": s("boolean"), "issued_at": s("integer"), "signature_verified": s("boolean"),
            "summary": {"type": "object", "description": "An impact_summary record body (docs/PROTOCOL.md)."}}},
        "NewKudos": {"type": "object", "required": ["message"], "additionalProperties": false, "properties": {"message": {"type": "string", "maxLength": 1000}}},
        "OfferBody": {"type": "object", "required": ["kind", "body"], "description": "A record body as in docs/PROTOCOL.md: kind talk_offer, mentoring_offer, cohort_offer, talk_wanted (a call for a talk that experts elsewhere answer with a request), or (admins) event. `person` and the name fields are set by the node.", "properties": {"kind": {"enum": ["talk_offer", "mentoring_offer", "cohort_offer", "talk_wanted", "event"]}, "body": s("object")}},
        "Offer": {"allOf": [schema_ref("OfferBody"), {"type": "object", "required": ["id", "state", "updated_at"], "properties": {"id": s("string"), "state": {"enum": ["draft", "pending_approval", "published", "unpublished"]}, "updated_at": s("integer")}}]},
        "SearchHit": {"type": "object", "required": ["org", "org_name", "id", "kind", "title"], "properties": {
            "org": org, "org_name": s("string"), "org_fingerprint": s("string"), "id": s("string"), "kind": s("string"), "title": s("string"), "summary": s("string"),
            "topics": strings, "formats": strings, "languages": strings, "time_zone": {"type": ["string", "null"]}, "availability": {"type": ["string", "null"]}, "own": s("boolean"),
            "highlights": {"type": "array", "description": "Why it matched the search text: parts of its title, summary, topics or other text, those that matched marked.", "items": schema_ref("Highlight")}}},
        "Highlight": {"type": "object", "required": ["field", "parts"], "properties": {
            "field": {"enum": ["title", "summary", "topic", "text"]},
            "parts": {"type": "array", "items": {"type": "object", "required": ["text"], "properties": {"text": s("string"), "matched": {"type": "boolean", "description": "Present and true when this part matched the query."}}}}}},
        "SearchResults": {"type": "object", "required": ["total", "page", "per_page", "hits", "facets"], "properties": {
            "total": s("integer"), "page": s("integer"), "per_page": s("integer"), "hits": {"type": "array", "items": schema_ref("SearchHit")},
            "facets": {"type": "array", "items": {"type": "object", "properties": {"name": s("string"), "values": {"type": "array", "items": {"type": "object", "properties": {"value": s("string"), "label": s("string"), "count": s("integer")}}}}}}}},
        "Listing": {"type": "object", "required": ["org", "org_name", "id", "seq", "kind", "body", "signature_verified"], "properties": {
            "org": org, "org_name": s("string"), "org_fingerprint": s("string"), "id": s("string"), "seq": s("integer"), "issued_at": s("integer"), "expires_at": s("integer"),
            "kind": s("string"), "body": s("object"), "signature_verified": s("boolean"), "own": s("boolean"), "requestable": s("boolean"),
            "contributable": {"type": "boolean", "description": "Another organisation's event that invited ours to add sessions: our admins may send a `contribution`."},
            "our_sessions": {"type": "array", "items": {"type": "string"}, "description": "Of such an event: ids of the sessions our organisation added; our admins may send a `withdraw` for each."},
            "org_names": {"type": "array", "description": "Names of the organisations an event mentions (its contributors).", "items": {"type": "object", "properties": {"org": org, "name": s("string"), "fingerprint": s("string")}}},
            "askable": {"type": "boolean", "description": "Another organisation's expert who takes questions: send a request with `ask`."},
            "offers": {"type": "array", "description": "For an expert: their open offers held here.", "items": {"type": "object", "properties": {"id": s("string"), "kind": s("string"), "title": s("string")}}}}},
        "NewRequest": {"type": "object", "required": ["offer_org", "offer_id", "goal"], "additionalProperties": false, "properties": {"offer_org": org, "offer_id": s("string"), "goal": s("string"), "preferred_times": s("string"), "message": s("string"),
            "name_to_group": {"type": "boolean", "description": "For a cohort: the other members may see my name on its roster."},
            "session": {"type": ["string", "null"], "description": "For an event: the id of the session to sign up for (`offer_id` is the event's id; the event's node admits sign-ups at once)."},
            "contribution": {"description": "Admins, for an event that invited their organisation: a session to add to its programme (`offer_id` is the event's id). Fields as an event's sessions in docs/PROTOCOL.md; an empty `id` lets the node pick one, and an id this organisation used before replaces that session.", "oneOf": [{"type": "object", "required": ["title", "starts_at", "duration_minutes", "format", "audience"]}, {"type": "null"}]},
            "withdraw": {"type": ["string", "null"], "description": "Admins, for an event their organisation added sessions to: the id of one of those sessions (see the listing's `our_sessions`), to take out of its programme (`offer_id` is the event's id). Not with `session` or `contribution`."},
            "ask": {"oneOf": [{"enum": ["call", "review", "team_talk"]}, {"type": "null"}], "description": "A question for another organisation's expert (`offer_id` is their listing's id, `goal` the question; see the listing's `askable`): the help I would like, a call, a review of my work or a talk for my team. Not with `session`, `contribution` or `withdraw`."}}},
        "InboxItem": {"type": "object", "properties": {"from_org": org, "from_org_name": s("string"), "from_org_fingerprint": s("string"), "id": s("string"), "offer_id": s("string"), "offer_title": s("string"), "requester_name": {"type": ["string", "null"]}, "goal": s("string"), "preferred_times": s("string"), "message": s("string"), "status": status, "reply": s("string"), "received_at": s("integer"), "kudos": {"type": ["string", "null"], "description": "The requester's thank-you after the session."}, "ask": {"oneOf": [{"enum": ["call", "review", "team_talk"]}, {"type": "null"}], "description": "A question through my listing (`goal` is the question), with the help the asker would like."}}},
        "OutboxItem": {"type": "object", "properties": {"id": s("string"), "offer_org": org, "offer_org_name": s("string"), "offer_org_fingerprint": s("string"), "offer_id": s("string"), "offer_title": s("string"), "goal": s("string"), "status": status, "detail": s("string"),
            "contact": {"description": "Only once accepted.", "oneOf": [{"type": "object", "properties": {"name": s("string"), "email": s("string")}}, {"type": "null"}]},
            "group": group,
            "feedback_given": s("boolean"),
            "contribution": {"type": "boolean", "description": "A session my organisation added to, or took out of, another's event."},
            "kudos_welcome": {"type": "boolean", "description": "I may send kudos: accepted for a talk, mentoring, a cohort or a call for a talk, and none sent yet."},
            "kudos": {"type": ["string", "null"], "description": "The kudos I sent."}, "kudos_refused": {"type": ["string", "null"], "description": "Why the other node refused them."},
            "created_at": s("integer"), "updated_at": s("integer")}},
        "Federation": {"type": "object", "properties": {"mode": {"enum": ["open", "allowlist", "blocklist"]}, "approval_required": s("boolean"),
            "orgs": {"type": "array", "items": {"type": "object", "properties": {"key": org, "name": s("string"), "listing": {"enum": ["allowed", "blocked", null]}, "records": s("integer"), "connected": s("boolean"), "wants_to_join": s("boolean")}}},
            "peers": {"type": "array", "items": {"type": "object", "properties": {"peer_id": s("string"), "org": {"oneOf": [org, {"type": "null"}]}, "org_name": s("string"), "org_fingerprint": {"type": ["string", "null"]}}}},
            "rejections": {"type": "array", "items": {"type": "object", "required": ["code", "count"], "properties": {"code": s("string"), "count": s("integer")}}},
            "policy_refusals": policy_refusals, "quota_notices": quota_notices,
            "current_partners": {"type": "integer", "description": "Organisations federated with now; a switch to allowlist keeps them allowed."},
            "federated_records": s("integer"), "own_records": s("integer")}},
        "ModeChanged": mode_changed,
        "Approval": {"type": "object", "properties": {"id": s("string"), "kind": s("string"), "title": s("string"), "owner": s("string"), "body": s("object")}},
        "AuditRow": {"type": "object", "properties": {"at": s("integer"), "actor": s("string"), "action": s("string"), "org": {"type": ["string", "null"]}, "org_name": {"type": ["string", "null"]}, "org_fingerprint": {"type": ["string", "null"]}, "record_id": {"type": ["string", "null"]}, "detail": s("string")}},
        "NewUser": {"type": "object", "required": ["username", "display_name", "role"], "additionalProperties": false, "properties": {"username": s("string"), "display_name": s("string"), "role": {"enum": ["member", "admin"]}, "password": s("string")}},
        "LearningGoals": {"type": "object", "additionalProperties": false, "properties": {"goals": s("string"), "topics": strings.clone(), "formats": strings.clone(), "languages": strings.clone(), "max_hours_apart": {"type": ["integer", "null"], "minimum": 0, "maximum": 12}}},
        "Suggestion": {"type": "object", "required": ["hit", "reasons", "score"], "properties": {"hit": schema_ref("SearchHit"), "reasons": strings.clone(), "score": s("number")}},
        "DemandRow": {"type": "object", "required": ["topic", "people", "supply"], "properties": {"topic": s("string"), "people": s("integer"), "supply": s("integer")}},
        "FeedbackForm": {"type": "object", "required": ["rating", "before", "after"], "additionalProperties": false, "properties": {
            "rating": {"type": "integer", "minimum": 1, "maximum": 5}, "apply": s("string"), "comment": s("string"),
            "before": {"type": "integer", "minimum": 1, "maximum": 5, "description": "My skill in what it targeted, before."},
            "after": {"type": "integer", "minimum": 1, "maximum": 5}}},
        "Impact": impact,
        "Notification": {"type": "object", "required": ["id", "kind", "text", "link", "at", "read"], "properties": {"id": s("string"), "kind": {"enum": ["request_received", "question_received", "request_answered", "kudos_received", "approval_waiting"]}, "text": s("string"), "link": {"type": "string", "description": "The page on this node it is about."}, "at": {"type": "integer", "description": "Unix seconds."}, "read": s("boolean")}},
        "Webhook": {"type": "object", "required": ["url", "waiting", "last_error", "next_try_at"], "properties": {
            "url": {"type": ["string", "null"], "description": "The incoming-webhook address, or null when none is set."},
            "waiting": {"type": "integer", "description": "Messages waiting to be posted, in order."},
            "last_error": {"type": ["string", "null"], "description": "Why the oldest waiting message was not taken (e.g. HTTP 404 Not Found), if it was tried."},
            "next_try_at": {"type": ["integer", "null"], "description": "When it is tried next (Unix seconds)."}}},
        "ApiToken": {"type": "object", "required": ["id", "name", "created_at", "last_used_at"], "properties": {"id": {"type": "string", "description": "The first 16 hex digits of the token's SHA-256."}, "name": s("string"), "created_at": {"type": "integer", "description": "Unix seconds."}, "last_used_at": {"type": ["integer", "null"], "description": "The last call made with it, to the minute (Unix seconds)."}}},
        "AddedUser": {"type": "object", "required": ["user"], "properties": {"user": schema_ref("User"), "invitation": schema_ref("AccessLink")}},
        "AccessLink": {"type": "object", "required": ["url", "purpose", "expires_at"], "properties": {"url": {"type": "string", "description": "Shown once: the link works once, until it expires."}, "purpose": {"enum": ["invitation", "password_reset"]}, "expires_at": {"type": "integer", "description": "Unix seconds."}}}
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
