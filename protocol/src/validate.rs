//! Rules every record must satisfy, checked on both sides: before a node
//! signs a record and after it verifies one.

use crate::error::Rejection;
use crate::kinds::{
    Answer, Availability, CohortOffer, ContentItem, ContentType, Decision, Event, EventSession,
    Expertise, FollowerCount, Group, ImpactSummary, Kudos, ListEntry, MentoringOffer, OrgCard,
    QuotaNotice, Request, Retraction, Slot, TalkOffer, TalkSession, TalkWanted, Topic,
};
use crate::limits::*;
use crate::record::{Body, Header, RECORD_VERSION, Record};

/// Checks everything that does not depend on the clock.
pub fn validate_record(record: &Record) -> Result<(), Rejection> {
    validate_header(&record.header)?;
    match &record.body {
        Body::OrgCard(b) => org_card(b),
        Body::Expertise(b) => expertise(b),
        Body::TalkOffer(b) => talk_offer(b),
        Body::MentoringOffer(b) => mentoring_offer(b),
        Body::CohortOffer(b) => cohort_offer(b),
        Body::Event(b) => event(b),
        Body::Content(b) => content(b),
        Body::TalkWanted(b) => talk_wanted(b),
        Body::ImpactSummary(b) => impact_summary(b),
        Body::Retraction(b) => retraction(b),
        Body::Request(b) => request(b),
        Body::Answer(b) => answer(b),
        Body::Kudos(b) => kudos(b),
        Body::FollowerCount(b) => follower_count(b),
        Body::QuotaNotice(b) => quota_notice(b),
    }
}

/// Checks `issued_at` and `expires_at` against `now` (unix seconds).
pub fn validate_times(header: &Header, now: i64) -> Result<(), Rejection> {
    if header.issued_at > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(Rejection::FutureDated {
            issued_at: header.issued_at,
            now,
        });
    }
    if header.expires_at <= now {
        return Err(Rejection::Expired {
            expires_at: header.expires_at,
            now,
        });
    }
    Ok(())
}

/// Whether a record valid at `now` is fit to forward to other nodes: its
/// times lie [`RELAY_MARGIN_SECS`] inside the bounds of
/// [`validate_times`], so that the next node accepts it even if its clock
/// differs a little, or the record spends a moment in transit. A record
/// about to expire, or dated a little in the future, is kept but not
/// relayed (the next node would refuse it, and the relay would be blamed).
pub fn fit_to_relay(header: &Header, now: i64) -> bool {
    header.issued_at <= now.saturating_add(RELAY_MARGIN_SECS)
        && header.expires_at > now.saturating_add(RELAY_MARGIN_SECS)
}

fn validate_header(h: &Header) -> Result<(), Rejection> {
    if h.version != RECORD_VERSION {
        return Err(Rejection::UnknownVersion(h.version));
    }
    id("id", &h.id)?;
    if h.seq == 0 || h.seq > MAX_SEQ {
        return Err(Rejection::malformed(format!(
            "seq must be between 1 and {MAX_SEQ}"
        )));
    }
    if h.issued_at < 0 {
        return Err(Rejection::malformed("issued_at is negative"));
    }
    if h.expires_at <= h.issued_at {
        return Err(Rejection::malformed("expires_at is not after issued_at"));
    }
    let lifetime = h.expires_at.saturating_sub(h.issued_at);
    if lifetime > MAX_LIFETIME_SECS {
        return Err(Rejection::LifetimeTooLong {
            secs: lifetime,
            max: MAX_LIFETIME_SECS,
        });
    }
    Ok(())
}

/// Record ids, person ids and session ids: 1 to 64 bytes of `[A-Za-z0-9._-]`.
pub fn id(field: &str, value: &str) -> Result<(), Rejection> {
    if value.len() > MAX_ID_BYTES {
        return Err(Rejection::oversize(field, value.len(), MAX_ID_BYTES));
    }
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Rejection::malformed(format!(
            "{field} must be 1 to {MAX_ID_BYTES} characters of A-Z a-z 0-9 . _ -"
        )));
    }
    Ok(())
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.len() > max {
        return Err(Rejection::oversize(field, value.len(), max));
    }
    Ok(())
}

