//! Bounds on everything a record may carry. A node refuses, with a typed
//! reason, any record that exceeds one of them; see docs/PROTOCOL.md §Bounds.

/// Largest envelope accepted from anywhere, header and signature included.
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;
/// Record ids: 1 to 64 bytes of `[A-Za-z0-9._-]`.
pub const MAX_ID_BYTES: usize = 64;
/// Names, titles, headlines and other one-line text.
pub const MAX_TITLE_BYTES: usize = 200;
/// Descriptions, goals, abstracts and other multi-line text.
pub const MAX_TEXT_BYTES: usize = 4000;
/// Topic names.
pub const MAX_TOPIC_BYTES: usize = 64;
/// Links (http and https only).
pub const MAX_URL_BYTES: usize = 2000;
/// Lists of topics, languages, formats and the like.
pub const MAX_LIST_LEN: usize = 32;
/// Sessions in an event or a cohort schedule, entries in a curated list.
pub const MAX_SESSIONS: usize = 64;
/// How far in the future `issued_at` may lie, to allow for clock skew.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// A node forwards (relays) a record only while its times are this far
/// inside the bounds: not issued more than this after the node's now, and
/// expiring more than this after it. Half the allowed skew, so that a node
/// whose clock is up to this much behind or ahead of the relay's accepts
/// whatever the relay forwards.
pub const RELAY_MARGIN_SECS: i64 = MAX_CLOCK_SKEW_SECS / 2;
/// Longest allowed `expires_at - issued_at`.
pub const MAX_LIFETIME_SECS: i64 = 400 * 24 * 3600;
/// Largest `seq`: 2^53 - 1, so that the number survives JSON parsers that
/// read every number as an IEEE double.
pub const MAX_SEQ: u64 = (1 << 53) - 1;
/// Smallest and largest cohort.
pub const COHORT_MIN_SEATS: u8 = 5;
pub const COHORT_MAX_SEATS: u8 = 15;
/// Longest kudos message.
pub const MAX_KUDOS_BYTES: usize = 1000;
/// Most followers one `follower_count` may report (an organisation's
/// people, with room to spare).
pub const MAX_FOLLOWERS: u32 = 1_000_000;
/// Fewest feedback forms behind an average in a published impact summary:
/// below it, an average could give away what one person said.
pub const MIN_FEEDBACK_TO_PUBLISH: u32 = 5;
