//! The key layout of the node's key-value space. Every key starts with a
//! short ASCII prefix naming its table; integers are big-endian so they sort.
//!
//! | prefix     | rest of key                       | value                     |
//! |------------|-----------------------------------|---------------------------|
//! | `meta/`    | name                              | e.g. schema version; `meta/fp-all`: the accumulator of every `rec/` row; `meta/webhook-url`: the chat webhook's address |
//! | `person/`  | person id                         | JSON `Person`             |
//! | `item/`    | item id                           | JSON `OwnItem`            |
//! | `rec/`     | org key (32 bytes) + record id    | `StoredRecord` (binary)   |
//! | `orgn/`    | org key (32 bytes)                | u64 count of `rec/` rows  |
//! | `orglive/` | org key (32 bytes)                | u64 count of its rows that are not tombstones (the quota) |
//! | `seq/`     | org key (32 bytes) + record id    | seq (u64 BE) + SHA-256 of the envelope: sync index |
//! | `fp/`      | org key (32 bytes)                | fingerprint accumulator   |
//! | `peer/`    | org key (32 bytes)                | JSON `PeerEntry`: addresses of its node |
//! | `exp/`     | expires_at (i64 BE) + org + id    | empty: expiry index       |
//! | `orglist/` | org key (32 bytes)                | JSON: allowed or blocked  |
//! | `join/`    | org key (32 bytes)                | JSON `JoinRequest`        |
//! | `refused/` | org key (32 bytes) + reason code  | JSON `PolicyRefusal`: records refused by policy |
//! | `qnotice/` | org key (32 bytes) of the partner | JSON `QuotaNotice`: our record it refused for quota |
//! | `outbox/`  | request id                        | JSON `OutboxEntry`        |
//! | `inbox/`   | org key (32 bytes) + request id   | JSON `InboxEntry`         |
//! | `inown/`   | owner + 0x00 + org key + request id | empty: inbox by owner (see `owners`) |
//! | `inoffer/` | offer id + 0x00 + org key + request id | empty: inbox by offer (see `owners`) |
//! | `outreq/`  | requester + 0x00 + request id     | empty: outbox by requester |
//! | `itemown/` | owner + 0x00 + item id            | empty: items by owner     |
//! | `audit/`   | at (i64 BE) + counter (u64 BE)    | JSON `AuditEntry`         |
//! | `audact/`  | action + `/` + the `audit/` tail  | empty: audit by action    |
//! | `account/` | username                          | JSON `Account`            |
//! | `tok/`     | SHA-256 of an API token (hex)     | JSON `ApiToken`           |
//! | `tokown/`  | username + 0x00 + SHA-256 (hex)   | empty: API tokens by person |
//! | `sess/`    | SHA-256 of a session token (hex)  | JSON `StoredSession`      |
//! | `sessown/` | username + 0x00 + SHA-256 (hex)   | empty: sessions by person |
//! | `notif/`   | person id + 0x00 + notification id | JSON `Notification`      |
//! | `notifnew/` | person id + 0x00 + notification id | empty: the unread ones  |
//! | `mail/`    | mail id (time, then random)       | JSON `OutgoingMail`: waiting to be sent |
//! | `hook/`    | message id (16 hex digits, growing) | JSON `WebhookMessage`: waiting to be posted to the chat webhook |
//! | `ctok/`    | SHA-256 of a calendar token (hex) | username                  |
//! | `rejn/`    | rejection reason code             | u64 count of rejections   |
//! | `goal/`    | person id                         | JSON `Goals` (private)    |
//! | `fb/`      | request id (our outbox)           | JSON `Feedback` (private) |
//! | `fcsent/`  | list org (hex) `/` list id        | JSON `SentCount`          |
//! | `fcrecv/`  | list id `/` sending org (hex)     | JSON `ReceivedCount`      |
//! | `orgseen/` | org key (32 bytes)                | u64 BE: first seen (unix s) |

use skillmesh_protocol::OrgKey;