/// One line of text: non-empty, bounded, no control characters.
fn line(field: &str, value: &str) -> Result<(), Rejection> {
    bounded(field, value, MAX_TITLE_BYTES)?;
    if value.trim().is_empty() {
        return Err(Rejection::malformed(format!("{field} is empty")));
    }
    if value.chars().any(|c| c.is_control() || is_layout_char(c)) {
        return Err(Rejection::malformed(format!(
            "{field} contains a control, line-separator or direction-override character"
        )));
    }
    Ok(())
}

/// Characters that change how surrounding text is laid out: line and
/// paragraph separators and bidirectional overrides and isolates, which can
/// make displayed text differ from what was signed (e.g. reversing a name).
fn is_layout_char(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn opt_line(field: &str, value: &Option<String>) -> Result<(), Rejection> {
    value.as_deref().map_or(Ok(()), |v| line(field, v))
}

/// Multi-line text: bounded, no control characters but newline and tab. May be empty.
fn text(field: &str, value: &str) -> Result<(), Rejection> {
    bounded(field, value, MAX_TEXT_BYTES)?;
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_layout_char(c))
    {
        return Err(Rejection::malformed(format!(
            "{field} contains a control or direction-override character"
        )));
    }
    Ok(())
}

fn list<T>(field: &str, items: &[T], max: usize) -> Result<(), Rejection> {
    if items.len() > max {
        return Err(Rejection::oversize(field, items.len(), max));
    }
    Ok(())
}

fn topic_name(field: &str, value: &str) -> Result<(), Rejection> {
    bounded(field, value, MAX_TOPIC_BYTES)?;
    line(field, value)
}

fn topic_names(field: &str, values: &[String]) -> Result<(), Rejection> {
    list(field, values, MAX_LIST_LEN)?;
    values.iter().try_for_each(|t| topic_name(field, t))
}

fn topics(field: &str, values: &[Topic]) -> Result<(), Rejection> {
    list(field, values, MAX_LIST_LEN)?;
    values.iter().try_for_each(|t| topic_name(field, &t.name))
}

/// BCP 47 language tags in their common shape: `en`, `pt-BR`, `zh-Hant-TW`.
fn languages(field: &str, values: &[String]) -> Result<(), Rejection> {
    list(field, values, MAX_LIST_LEN)?;
    for tag in values {
        bounded(field, tag, 35)?;
        let mut parts = tag.split('-');
        let primary_ok = parts.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !primary_ok || !rest_ok {
            return Err(Rejection::malformed(format!(
                "{field}: {tag:?} is not a language tag such as en or pt-BR"
            )));
        }
    }
    Ok(())
}

/// IANA time zone names in their common shape: `UTC`, `Europe/Berlin`, `Etc/GMT+2`.
fn time_zone(field: &str, value: &str) -> Result<(), Rejection> {
    bounded(field, value, 64)?;
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
    {
        return Err(Rejection::malformed(format!(
            "{field}: {value:?} is not a time zone name such as Europe/Berlin"
        )));
    }
    Ok(())
}

/// Links: absolute http or https URLs with a host, no whitespace or control
/// characters. Anything else (`javascript:`, `data:`, relative) is refused.
pub fn url(field: &str, value: &str) -> Result<(), Rejection> {
    bounded(field, value, MAX_URL_BYTES)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| {
            Rejection::malformed(format!("{field} must be an http:// or https:// link"))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty()
        || host.starts_with(':')
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Rejection::malformed(format!(
            "{field} is not a valid link (needs a host and no spaces)"
        )));
    }
    Ok(())
}

fn email(field: &str, value: &str) -> Result<(), Rejection> {
    line(field, value)?;
    let mut parts = value.split('@');
    let ok = matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.'))
        && !value.contains(char::is_whitespace);
    if !ok {
        return Err(Rejection::malformed(format!(
            "{field} is not an email address"
        )));
    }
    Ok(())
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), Rejection> {
    if value < min || value > max {
        return Err(Rejection::malformed(format!(
            "{field} must be between {min} and {max}, not {value}"
        )));
    }
    Ok(())
}

fn slots(field: &str, values: &[Slot]) -> Result<(), Rejection> {
    list(field, values, MAX_SESSIONS)?;
    values.iter().try_for_each(|s| {
        in_range(field, s.duration_minutes, 5, 24 * 60)?;
        if s.starts_at < 0 {
            return Err(Rejection::malformed(format!(
                "{field}: negative start time"
            )));
        }
        Ok(())
    })
}

