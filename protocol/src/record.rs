//! A record: the common header plus one kind's body, and its JSON payload form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::Rejection;
use crate::keys::OrgKey;
use crate::kinds::{
    Answer, CohortOffer, ContentItem, Event, Expertise, FollowerCount, ImpactSummary, Kudos,
    MentoringOffer, OfferStatus, OrgCard, QuotaNotice, Request, Retraction, TalkOffer, TalkWanted,
};

/// The record format version this crate writes and reads.
pub const RECORD_VERSION: u64 = 1;

/// What a record is. The wire name is the snake_case string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    OrgCard,
    Expertise,
    TalkOffer,
    MentoringOffer,
    CohortOffer,
    Event,
    Content,
    TalkWanted,
    ImpactSummary,
    Retraction,
    Request,
    Answer,
    Kudos,
    FollowerCount,
    QuotaNotice,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::OrgCard,
        Kind::Expertise,
        Kind::TalkOffer,
        Kind::MentoringOffer,
        Kind::CohortOffer,
        Kind::Event,
        Kind::Content,
        Kind::TalkWanted,
        Kind::ImpactSummary,
        Kind::Retraction,
        Kind::Request,
        Kind::Answer,
        Kind::Kudos,
        Kind::FollowerCount,
        Kind::QuotaNotice,
    ];

    /// The kinds people find in search, in the order the UI offers them.
    pub const SEARCHABLE: [Kind; 7] = [
        Kind::Expertise,
        Kind::TalkOffer,
        Kind::MentoringOffer,
        Kind::CohortOffer,
        Kind::Event,
        Kind::Content,
        Kind::TalkWanted,
    ];

    /// What people see this kind called, as a heading or a search filter.
    /// Kept here beside the wire names so the web pages and the search
    /// facets (in different crates) cannot drift apart.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OrgCard => "Organisations",
            Kind::Expertise => "Experts",
            Kind::TalkOffer => "Talks",
            Kind::MentoringOffer => "Mentoring",
            Kind::CohortOffer => "Cohorts",
            Kind::Event => "Events",
            Kind::Content => "Content",
            Kind::TalkWanted => "Talks wanted",
            Kind::ImpactSummary => "Impact summaries",
            Kind::Retraction => "Retractions",
            Kind::Request => "Requests",
            Kind::Answer => "Answers",
            Kind::Kudos => "Kudos",
            Kind::FollowerCount => "Follower counts",
            Kind::QuotaNotice => "Quota notices",
        }
    }

    /// Whether records of this kind are published to every organisation
    /// (gossip and sync). Requests, answers, kudos, follower counts and
    /// quota notices travel point to point.
    pub fn is_federated(self) -> bool {
        !matches!(
            self,
            Kind::Request | Kind::Answer | Kind::Kudos | Kind::FollowerCount | Kind::QuotaNotice
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OrgCard => "org_card",
            Kind::Expertise => "expertise",
            Kind::TalkOffer => "talk_offer",
            Kind::MentoringOffer => "mentoring_offer",
            Kind::CohortOffer => "cohort_offer",
            Kind::Event => "event",
            Kind::Content => "content",
            Kind::TalkWanted => "talk_wanted",
            Kind::ImpactSummary => "impact_summary",
            Kind::Retraction => "retraction",
            Kind::Request => "request",
            Kind::Answer => "answer",
            Kind::Kudos => "kudos",
            Kind::FollowerCount => "follower_count",
            Kind::QuotaNotice => "quota_notice",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Rejection;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Rejection::UnknownKind(s.chars().take(64).collect()))
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The fields every record carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u64,
    pub org: OrgKey,
    /// Chosen by the organisation; unique among its records.
    pub id: String,
    /// Higher replaces lower for the same `(org, id)`.
    pub seq: u64,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; the record (or tombstone) is dropped after this.
    pub expires_at: i64,
}

