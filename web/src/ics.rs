//! Calendar files (iCalendar, RFC 5545) for the scheduled sessions of a
//! record: a cohort's schedule, a mentoring offer's slots, an event's
//! sessions. Everything in them may come from another organisation, so
//! every text value is escaped as the format requires and control
//! characters are dropped.

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use skillmesh_protocol::kinds::Slot;
use skillmesh_protocol::{Body, OrgKey};

use crate::api::FeedItem;
use crate::dates::ical_utc;

/// One scheduled session of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What names it within its record: an event session's id, or a
    /// slot's position in a series. It is part of the calendar UID, so
    /// the same session from its listing's .ics file and from the feed is
    /// one event in a calendar program, and an event's sessions keep
    /// theirs when sessions before them are added or removed.
    pub key: String,
    pub title: String,
    pub starts_at: i64,
    pub duration_minutes: u16,
    /// What the session belongs to, for the event's description.
    pub detail: String,
}

/// The scheduled sessions of a record, in the order the record lists
/// them (the index is what `?session=` names). Empty for records without
/// a schedule.
pub fn sessions(body: &Body) -> Vec<Session> {
    match body {
        Body::CohortOffer(c) => numbered(&c.title, &c.goal, &c.schedule),
        Body::MentoringOffer(m) => numbered(&m.title, &m.description, &m.slots),
        Body::Event(e) => e
            .sessions
            .iter()
            .map(|s| Session {
                key: s.id.clone(),
                title: s.title.clone(),
                starts_at: s.starts_at,
                duration_minutes: s.duration_minutes,
                detail: e.title.clone(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The sessions of a series of slots: `title (n of total)`, or just
/// `title` for a single one.
pub fn numbered(title: &str, detail: &str, slots: &[Slot]) -> Vec<Session> {
    let total = slots.len();
    slots
        .iter()
        .enumerate()
        .map(|(n, s)| Session {
            key: n.to_string(),
            title: if total == 1 {
                title.to_string()
            } else {
                format!("{title} ({} of {total})", n + 1)
            },
            starts_at: s.starts_at,
            duration_minutes: s.duration_minutes,
            detail: detail.to_string(),
        })
        .collect()
}

/// The sessions of an item of a person's calendar feed: the one event
/// session they signed up for, under its own key, or a numbered series.
pub fn of_feed_item(item: &FeedItem) -> Vec<Session> {
    let mut sessions = numbered(&item.title, &item.detail, &item.slots);
    if let (Some(key), [only]) = (&item.session, sessions.as_mut_slice()) {
        only.key.clone_from(key);
    }
    sessions
}

/// One calendar event: `session` of record `id` of `org`.
pub struct Event<'a> {
    pub org: &'a OrgKey,
    pub org_name: &'a str,
    pub id: &'a str,
    pub session: &'a Session,
}

/// A calendar of `events`, stamped `now`. Each event's UID is stable
/// (session key, record, organisation), so importing an updated file, or
/// a feed fetched again, replaces the events instead of adding copies.
/// Keys and record ids are of `[A-Za-z0-9._-]` (the protocol checks), so
/// the `/` between them keeps two different sessions from one UID.
pub fn calendar(events: &[Event<'_>], now: i64) -> String {
    let mut out = String::new();
    let mut line = |text: String| fold(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Skillmesh//Skillmesh node//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    for Event {
        org,
        org_name,
        id,
        session: s,
    } in events
    {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}/{id}.{}@skillmesh", s.key, org.to_hex()));
        line(format!("DTSTAMP:{}", ical_utc(now)));
        line(format!("DTSTART:{}", ical_utc(s.starts_at)));
        line(format!(
            "DTEND:{}",
            ical_utc(s.starts_at + i64::from(s.duration_minutes) * 60)
        ));
        line(format!("SUMMARY:{}", text(&s.title)));
        line(format!(
            "DESCRIPTION:{}",
            text(&format!("{}\n\nFrom {org_name}, via Skillmesh.", s.detail))
        ));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `events` as an .ics download named after `name` (letters, digits and
/// `-_.` kept), stamped now.
pub fn response(name: &str, events: &[Event<'_>]) -> Response {
    let now = crate::dates::unix_now();
    let file: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (
        [
            (CONTENT_TYPE, "text/calendar; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.ics\""),
            ),
        ],
        calendar(events, now),
    )
        .into_response()
}

/// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and
/// newline escaped; other control characters dropped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded so that no line is longer than 75
/// octets (RFC 5545 §3.1), never inside a UTF-8 character, ended by CRLF.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The events of a calendar as maps of property name to unescaped
    /// value, after unfolding: what a calendar program reads.
    pub(crate) fn parse(ics: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        assert!(ics.ends_with("\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        let mut events = Vec::new();
        let mut current: Option<std::collections::BTreeMap<String, String>> = None;
        for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').expect("name:value");
            match (name, &mut current) {
                ("BEGIN", _) if value == "VEVENT" => current = Some(Default::default()),
                ("END", Some(_)) if value == "VEVENT" => events.extend(current.take()),
                (_, Some(event)) => {
                    let mut v = String::new();
                    let mut chars = value.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            match chars.next() {
                                Some('n') => v.push('\n'),
                                Some(other) => v.push(other),
                                None => {}
                            }
                        } else {
                            v.push(c);
                        }
                    }
                    event.insert(name.to_string(), v);
                }
                _ => {}
            }
        }
        events
    }

    #[test]
    fn values_are_escaped_lines_folded_and_times_utc() {
        let title = "Ops, on-call; \\ and \"quotes\"\r\n<script>".to_string() + &"é".repeat(60);
        let s = Session {
            key: "2".into(),
            title: title.clone(),
            starts_at: 951_782_400 + 3_600,
            duration_minutes: 90,
            detail: "Goal\nline two".into(),
        };
        let org = OrgKey::from_bytes([3; 32]);
        let ics = calendar(
            &[Event {
                org: &org,
                org_name: "Contoso",
                id: "cohort-1",
                session: &s,
            }],
            0,
        );
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        assert!(!ics.replace("\r\n", "").contains('\n'));
        let events = parse(&ics);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e["DTSTART"], "20000229T010000Z");
        assert_eq!(e["DTEND"], "20000229T023000Z");
        assert_eq!(e["UID"], format!("2/cohort-1.{}@skillmesh", org.to_hex()));
        // Newlines travel escaped; other control characters are dropped.
        assert_eq!(e["SUMMARY"], title.replace('\r', ""));
        assert_eq!(
            e["DESCRIPTION"],
            "Goal\nline two\n\nFrom Contoso, via Skillmesh."
        );
    }
}