pub const META_SCHEMA: &[u8] = b"meta/schema";
pub const META_OUTBOUND: &[u8] = b"meta/outbound-policy";
/// The federation mode an admin chose at runtime; wins over the config.
pub const META_FEDERATION_MODE: &[u8] = b"meta/federation-mode";
/// The chat webhook's address, as an admin set it (see `webhook`).
pub const META_WEBHOOK_URL: &[u8] = b"meta/webhook-url";
pub const PERSON: &[u8] = b"person/";
pub const ITEM: &[u8] = b"item/";
pub const REC: &[u8] = b"rec/";
pub const ORG_COUNT: &[u8] = b"orgn/";
/// Per organisation: how many of its rows are live records (not
/// tombstones): what its quota counts.
pub const ORG_LIVE: &[u8] = b"orglive/";
pub const EXPIRY: &[u8] = b"exp/";
pub const SEQ: &[u8] = b"seq/";
/// Per organisation: the reconciliation accumulator (sum and count) of its
/// `(org, id, seq)` rows (see `skillmesh_protocol::fingerprint`).
pub const FINGERPRINT: &[u8] = b"fp/";
/// The accumulator of every row held.
pub const META_FINGERPRINT_ALL: &[u8] = b"meta/fp-all";
pub const PEER: &[u8] = b"peer/";
pub const ORG_LIST: &[u8] = b"orglist/";
pub const OUTBOX: &[u8] = b"outbox/";
pub const JOIN: &[u8] = b"join/";
/// Records refused by inbound policy, counted per organisation and reason.
pub const POLICY_REFUSALS: &[u8] = b"refused/";
/// The latest quota notice from each partner (our record it refused).
pub const QUOTA_NOTICE: &[u8] = b"qnotice/";
pub const INBOX: &[u8] = b"inbox/";
/// Per-owner index rows (see `owners`).
pub const INBOX_BY_OWNER: &[u8] = b"inown/";
/// The inbox by the offer asked for: who holds a seat, how full it is.
pub const INBOX_BY_OFFER: &[u8] = b"inoffer/";
pub const OUTBOX_BY_REQUESTER: &[u8] = b"outreq/";
pub const ITEM_BY_OWNER: &[u8] = b"itemown/";
pub const AUDIT: &[u8] = b"audit/";
pub const AUDIT_BY_ACTION: &[u8] = b"audact/";
pub const ACCOUNT: &[u8] = b"account/";
pub const TOKEN: &[u8] = b"tok/";
pub const CALENDAR_TOKEN: &[u8] = b"ctok/";
pub const API_TOKEN_BY_USER: &[u8] = b"tokown/";
pub const SESSION: &[u8] = b"sess/";
pub const SESSION_BY_USER: &[u8] = b"sessown/";
pub const ACCESS_LINK: &[u8] = b"alink/";
pub const ACCESS_LINK_BY_USER: &[u8] = b"alinkown/";
pub const NOTIFICATION: &[u8] = b"notif/";
pub const UNREAD_NOTIFICATION: &[u8] = b"notifnew/";
pub const MAIL: &[u8] = b"mail/";
/// Messages waiting for the chat webhook, oldest first (see `webhook`).
pub const WEBHOOK: &[u8] = b"hook/";
pub const REJECTIONS: &[u8] = b"rejn/";
pub const GOAL: &[u8] = b"goal/";
pub const FEEDBACK: &[u8] = b"fb/";
pub const FOLLOW: &[u8] = b"follow/";
pub const RECOMMENDATION: &[u8] = b"reco/";
pub const OBSERVATION: &[u8] = b"obs/";
pub const FOLLOWERS_SENT: &[u8] = b"fcsent/";
pub const FOLLOWERS_RECEIVED: &[u8] = b"fcrecv/";
/// When each other organisation was first seen (see `orgs_seen`).
pub const ORGS_SEEN: &[u8] = b"orgseen/";

