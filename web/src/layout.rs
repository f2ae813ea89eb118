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
        "approved" => "Approved and published.",
        "mode" => "Federation mode changed.",
        "org" => "Organisation updated.",
        "policy" => "Outbound policy saved; every listing was re-published to match.",
        "signed_out" => "You are signed out.",
        _ => return None,
    })
}

/// What the shell needs to know about the request.
pub struct Chrome<'a> {
    pub org_name: &'a str,
    pub user: Option<&'a User>,
    pub csrf: Option<&'a str>,
    pub notice: Option<&'static str>,
}

pub fn page(chrome: &Chrome<'_>, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.org_name) " · Skillmesh" }
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
                                    input type="hidden" name="csrf" value=(csrf);
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

/// The hidden CSRF field every state-changing form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A Unix time as a UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` (a UTC day) to the Unix time of its midnight.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let doy = (153 * i64::from(mm) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // Reject days that do not exist (2026-02-30) by converting back.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400)
}

/// The UTC day of a Unix time, `YYYY-MM-DD`.
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A snake_case code as words: `people_managers` → `people managers`.
pub fn words(code: &str) -> String {
    code.replace('_', " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn datetimes_are_utc_civil_dates() {
        assert_eq!(super::datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::datetime(1_709_251_200), "2024-03-01 00:00 UTC");
        assert_eq!(super::datetime(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(super::parse_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(super::parse_date("2000-02-29"), Some(951_782_400));
        assert_eq!(super::parse_date("2026-02-30"), None);
        assert_eq!(super::parse_date("soon"), None);
        assert_eq!(super::date(1_709_251_200 + 5), "2024-03-01");
    }
}