fn org_card(b: &OrgCard) -> Result<(), Rejection> {
    line("name", &b.name)?;
    text("summary", &b.summary)?;
    if let Some(w) = &b.website {
        url("website", w)?;
    }
    languages("languages", &b.languages)
}

fn availability(a: &Availability) -> Result<(), Rejection> {
    if let Some(h) = a.hours_per_month {
        in_range("availability.hours_per_month", h, 0, 744)?;
    }
    opt_line("availability.note", &a.note)
}

fn expertise(b: &Expertise) -> Result<(), Rejection> {
    id("person", &b.person)?;
    opt_line("display_name", &b.display_name)?;
    opt_line("headline", &b.headline)?;
    topics("topics", &b.topics)?;
    languages("languages", &b.languages)?;
    if let Some(tz) = &b.time_zone {
        time_zone("time_zone", tz)?;
    }
    list("formats", &b.formats, MAX_LIST_LEN)?;
    if let Some(a) = &b.availability {
        availability(a)?;
    }
    if let Some(e) = &b.email {
        email("email", e)?;
    }
    Ok(())
}

fn talk_offer(b: &TalkOffer) -> Result<(), Rejection> {
    id("person", &b.person)?;
    opt_line("speaker_name", &b.speaker_name)?;
    line("title", &b.title)?;
    text("abstract", &b.summary)?;
    talk_session(&b.session)
}

fn talk_wanted(b: &TalkWanted) -> Result<(), Rejection> {
    id("person", &b.person)?;
    opt_line("asker_name", &b.asker_name)?;
    line("title", &b.title)?;
    text("description", &b.description)?;
    talk_session(&b.session)
}

/// The session fields both talk kinds carry.
fn talk_session(s: &TalkSession) -> Result<(), Rejection> {
    topic_names("topics", &s.topics)?;
    in_range("duration_minutes", s.duration_minutes, 5, 8 * 60)?;
    languages("languages", &s.languages)
}

fn impact_summary(b: &ImpactSummary) -> Result<(), Rejection> {
    if b.period_start < 0 {
        return Err(Rejection::malformed("period_start is negative"));
    }
    if b.period_end < b.period_start {
        return Err(Rejection::malformed("period_end is before period_start"));
    }
    if let Some(t) = &b.topic {
        topic_name("topic", t)?;
    }
    if b.requests_received_answered > b.requests_received
        || b.requests_made_answered > b.requests_made
    {
        return Err(Rejection::malformed(
            "more requests answered than there were",
        ));
    }
    for (field, value) in [
        ("average_rating_tenths", b.average_rating_tenths),
        ("skill_before_tenths", b.skill_before_tenths),
        ("skill_after_tenths", b.skill_after_tenths),
    ] {
        if let Some(v) = value {
            if b.feedback < MIN_FEEDBACK_TO_PUBLISH {
                return Err(Rejection::malformed(format!(
                    "{field} needs feedback from at least {MIN_FEEDBACK_TO_PUBLISH} people"
                )));
            }
            in_range(field, v, 10, 50)?;
        }
    }
    Ok(())
}

fn kudos(b: &Kudos) -> Result<(), Rejection> {
    id("request_id", &b.request_id)?;
    opt_line("from_name", &b.from_name)?;
    bounded("message", &b.message, MAX_KUDOS_BYTES)?;
    text("message", &b.message)?;
    if b.message.trim().is_empty() {
        return Err(Rejection::malformed("message is empty"));
    }
    Ok(())
}

fn follower_count(b: &FollowerCount) -> Result<(), Rejection> {
    id("list_id", &b.list_id)?;
    in_range("followers", b.followers, 0, MAX_FOLLOWERS)
}

fn quota_notice(b: &QuotaNotice) -> Result<(), Rejection> {
    id("record_id", &b.record_id)
}

fn mentoring_offer(b: &MentoringOffer) -> Result<(), Rejection> {
    id("person", &b.person)?;
    opt_line("mentor_name", &b.mentor_name)?;
    line("title", &b.title)?;
    text("description", &b.description)?;
    topic_names("topics", &b.topics)?;
    languages("languages", &b.languages)?;
    in_range("capacity", b.capacity, 1, 50)?;
    in_range("sessions", b.sessions, 1, 52)?;
    in_range("session_minutes", b.session_minutes, 5, 8 * 60)?;
    slots("slots", &b.slots)
}