/// One kind's body. Its own serde form, `{"kind": "...", "body": {...}}`, is
/// for local storage and APIs; the signed wire form is [`Record::to_payload`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Body {
    OrgCard(OrgCard),
    Expertise(Expertise),
    TalkOffer(TalkOffer),
    MentoringOffer(MentoringOffer),
    CohortOffer(CohortOffer),
    Event(Event),
    Content(ContentItem),
    TalkWanted(TalkWanted),
    ImpactSummary(ImpactSummary),
    Retraction(Retraction),
    Request(Request),
    Answer(Answer),
    Kudos(Kudos),
    FollowerCount(FollowerCount),
    QuotaNotice(QuotaNotice),
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::OrgCard(_) => Kind::OrgCard,
            Body::Expertise(_) => Kind::Expertise,
            Body::TalkOffer(_) => Kind::TalkOffer,
            Body::MentoringOffer(_) => Kind::MentoringOffer,
            Body::CohortOffer(_) => Kind::CohortOffer,
            Body::Event(_) => Kind::Event,
            Body::Content(_) => Kind::Content,
            Body::TalkWanted(_) => Kind::TalkWanted,
            Body::ImpactSummary(_) => Kind::ImpactSummary,
            Body::Retraction(_) => Kind::Retraction,
            Body::Request(_) => Kind::Request,
            Body::Answer(_) => Kind::Answer,
            Body::Kudos(_) => Kind::Kudos,
            Body::FollowerCount(_) => Kind::FollowerCount,
            Body::QuotaNotice(_) => Kind::QuotaNotice,
        }
    }

    /// A one-line headline for lists: the title or name it carries; for an
    /// expertise listing the person's name, else their headline, else "An
    /// expert" (the person id is opaque); for an impact summary, request,
    /// answer, kudos or retraction the kind.
    pub fn title(&self) -> String {
        match self {
            Body::TalkOffer(o) => o.title.clone(),
            Body::MentoringOffer(o) => o.title.clone(),
            Body::CohortOffer(o) => o.title.clone(),
            Body::Event(e) => e.title.clone(),
            Body::Content(c) => c.title.clone(),
            Body::TalkWanted(t) => t.title.clone(),
            Body::OrgCard(c) => c.name.clone(),
            Body::Expertise(e) => e
                .display_name
                .clone()
                .or_else(|| e.headline.clone())
                .unwrap_or_else(|| "An expert".into()),
            Body::ImpactSummary(_)
            | Body::Retraction(_)
            | Body::Request(_)
            | Body::Answer(_)
            | Body::Kudos(_)
            | Body::FollowerCount(_)
            | Body::QuotaNotice(_) => self.kind().to_string(),
        }
    }

    /// The status of a talk, mentoring or cohort offer, or of a call for
    /// a talk; `None` for every other kind (so `is_some` says "people
    /// elsewhere can send a request for this").
    pub fn offer_status(&self) -> Option<OfferStatus> {
        match self {
            Body::TalkOffer(o) => Some(o.status),
            Body::MentoringOffer(o) => Some(o.status),
            Body::CohortOffer(o) => Some(o.status),
            Body::TalkWanted(o) => Some(o.status),
            _ => None,
        }
    }

    /// Sets an offer's status; false (and nothing changed) for other kinds.
    pub fn set_offer_status(&mut self, status: OfferStatus) -> bool {
        match self {
            Body::TalkOffer(o) => o.status = status,
            Body::MentoringOffer(o) => o.status = status,
            Body::CohortOffer(o) => o.status = status,
            Body::TalkWanted(o) => o.status = status,
            _ => return false,
        }
        true
    }

    fn to_json(&self) -> Result<Box<RawValue>, serde_json::Error> {
        match self {
            Body::OrgCard(b) => serde_json::value::to_raw_value(b),
            Body::Expertise(b) => serde_json::value::to_raw_value(b),
            Body::TalkOffer(b) => serde_json::value::to_raw_value(b),
            Body::MentoringOffer(b) => serde_json::value::to_raw_value(b),
            Body::CohortOffer(b) => serde_json::value::to_raw_value(b),
            Body::Event(b) => serde_json::value::to_raw_value(b),
            Body::Content(b) => serde_json::value::to_raw_value(b),
            Body::TalkWanted(b) => serde_json::value::to_raw_value(b),
            Body::ImpactSummary(b) => serde_json::value::to_raw_value(b),
            Body::Retraction(b) => serde_json::value::to_raw_value(b),
            Body::Request(b) => serde_json::value::to_raw_value(b),
            Body::Answer(b) => serde_json::value::to_raw_value(b),
            Body::Kudos(b) => serde_json::value::to_raw_value(b),
            Body::FollowerCount(b) => serde_json::value::to_raw_value(b),
            Body::QuotaNotice(b) => serde_json::value::to_raw_value(b),
        }
    }

    fn from_json(kind: Kind, raw: &RawValue) -> Result<Body, serde_json::Error> {
        let s = raw.get();
        Ok(match kind {
            Kind::OrgCard => Body::OrgCard(serde_json::from_str(s)?),
            Kind::Expertise => Body::Expertise(serde_json::from_str(s)?),
            Kind::TalkOffer => Body::TalkOffer(serde_json::from_str(s)?),
            Kind::MentoringOffer => Body::MentoringOffer(serde_json::from_str(s)?),
            Kind::CohortOffer => Body::CohortOffer(serde_json::from_str(s)?),
            Kind::Event => Body::Event(serde_json::from_str(s)?),
            Kind::Content => Body::Content(serde_json::from_str(s)?),
            Kind::TalkWanted => Body::TalkWanted(serde_json::from_str(s)?),
            Kind::ImpactSummary => Body::ImpactSummary(serde_json::from_str(s)?),
            Kind::Retraction => Body::Retraction(serde_json::from_str(s)?),
            Kind::Request => Body::Request(serde_json::from_str(s)?),
            Kind::Answer => Body::Answer(serde_json::from_str(s)?),
            Kind::Kudos => Body::Kudos(serde_json::from_str(s)?),
            Kind::FollowerCount => Body::FollowerCount(serde_json::from_str(s)?),
            Kind::QuotaNotice => Body::QuotaNotice(serde_json::from_str(s)?),
        })
    }
}

