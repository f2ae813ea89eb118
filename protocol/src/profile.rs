//! What a person says about themselves, as their own node keeps it.
//!
//! This is not a record kind: it never travels as it is. An expertise
//! listing ([`Expertise`](crate::kinds::Expertise)) is cut from these
//! fields by the person's choices and the organisation's outbound policy,
//! which is why the type sits here, beside the listing's vocabulary
//! ([`Topic`], [`Format`], [`Availability`]). The store keeps it, the
//! application changes it and the web API serves it, each flattening it
//! into its own type, so the three share one definition.

use serde::{Deserialize, Serialize};

use crate::kinds::{Availability, Format, Topic};

/// A person's profile: every field may be empty, and a missing one reads
/// as empty. It has no `deny_unknown_fields` because it is only ever
/// flattened, and serde checks unknown fields in the type that flattens it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileDetails {
    pub headline: String,
    pub topics: Vec<Topic>,
    pub languages: Vec<String>,
    pub time_zone: Option<String>,
    pub formats: Vec<Format>,
    pub availability: Option<Availability>,
}