pub fn join(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub fn person(id: &str) -> Vec<u8> {
    join(PERSON, &[id.as_bytes()])
}

pub fn item(id: &str) -> Vec<u8> {
    join(ITEM, &[id.as_bytes()])
}

pub fn account(username: &str) -> Vec<u8> {
    join(ACCOUNT, &[username.as_bytes()])
}

pub fn token(sha256_hex: &str) -> Vec<u8> {
    join(TOKEN, &[sha256_hex.as_bytes()])
}

pub fn calendar_token(sha256_hex: &str) -> Vec<u8> {
    join(CALENDAR_TOKEN, &[sha256_hex.as_bytes()])
}

/// `tokown/` row of `username`'s token; with an empty `sha256_hex`, the
/// prefix of all of theirs.
pub fn api_token_by_user(username: &str, sha256_hex: &str) -> Vec<u8> {
    join(
        API_TOKEN_BY_USER,
        &[username.as_bytes(), b"\0", sha256_hex.as_bytes()],
    )
}

/// `person`'s notification `id`; with an empty `id`, the prefix of all
/// of theirs.
pub fn notification(person: &str, id: &str) -> Vec<u8> {
    join(NOTIFICATION, &[person.as_bytes(), b"\0", id.as_bytes()])
}

/// `person`'s unread notification `id`; with an empty `id`, the prefix
/// of all of theirs.
pub fn unread_notification(person: &str, id: &str) -> Vec<u8> {
    join(
        UNREAD_NOTIFICATION,
        &[person.as_bytes(), b"\0", id.as_bytes()],
    )
}

pub fn mail(id: &str) -> Vec<u8> {
    join(MAIL, &[id.as_bytes()])
}

pub fn webhook(id: &str) -> Vec<u8> {
    join(WEBHOOK, &[id.as_bytes()])
}

pub fn session(sha256_hex: &str) -> Vec<u8> {
    join(SESSION, &[sha256_hex.as_bytes()])
}

/// `sessown/` row of `username`'s session; with an empty `sha256_hex`,
/// the prefix of all of theirs.
pub fn session_by_user(username: &str, sha256_hex: &str) -> Vec<u8> {
    join(
        SESSION_BY_USER,
        &[username.as_bytes(), b"\0", sha256_hex.as_bytes()],
    )
}

pub fn access_link(sha256_hex: &str) -> Vec<u8> {
    join(ACCESS_LINK, &[sha256_hex.as_bytes()])
}

/// `alinkown/` row of `username`'s link; with an empty `sha256_hex`, the
/// prefix of all of theirs.
pub fn access_link_by_user(username: &str, sha256_hex: &str) -> Vec<u8> {
    join(
        ACCESS_LINK_BY_USER,
        &[username.as_bytes(), b"\0", sha256_hex.as_bytes()],
    )
}

pub fn rejections(code: &str) -> Vec<u8> {
    join(REJECTIONS, &[code.as_bytes()])
}

pub fn rec(org: &OrgKey, id: &str) -> Vec<u8> {
    join(REC, &[org.as_bytes(), id.as_bytes()])
}

pub fn rec_org_prefix(org: &OrgKey) -> Vec<u8> {
    join(REC, &[org.as_bytes()])
}

pub fn seq(org: &OrgKey, id: &str) -> Vec<u8> {
    join(SEQ, &[org.as_bytes(), id.as_bytes()])
}

pub fn seq_org_prefix(org: &OrgKey) -> Vec<u8> {
    join(SEQ, &[org.as_bytes()])
}

pub fn peer(org: &OrgKey) -> Vec<u8> {
    join(PEER, &[org.as_bytes()])
}

pub fn fingerprint(org: &OrgKey) -> Vec<u8> {
    join(FINGERPRINT, &[org.as_bytes()])
}

pub fn org_count(org: &OrgKey) -> Vec<u8> {
    join(ORG_COUNT, &[org.as_bytes()])
}

pub fn org_live(org: &OrgKey) -> Vec<u8> {
    join(ORG_LIVE, &[org.as_bytes()])
}

/// Expiry keys sort by time, so purging expired rows is a range scan.
/// Negative times never occur (validation refuses them); they clamp to 0.
pub fn expiry(expires_at: i64, org: &OrgKey, id: &str) -> Vec<u8> {
    let t = u64::try_from(expires_at).unwrap_or(0).to_be_bytes();
    join(EXPIRY, &[&t, org.as_bytes(), id.as_bytes()])
}

pub fn expiry_upto(at: i64) -> Vec<u8> {
    let t = u64::try_from(at).unwrap_or(0).to_be_bytes();
    join(EXPIRY, &[&t])
}

pub fn audit(at: i64, counter: u64) -> Vec<u8> {
    let t = u64::try_from(at).unwrap_or(0).to_be_bytes();
    join(AUDIT, &[&t, &counter.to_be_bytes()])
}

/// The keys of one action in the audit-by-action index: `audact/<action>/`.
/// Action codes are `[a-z0-9_]`, so the `/` ends the code.
pub fn audit_action_prefix(action: &str) -> Vec<u8> {
    join(AUDIT_BY_ACTION, &[action.as_bytes(), b"/"])
}

/// The index key of the audit entry stored under `audit_key` (an `audit/`
/// key), whose action is `action`.
pub fn audit_by_action(action: &str, audit_key: &[u8]) -> Vec<u8> {
    let tail = audit_key.strip_prefix(AUDIT).unwrap_or(audit_key);
    join(AUDIT_BY_ACTION, &[action.as_bytes(), b"/", tail])
}

/// Splits a `rec/` key into organisation and record id.
pub fn split_rec(key: &[u8]) -> Option<(OrgKey, String)> {
    split_org_id(REC, key)
}

/// Splits a `seq/` key into organisation and record id.
pub fn split_seq(key: &[u8]) -> Option<(OrgKey, String)> {
    split_org_id(SEQ, key)
}

/// Splits `prefix`, 32 bytes of organisation key, record id.
fn split_org_id(prefix: &[u8], key: &[u8]) -> Option<(OrgKey, String)> {
    let rest = key.strip_prefix(prefix)?;
    let org: [u8; 32] = rest.get(..32)?.try_into().ok()?;
    let id = String::from_utf8(rest[32..].to_vec()).ok()?;
    Some((OrgKey::from_bytes(org), id))
}

/// Splits an `exp/` key into time, organisation and record id.
pub fn split_expiry(key: &[u8]) -> Option<(i64, OrgKey, String)> {
    let rest = key.strip_prefix(EXPIRY)?;
    if rest.len() < 40 {
        return None;
    }
    let (t, rest) = rest.split_at(8);
    let (org, id) = rest.split_at(32);
    let mut tb = [0u8; 8];
    tb.copy_from_slice(t);
    let mut o = [0u8; 32];
    o.copy_from_slice(org);
    Some((
        i64::try_from(u64::from_be_bytes(tb)).ok()?,
        OrgKey::from_bytes(o),
        String::from_utf8(id.to_vec()).ok()?,
    ))
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

/// A `seq/` index value: `seq` (u64 BE) then the envelope's digest.
pub fn seq_value(seq: u64, digest: &[u8; 32]) -> Vec<u8> {
    let mut v = Vec::with_capacity(40);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(digest);
    v
}

/// Reads a `seq/` index value; `None` unless it is 40 bytes.
pub fn split_seq_value(v: &[u8]) -> Option<(u64, [u8; 32])> {
    if v.len() != 40 {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&v[..8]);
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&v[8..]);
    Some((u64::from_be_bytes(seq), digest))
}

pub fn u64_value(v: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    if v.len() == 8 {
        b.copy_from_slice(v);
    }
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_seq_keys_split_back_into_organisation_and_id() {
        let org = OrgKey::from_bytes([7; 32]);
        assert_eq!(
            split_rec(&rec(&org, "offer-1")),
            Some((org, "offer-1".into()))
        );
        assert_eq!(
            split_seq(&seq(&org, "offer-1")),
            Some((org, "offer-1".into()))
        );
        // The wrong table, a key too short for an organisation, an id that
        // is not UTF-8: no split.
        assert_eq!(split_rec(&seq(&org, "offer-1")), None);
        assert_eq!(split_seq(&[SEQ, &[1u8; 31][..]].concat()), None);
        assert_eq!(
            split_rec(&[REC, &[1u8; 32][..], &[0xff][..]].concat()),
            None
        );
    }
}