/// A complete record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub header: Header,
    pub body: Body,
}

impl Record {
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// A tombstone for this record: same organisation and id, the next `seq`,
    /// kept until `expires_at`.
    pub fn retraction(&self, issued_at: i64, expires_at: i64, reason: Option<String>) -> Record {
        Record {
            header: Header {
                version: RECORD_VERSION,
                org: self.header.org,
                id: self.header.id.clone(),
                seq: self.header.seq.saturating_add(1),
                issued_at,
                expires_at,
            },
            body: Body::Retraction(Retraction { reason }),
        }
    }

    /// The payload bytes: one JSON object, UTF-8, with the header fields and
    /// `body`. Field order is fixed but receivers must not depend on it: they
    /// verify the bytes as received and never re-serialise.
    pub fn to_payload(&self) -> Result<Vec<u8>, Rejection> {
        let body = self
            .body
            .to_json()
            .map_err(|e| Rejection::malformed(format!("body does not serialise: {e}")))?;
        let wire = PayloadOut {
            v: self.header.version,
            kind: self.kind(),
            org: self.header.org,
            id: &self.header.id,
            seq: self.header.seq,
            issued_at: self.header.issued_at,
            expires_at: self.header.expires_at,
            body: &body,
        };
        serde_json::to_vec(&wire)
            .map_err(|e| Rejection::malformed(format!("record does not serialise: {e}")))
    }

