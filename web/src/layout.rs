//! The page shell every page shares: which organisation this node is, who
//! is signed in, the navigation, and the notice left by the last action.

use maud::{DOCTYPE, Markup, html};

use crate::api::User;

/// Short confirmations shown after a form's redirect (`?notice=code`).
/// Only these fixed sentences are ever shown, never text from the URL.
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "saved" => "Saved.",
        "goals" => "Saved. The suggestions below are ranked from your goals, on this node.",
        "published" => "Published: partner organisations will receive it within seconds.",
        "pending" => "Saved. It waits for an admin's approval before it leaves the organisation.",
        "paused" => "Paused: it stays listed but takes no requests.",
        "reopened" => "Open for requests again.",
        "closed" => "Closed.",
        "unpublished" => "Unpublished: a retraction was sent to every partner organisation.",
        "requested" => "Request sent. Its status is under Requests.",
        "answered" => "Answer sent.",
        "feedback" => "Thank you: your feedback is saved on this node.",
        "kudos" => "Kudos sent: they go to the other organisation's node.",
        "following" => "You follow this learning path: tick entries off as you go.",
        "unfollowed" => "You no longer follow it.",
        "progress" => "Your progress is saved (only you see it).",
        "recommended" => "Recommended: it is on your colleague's home page.",
        "observed" => "Sent: only the person you observed sees it.",
        "observer_invited" => "Invited: your colleague finds it under Observations.",
        "deleted" => "Deleted: if it was shared, partners' nodes drop it.",
        "impact_published" => "Published: partners will receive the summary within seconds.",
        "impact_withdrawn" => "Withdrawn: partners' nodes drop the summary.",
        "approved" => "Approved and published.",
        "mode" => "Federation mode changed.",
        "org" => "Organisation updated.",
        "policy" => "Outbound policy saved; every listing was re-published to match.",
        "signed_out" => "You are signed out.",
        "signed_out_everywhere" => "You are signed out in every browser.",
        "token_revoked" => "Token revoked: it no longer works.",
        "notifications_read" => "Marked as read.",
        "mail_saved" => "Saved: mail comes as you chose.",
        "user_changed" => "Account updated.",
        "user_removed" => "Removed: withdrawn from every partner, and deleted here.",
        "webhook_saved" => {
            "Saved: the channel hears of new offers and events and of what waits for approval."
        }
        "webhook_cleared" => {
            "Removed: nothing goes to a chat channel any more; what waited was dropped."
        }
        "webhook_test" => {
            "Test message queued: it should reach the channel within seconds (reload to see whether it went)."
        }
        _ => return None,
    })
}

/// What the shell needs to know about the request.
pub struct Chrome<'a> {
    pub org_name: &'a str,
    pub user: Option<&'a User>,
    pub csrf: Option<&'a str>,
    pub notice: Option<&'static str>,
    /// Unread notifications of the signed-in person.
    pub unread: usize,
}

pub fn page(chrome: &Chrome<'_>, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.org_name) " · Skillmesh" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header.top {
                    a.brand href="/" {
                        span.org { (chrome.org_name) }
                        span.product { " on Skillmesh" }
                    }
                    @if let Some(user) = chrome.user {
                        nav aria-label="Main" {
                            a href="/find" { "Find" }
                            a href="/goals" { "My goals" }
                            a href="/profile" { "My profile" }
                            a href="/offers" { "My offers" }
                            a href="/requests" { "Requests" }
                            a #notifications-link href="/notifications" {
                                "Notifications"
                                @if chrome.unread > 0 { " " span.badge #unread-count title="Unread" { (chrome.unread) } }
                            }
                            @if user.is_admin() {
                                a href="/admin" { "Admin" }
                            }
                        }
                        div.who {
                            "Signed in as "
                            a #signed-in-as href="/account" { (user.display_name) }
                            @if user.is_admin() { " (admin)" }
                            @if let Some(csrf) = chrome.csrf {
                                form.inline method="post" action="/signout" {
                                    (csrf_field(csrf))
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        }
                    } @else {
                        nav aria-label="Main" { a href="/signin" { "Sign in" } }
                    }
                }
                main {
                    @if let Some(notice) = chrome.notice {
                        p.notice role="status" { (notice) }
                    }
                    (content)
                }
                footer { "Skillmesh node of " (chrome.org_name) " · " a href="/api/v1/openapi.json" { "API" } }
            }
        }
    }
}

/// The hidden CSRF field every state-changing form carries, masked afresh
/// for each page (see [`crate::session::mask_csrf`]).
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(crate::session::mask_csrf(csrf)); }
}

/// A snake_case code as words: `people_managers` → `people managers`.
pub fn words(code: &str) -> String {
    code.replace('_', " ")
}