fn cohort_offer(b: &CohortOffer) -> Result<(), Rejection> {
    id("person", &b.person)?;
    opt_line("owner_name", &b.owner_name)?;
    line("title", &b.title)?;
    text("goal", &b.goal)?;
    if b.goal.trim().is_empty() {
        return Err(Rejection::malformed("goal is empty"));
    }
    topic_names("topics", &b.topics)?;
    in_range(
        "seats_total",
        b.seats_total,
        COHORT_MIN_SEATS,
        COHORT_MAX_SEATS,
    )?;
    in_range("seats_per_org", b.seats_per_org, 1, b.seats_total)?;
    in_range("weeks", b.weeks, 1, 52)?;
    in_range("weekly_hours", b.weekly_hours, 1, 40)?;
    if b.starts_at < 0 {
        return Err(Rejection::malformed("starts_at is negative"));
    }
    slots("schedule", &b.schedule)?;
    languages("languages", &b.languages)
}

fn event(b: &Event) -> Result<(), Rejection> {
    line("title", &b.title)?;
    text("description", &b.description)?;
    if b.starts_at < 0 {
        return Err(Rejection::malformed("starts_at is negative"));
    }
    if b.ends_at < b.starts_at {
        return Err(Rejection::malformed("ends_at is before starts_at"));
    }
    list("sessions", &b.sessions, MAX_SESSIONS)?;
    let mut seen = std::collections::HashSet::new();
    for s in &b.sessions {
        id("sessions.id", &s.id)?;
        if !seen.insert(s.id.as_str()) {
            return Err(Rejection::malformed(format!(
                "sessions.id {:?} is used twice",
                s.id
            )));
        }
        if s.starts_at < b.starts_at || s.starts_at > b.ends_at {
            return Err(Rejection::malformed(format!(
                "session {:?} starts outside the event's dates",
                s.id
            )));
        }
        session_fields(s)?;
    }
    list("contributors", &b.contributors, MAX_LIST_LEN)?;
    languages("languages", &b.languages)
}

/// A session's fields after its id (an event's session, or one offered
/// to an event in a request).
fn session_fields(s: &EventSession) -> Result<(), Rejection> {
    line("sessions.title", &s.title)?;
    opt_line("sessions.speaker_name", &s.speaker_name)?;
    in_range("sessions.duration_minutes", s.duration_minutes, 5, 24 * 60)?;
    topic_names("sessions.topics", &s.topics)
}

fn list_entry(e: &ListEntry) -> Result<(), Rejection> {
    line("items.title", &e.title)?;
    url("items.url", &e.url)?;
    bounded("items.note", &e.note, MAX_TITLE_BYTES * 2)?;
    text("items.note", &e.note)
}

fn content(b: &ContentItem) -> Result<(), Rejection> {
    line("title", &b.title)?;
    match (&b.url, b.content_type) {
        (Some(u), _) => url("url", u)?,
        (None, ContentType::List) => {}
        (None, _) => {
            return Err(Rejection::malformed(
                "url is required for this content type",
            ));
        }
    }
    text("why", &b.why)?;
    topic_names("topics", &b.topics)?;
    opt_line("curator_name", &b.curator_name)?;
    list("items", &b.items, MAX_SESSIONS)?;
    if b.content_type != ContentType::List && !b.items.is_empty() {
        return Err(Rejection::malformed("only a list has items"));
    }
    b.items.iter().try_for_each(list_entry)
}

fn group(g: &Group) -> Result<(), Rejection> {
    text("group.goal", &g.goal)?;
    if g.starts_at < 0 {
        return Err(Rejection::malformed("group.starts_at is negative"));
    }
    in_range("group.weeks", g.weeks, 1, 52)?;
    in_range("group.weekly_hours", g.weekly_hours, 1, 40)?;
    slots("group.schedule", &g.schedule)?;
    list("group.members", &g.members, usize::from(COHORT_MAX_SEATS))?;
    g.members
        .iter()
        .try_for_each(|m| opt_line("group.members.name", &m.name))
}

fn retraction(b: &Retraction) -> Result<(), Rejection> {
    opt_line("reason", &b.reason)
}