    /// Parses payload bytes. Version and kind are checked before the rest,
    /// so that a record from a newer protocol is reported as such rather
    /// than as malformed.
    pub fn from_payload(payload: &[u8]) -> Result<Record, Rejection> {
        let tree: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| Rejection::malformed(format!("payload is not JSON: {e}")))?;
        let top = tree
            .as_object()
            .ok_or_else(|| Rejection::malformed("payload is not a JSON object"))?;
        let v = top
            .get("v")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| Rejection::malformed("v is missing or not an unsigned integer"))?;
        if v != RECORD_VERSION {
            return Err(Rejection::UnknownVersion(v));
        }
        let kind: Kind = top
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| Rejection::malformed("kind is missing or not a string"))?
            .parse()?;
        check_shape(&tree, None)?;
        let wire: PayloadIn<'_> = serde_json::from_slice(payload)
            .map_err(|e| Rejection::malformed(format!("record header: {e}")))?;
        let body = Body::from_json(kind, wire.body)
            .map_err(|e| Rejection::malformed(format!("{kind} body: {e}")))?;
        Ok(Record {
            header: Header {
                version: wire.v,
                org: wire.org,
                id: wire.id.into_owned(),
                seq: wire.seq,
                issued_at: wire.issued_at,
                expires_at: wire.expires_at,
            },
            body,
        })
    }
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    v: u64,
    kind: Kind,
    org: OrgKey,
    id: &'a str,
    seq: u64,
    issued_at: i64,
    expires_at: i64,
    body: &'a RawValue,
}

/// Fields whose value is a list. JSON arrays are allowed nowhere else and
/// never nest: this refuses payloads that spell an object as an array
/// (which serde would otherwise accept, but other parsers would not), so
/// every implementation agrees on what a payload means.
const LIST_FIELDS: [&str; 9] = [
    "languages",
    "topics",
    "formats",
    "slots",
    "schedule",
    "sessions",
    "items",
    "members",
    "contributors",
];

fn check_shape(value: &serde_json::Value, key: Option<&str>) -> Result<(), Rejection> {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            let field = key.unwrap_or("payload");
            if !LIST_FIELDS.contains(&field) {
                return Err(Rejection::malformed(format!(
                    "{field} must not be an array"
                )));
            }
            items.iter().try_for_each(|item| match item {
                Value::Array(_) => Err(Rejection::malformed(format!(
                    "{field} holds a nested array"
                ))),
                Value::Object(_) => check_shape(item, None),
                _ => Ok(()),
            })
        }
        Value::Object(map) => map.iter().try_for_each(|(k, v)| check_shape(v, Some(k))),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadIn<'a> {
    v: u64,
    #[allow(dead_code)]
    kind: String,
    org: OrgKey,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    seq: u64,
    issued_at: i64,
    expires_at: i64,
    #[serde(borrow)]
    body: &'a RawValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searchable_kinds_are_published_and_every_label_is_distinct() {
        for kind in Kind::SEARCHABLE {
            assert!(
                kind.is_federated(),
                "{kind} is searchable but not published"
            );
        }
        let mut labels: Vec<&str> = Kind::ALL.iter().map(|k| k.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Kind::ALL.len());
    }

    /// The talk kinds flatten their shared [`TalkSession`] fields into the
    /// body; the body must still refuse a field it does not know and a
    /// field given twice, in the body's part and in the session's part.
    ///
    /// [`TalkSession`]: crate::kinds::TalkSession
    #[test]
    fn talk_bodies_refuse_unknown_and_repeated_fields() {
        let org = OrgKey::from(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key());
        for kind in [Kind::TalkOffer, Kind::TalkWanted] {
            let body = crate::samples::record(org, kind).body;
            let json = body.to_json().expect("sample serialises").get().to_string();
            let inner = json.strip_suffix('}').expect("an object");
            let parse = |s: &str| {
                let raw =
                    serde_json::value::RawValue::from_string(s.to_string()).expect("valid JSON");
                Body::from_json(kind, &raw)
            };
            assert_eq!(parse(&json).expect("sample parses"), body);
            let unknown = parse(&format!("{inner},\"room\":\"B2\"}}"))
                .expect_err("an unknown field is refused");
            assert!(
                unknown.to_string().contains("unknown field `room`"),
                "{unknown}"
            );
            for repeated in ["\"title\":\"again\"", "\"duration_minutes\":60"] {
                let err = parse(&format!("{inner},{repeated}}}"))
                    .expect_err("a repeated field is refused");
                assert!(err.to_string().contains("duplicate field"), "{err}");
            }
        }
    }
}
