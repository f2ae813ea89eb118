//! The organisation's own people and their profiles. Each profile field has
//! its own "may leave the organisation" switch, all off by default.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::profile::ProfileDetails;

use super::{Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

/// Which profile fields the person allows to leave the organisation.
/// Everything is off until the person switches it on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sharing {
    pub display_name: bool,
    pub headline: bool,
    pub topics: bool,
    pub languages: bool,
    pub time_zone: bool,
    pub formats: bool,
    pub availability: bool,
    pub email: bool,
    /// The person's recognition figures, signed on their listing.
    pub recognition: bool,
}

impl Sharing {
    pub fn any(&self) -> bool {
        let Sharing {
            display_name,
            headline,
            topics,
            languages,
            time_zone,
            formats,
            availability,
            email,
            recognition,
        } = *self;
        display_name
            || headline
            || topics
            || languages
            || time_zone
            || formats
            || availability
            || email
            || recognition
    }

    /// Everything but email and recognition: what a person who opts in
    /// to "share my listing" typically chooses (and the outbound policy
    /// at first: publishing recognition is the organisation's choice).
    pub fn listing() -> Sharing {
        Sharing {
            display_name: true,
            headline: true,
            topics: true,
            languages: true,
            time_zone: true,
            formats: true,
            availability: true,
            email: false,
            recognition: false,
        }
    }
}

/// A person of this organisation and their profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Stable and opaque; the only field that always leaves with a listing.
    pub id: String,
    pub display_name: String,
    pub email: String,
    /// What they say about themselves; stored flat, as its fields.
    #[serde(flatten)]
    pub profile: ProfileDetails,
    #[serde(default)]
    pub sharing: Sharing,
    /// A changed listing waits for an admin's approval.
    #[serde(default)]
    pub listing_pending: bool,
    /// Whether and how often they take questions from people of other
    /// organisations (through their listing).
    #[serde(default)]
    pub questions: Questions,
    /// How they want to be mailed about each kind of notification; a
    /// kind left out is mailed at once.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mail: std::collections::BTreeMap<crate::NotificationKind, MailChoice>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a person wants to be mailed about one kind of notification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailChoice {
    #[default]
    Immediately,
    Digest,
    Never,
}

/// Whether a person takes questions from people of other organisations
/// through their listing, and how many in 30 days at most. Open, four in
/// 30 days, unless they say otherwise: a listing is there to be found,
/// and a question releases nothing of theirs until they accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questions {
    pub open: bool,
    pub per_month: u8,
}

impl Default for Questions {
    fn default() -> Questions {
        Questions {
            open: true,
            per_month: 4,
        }
    }
}

impl Person {
    /// A person with an empty profile that shares nothing.
    pub fn new(id: &str, display_name: &str, email: &str, now: i64) -> Person {
        Person {
            id: id.to_string(),
            display_name: display_name.to_string(),
            email: email.to_string(),
            profile: ProfileDetails::default(),
            sharing: Sharing::default(),
            listing_pending: false,
            questions: Questions::default(),
            mail: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }
}

impl Store {
    /// Adds a new person; refuses an id that exists.
    pub fn add_person(&self, person: &Person) -> Result<()> {
        let _guard = self.lock();
        let key = keys::person(&person.id);
        if self.kv.get(&key)?.is_some() {
            return Err(StoreError::AlreadyExists(format!("person {}", person.id)));
        }
        let mut b = Batch::new();
        b.put(key, encode_json(person));
        self.commit(b)
    }

    /// Replaces an existing person's profile.
    pub fn update_person(&self, person: &Person) -> Result<()> {
        let _guard = self.lock();
        let key = keys::person(&person.id);
        if self.kv.get(&key)?.is_none() {
            return Err(StoreError::NotFound(format!("person {}", person.id)));
        }
        let mut b = Batch::new();
        b.put(key, encode_json(person));
        self.commit(b)
    }

    pub fn person(&self, id: &str) -> Result<Option<Person>> {
        self.get_json(&keys::person(id))
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.scan_json(keys::PERSON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skillmesh_protocol::kinds::{Format, Level, Topic};

    /// The profile is a field of `Person` in Rust but not on disk: a
    /// person stored before it was one reads back, and is written back
    /// with the same flat keys.
    #[test]
    fn a_person_is_stored_with_its_profile_fields_flat() {
        let stored = br#"{"id":"p-ana","display_name":"Ana","email":"ana@example.org","headline":"SRE","topics":[{"name":"Kubernetes","level":"expert"}],"languages":["pt"],"time_zone":"Europe/Lisbon","formats":["mentoring"],"availability":null,"sharing":{"display_name":true},"listing_pending":true,"created_at":1,"updated_at":2}"#;
        let person: Person = crate::decode_json(b"person/p-ana", stored).expect("decodes");
        assert_eq!(person.profile.headline, "SRE");
        assert_eq!(
            person.profile.topics,
            vec![Topic {
                name: "Kubernetes".into(),
                level: Level::Expert
            }]
        );
        assert_eq!(person.profile.formats, vec![Format::Mentoring]);
        assert_eq!(person.profile.time_zone.as_deref(), Some("Europe/Lisbon"));
        assert!(person.sharing.display_name && person.listing_pending);

        let written: serde_json::Value =
            serde_json::from_slice(&encode_json(&person)).expect("JSON");
        let stored: serde_json::Value = serde_json::from_slice(stored).expect("JSON");
        for field in ["headline", "topics", "languages", "time_zone", "formats"] {
            assert_eq!(written[field], stored[field], "{field}");
        }
        assert!(written.get("profile").is_none());

        let sparse = br#"{"id":"p-bo","display_name":"Bo","email":"bo@example.org","created_at":1,"updated_at":1}"#;
        let person: Person = crate::decode_json(b"person/p-bo", sparse).expect("decodes");
        assert_eq!(person.profile, ProfileDetails::default());
    }
}