fn request(b: &Request) -> Result<(), Rejection> {
    id("offer_id", &b.offer_id)?;
    if let Some(s) = &b.session {
        id("session", s)?;
    }
    let purposes = [
        b.session.is_some(),
        b.contribution.is_some(),
        b.withdraw.is_some(),
        b.ask.is_some(),
    ];
    if purposes.into_iter().filter(|p| *p).count() > 1 {
        return Err(Rejection::malformed(
            "a request signs up for a session, contributes one, withdraws one or asks a question: only one of them",
        ));
    }
    if let Some(s) = &b.contribution {
        id("contribution.id", &s.id)?;
        session_fields(s)?;
    }
    if let Some(s) = &b.withdraw {
        id("withdraw", s)?;
    }
    id("requester", &b.requester)?;
    opt_line("requester_name", &b.requester_name)?;
    text("goal", &b.goal)?;
    if b.goal.trim().is_empty() {
        return Err(Rejection::malformed("goal is empty"));
    }
    bounded("preferred_times", &b.preferred_times, MAX_TITLE_BYTES)?;
    text("preferred_times", &b.preferred_times)?;
    text("message", &b.message)
}

fn answer(b: &Answer) -> Result<(), Rejection> {
    id("request_id", &b.request_id)?;
    text("reply", &b.reply)?;
    match (&b.group, b.decision) {
        (Some(_), Decision::Declined) => {
            return Err(Rejection::malformed(
                "a group may only travel with an acceptance",
            ));
        }
        (Some(g), Decision::Accepted) => group(g)?,
        (None, _) => {}
    }
    match (&b.contact, b.decision) {
        (Some(_), Decision::Declined) => Err(Rejection::malformed(
            "contact details may only travel with an acceptance",
        )),
        (Some(c), Decision::Accepted) => {
            line("contact.name", &c.name)?;
            c.email
                .as_deref()
                .map_or(Ok(()), |e| email("contact.email", e))
        }
        (None, _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_near_its_time_bounds_is_valid_but_not_relayed() {
        let mut h =
            crate::samples::record(crate::OrgKey::from_bytes([7; 32]), crate::Kind::TalkOffer)
                .header;
        let now = 1_000_000;
        h.issued_at = now;
        h.expires_at = now + 3600;
        assert!(fit_to_relay(&h, now));
        // About to expire: still valid here, not forwarded.
        h.expires_at = now + RELAY_MARGIN_SECS;
        assert!(validate_times(&h, now).is_ok());
        assert!(!fit_to_relay(&h, now));
        // Dated a little in the future: within the skew, not forwarded.
        h.expires_at = now + 3600;
        h.issued_at = now + RELAY_MARGIN_SECS + 1;
        assert!(validate_times(&h, now).is_ok());
        assert!(!fit_to_relay(&h, now));
        assert!(
            validate_times(&h, now + 3600)
                .expect_err("expired")
                .is_clock_dependent()
        );
    }
    use crate::samples;
    use crate::{Kind, OrgKey};

    #[test]
    fn a_request_has_one_purpose_and_a_withdrawal_names_a_session_id() {
        let org = OrgKey::from_bytes([7; 32]);
        let with = |change: fn(&mut Request)| {
            let mut record = samples::record(org, Kind::Request);
            if let Body::Request(r) = &mut record.body {
                change(r);
            }
            validate_record(&record)
        };
        assert!(with(|r| r.withdraw = Some("s2".into())).is_ok());
        assert!(matches!(
            with(|r| {
                r.withdraw = Some("s2".into());
                r.session = Some("s2".into());
            }),
            Err(Rejection::Malformed(_))
        ));
        assert!(with(|r| r.withdraw = Some("not an id".into())).is_err());
        assert!(with(|r| r.withdraw = Some(String::new())).is_err());
        // A question is a purpose of its own.
        assert!(with(|r| r.ask = Some(crate::kinds::AskFormat::Call)).is_ok());
        assert!(matches!(
            with(|r| {
                r.ask = Some(crate::kinds::AskFormat::TeamTalk);
                r.session = Some("s2".into());
            }),
            Err(Rejection::Malformed(_))
        ));
    }

    #[test]
    fn an_unknown_ask_format_is_malformed_and_a_known_one_reads_back() {
        let json = |ask: &str| {
            format!(
                r#"{{"offer_org":"{}","offer_id":"listing-1","requester":"p","goal":"g","ask":"{ask}"}}"#,
                OrgKey::from_bytes([7; 32]).to_hex()
            )
        };
        let read: Request = serde_json::from_str(&json("team_talk")).expect("known");
        assert_eq!(read.ask, Some(crate::kinds::AskFormat::TeamTalk));
        assert!(serde_json::from_str::<Request>(&json("lunch")).is_err());
    }
}
