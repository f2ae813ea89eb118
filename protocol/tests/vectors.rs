//! Re-checks every case in `protocol/testdata/vectors.json`, and that the
//! file is exactly what this crate generates today (so the expectations in
//! it cannot drift from the code).
//!
//! Regenerate after a deliberate format change with
//! `REGENERATE_VECTORS=1 cargo test -p skillmesh-protocol --test vectors`.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use skillmesh_protocol::envelope::{ENVELOPE_FORMAT, HEADER_LEN, MAGIC};
use skillmesh_protocol::kinds::Topic;
use skillmesh_protocol::limits::{MAX_ENVELOPE_BYTES, MAX_LIFETIME_SECS};
use skillmesh_protocol::samples::{self, SAMPLE_TIME};
use skillmesh_protocol::{Body, Kind, OrgKey, Record, open, seal, signed_bytes, split};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/vectors.json");

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Case {
    name: String,
    description: String,
    /// The signer key carried in the envelope (bytes 4..36).
    public_key: String,
    /// DOMAIN || payload: the exact bytes the signature covers.
    signed_bytes: String,
    signature: String,
    /// The bytes on the wire.
    envelope: String,
    /// Unix seconds to validate at.
    now: i64,
    expect: String,
}

fn org_key() -> SigningKey {
    SigningKey::from_bytes(&[0x11; 32])
}

fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[0x22; 32])
}

fn org_of(key: &SigningKey) -> OrgKey {
    OrgKey::from(&key.verifying_key())
}

/// Frames `payload` by hand: `carried` goes in the signer field, `signing`
/// makes the signature. Lets us build envelopes `seal` would refuse to.
fn frame(
    carried: &SigningKey,
    signing: &SigningKey,
    payload: &[u8],
) -> (Vec<u8>, Vec<u8>, [u8; 64]) {
    let covered = signed_bytes(payload);
    let sig = signing.sign(&covered).to_bytes();
    let mut env = Vec::new();
    env.extend_from_slice(MAGIC);
    env.push(ENVELOPE_FORMAT);
    env.extend_from_slice(carried.verifying_key().as_bytes());
    env.extend_from_slice(&sig);
    env.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    env.extend_from_slice(payload);
    (env, covered, sig)
}

fn case(
    name: &str,
    description: &str,
    env: &[u8],
    covered: &[u8],
    sig: &[u8],
    now: i64,
    expect: &str,
) -> Case {
    Case {
        name: name.into(),
        description: description.into(),
        public_key: hex::encode(&env[4..36.min(env.len())]),
        signed_bytes: hex::encode(covered),
        signature: hex::encode(sig),
        envelope: hex::encode(env),
        now,
        expect: expect.into(),
    }
}

fn payload_of(record: &Record) -> Vec<u8> {
    record.to_payload().expect("sample serialises")
}

fn generate() -> Vec<Case> {
    let key = org_key();
    let org = org_of(&key);
    let now = SAMPLE_TIME + 3600;
    let mut cases = Vec::new();

    for kind in Kind::ALL {
        let record = samples::record(org, kind);
        let env = seal(&record, &key).expect("sample seals");
        let parts = split(env.as_bytes()).expect("sample splits");
        cases.push(case(
            &format!("valid_{kind}"),
            &format!("a well-formed {kind} record"),
            env.as_bytes(),
            &signed_bytes(parts.payload),
            &parts.signature,
            now,
            "valid",
        ));
    }

    let good = payload_of(&samples::record(org, Kind::Expertise));
    let (env, covered, sig) = frame(&key, &key, &good);

    let mut tampered = env.clone();
    let at = HEADER_LEN + good.len() / 2;
    tampered[at] ^= 0x01;
    cases.push(case(
        "tampered_payload",
        "one payload bit flipped after signing",
        &tampered,
        &covered,
        &sig,
        now,
        "bad_signature",
    ));

    let mut bad_sig = env.clone();
    bad_sig[40] ^= 0x80;
    cases.push(case(
        "tampered_signature",
        "one signature bit flipped",
        &bad_sig,
        &covered,
        &sig,
        now,
        "bad_signature",
    ));

    let (forged, fcovered, fsig) = frame(&key, &other_key(), &good);
    cases.push(case(
        "forged_signer",
        "envelope names the organisation's key but another key signed",
        &forged,
        &fcovered,
        &fsig,
        now,
        "bad_signature",
    ));

    let (wrong, wcovered, wsig) = frame(&other_key(), &other_key(), &good);
    cases.push(case(
        "wrong_key",
        "validly signed by another key than the organisation the record names",
        &wrong,
        &wcovered,
        &wsig,
        now,
        "wrong_key",
    ));

    cases.push(case(
        "truncated_payload",
        "last 10 bytes missing",
        &env[..env.len() - 10],
        &covered,
        &sig,
        now,
        "truncated",
    ));
    cases.push(case(
        "truncated_header",
        "cut inside the signature",
        &env[..60],
        &covered,
        &sig,
        now,
        "truncated",
    ));

    let mut trailing = env.clone();
    trailing.extend_from_slice(b"xx");
    cases.push(case(
        "trailing_bytes",
        "two bytes after the declared payload",
        &trailing,
        &covered,
        &sig,
        now,
        "malformed",
    ));

    let mut long = samples::record(org, Kind::Expertise);
    if let Body::Expertise(e) = &mut long.body {
        e.headline = Some("h".repeat(300));
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&long));
    cases.push(case(
        "oversize_field",
        "headline of 300 bytes (max 200)",
        &e,
        &c,
        &s,
        now,
        "oversize",
    ));

    let mut many = samples::record(org, Kind::Expertise);
    if let Body::Expertise(e) = &mut many.body {
        e.topics = (0..33)
            .map(|i| Topic {
                name: format!("topic {i}"),
                level: skillmesh_protocol::kinds::Level::Beginner,
            })
            .collect();
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&many));
    cases.push(case(
        "oversize_list",
        "33 topics (max 32)",
        &e,
        &c,
        &s,
        now,
        "oversize",
    ));

    let mut huge = samples::record(org, Kind::Event);
    if let Body::Event(ev) = &mut huge.body {
        let session = ev.sessions[0].clone();
        ev.sessions = vec![session; 400];
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&huge));
    assert!(e.len() > MAX_ENVELOPE_BYTES);
    cases.push(case(
        "oversize_envelope",
        "an envelope over 65536 bytes",
        &e,
        &c,
        &s,
        now,
        "oversize",
    ));

    let (e, c, s) = frame(&key, &key, &good);
    cases.push(case(
        "expired",
        "validated a day after expires_at",
        &e,
        &c,
        &s,
        SAMPLE_TIME + samples::SAMPLE_LIFETIME + 86_400,
        "expired",
    ));
    cases.push(case(
        "future_dated",
        "validated an hour before issued_at (skew allowed: 300 s)",
        &e,
        &c,
        &s,
        SAMPLE_TIME - 3600,
        "future_dated",
    ));

    let mut immortal = samples::record(org, Kind::Expertise);
    immortal.header.expires_at = immortal.header.issued_at + MAX_LIFETIME_SECS + 1;
    let (e, c, s) = frame(&key, &key, &payload_of(&immortal));
    cases.push(case(
        "lifetime_too_long",
        "expires one second past the maximum lifetime",
        &e,
        &c,
        &s,
        now,
        "lifetime_too_long",
    ));

    let text = String::from_utf8(good.clone()).expect("utf-8");
    let v2 = text.replacen("{\"v\":1,", "{\"v\":2,", 1);
    let (e, c, s) = frame(&key, &key, v2.as_bytes());
    cases.push(case(
        "unknown_version",
        "record version 2",
        &e,
        &c,
        &s,
        now,
        "unknown_version",
    ));

    let poll = text.replacen("\"kind\":\"expertise\"", "\"kind\":\"poll\"", 1);
    let (e, c, s) = frame(&key, &key, poll.as_bytes());
    cases.push(case(
        "unknown_kind",
        "kind \"poll\"",
        &e,
        &c,
        &s,
        now,
        "unknown_kind",
    ));

    let mut format2 = env.clone();
    format2[3] = 2;
    cases.push(case(
        "unknown_envelope_format",
        "envelope format byte 2",
        &format2,
        &covered,
        &sig,
        now,
        "unknown_version",
    ));

    let mut js = samples::record(org, Kind::Content);
    if let Body::Content(c) = &mut js.body {
        c.url = Some("javascript:alert(1)".into());
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&js));
    cases.push(case(
        "javascript_link",
        "content link with the javascript: scheme",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let mut big_cohort = samples::record(org, Kind::CohortOffer);
    if let Body::CohortOffer(c) = &mut big_cohort.body {
        c.seats_total = 20;
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&big_cohort));
    cases.push(case(
        "cohort_too_large",
        "a cohort of 20 seats (5 to 15 allowed)",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let mut many_followers = samples::record(org, Kind::FollowerCount);
    if let Body::FollowerCount(c) = &mut many_followers.body {
        c.followers = 1_000_001;
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&many_followers));
    cases.push(case(
        "follower_count_too_large",
        "a follower count of 1,000,001 (at most 1,000,000)",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let dup = text.replacen("{\"v\":1,", "{\"v\":1,\"seq\":9,", 1);
    let (e, c, s) = frame(&key, &key, dup.as_bytes());
    cases.push(case(
        "duplicate_field",
        "seq given twice",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let retraction = payload_of(&samples::record(org, Kind::Retraction));
    let text_r = String::from_utf8(retraction).expect("utf-8");
    let start = text_r.find("\"body\":").expect("body key");
    let as_array = format!("{}\"body\":[\"offer closed\"]}}", &text_r[..start]);
    let (e, c, s) = frame(&key, &key, as_array.as_bytes());
    cases.push(case(
        "body_as_array",
        "a body spelled as a JSON array instead of an object",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let mut rlo = samples::record(org, Kind::Expertise);
    if let Body::Expertise(e) = &mut rlo.body {
        e.display_name = Some("Tom\u{202E}sámoT".into());
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&rlo));
    cases.push(case(
        "direction_override",
        "a display name with a right-to-left override (U+202E)",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    let mut leaky = samples::record(org, Kind::Answer);
    if let Body::Answer(a) = &mut leaky.body {
        a.decision = skillmesh_protocol::kinds::Decision::Declined;
    }
    let (e, c, s) = frame(&key, &key, &payload_of(&leaky));
    cases.push(case(
        "contact_with_decline",
        "an answer that declines but carries contact details",
        &e,
        &c,
        &s,
        now,
        "malformed",
    ));

    // S + L: the same signature with a non-reduced scalar. Strict
    // verification (and RFC 8032) refuses it.
    let mut malleable = env.clone();
    add_group_order(&mut malleable[68..100]);
    cases.push(case(
        "non_canonical_signature",
        "signature scalar S replaced by S + L",
        &malleable,
        &covered,
        &sig,
        now,
        "bad_signature",
    ));

    cases
}

/// Adds the ed25519 group order L to a 32-byte little-endian scalar.
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = sum as u8;
        carry = sum >> 8;
    }
}

fn render(cases: &[Case]) -> String {
    let mut out = serde_json::to_string_pretty(cases).expect("vectors serialise");
    out.push('\n');
    out
}

#[test]
fn vectors_file_matches_generator() {
    let generated = render(&generate());
    if std::env::var_os("REGENERATE_VECTORS").is_some() {
        std::fs::write(PATH, &generated).expect("write vectors");
    }
    let on_disk = std::fs::read_to_string(PATH).expect("vectors.json exists");
    assert!(
        on_disk == generated,
        "vectors.json is stale: regenerate it (see this file's doc)"
    );
}

#[test]
fn every_vector_checks_out() {
    let text = std::fs::read_to_string(PATH).expect("vectors.json exists");
    let cases: Vec<Case> = serde_json::from_str(&text).expect("vectors.json parses");
    assert!(cases.len() >= 12);
    for kind in Kind::ALL {
        assert!(
            cases
                .iter()
                .any(|c| c.name == format!("valid_{kind}") && c.expect == "valid")
        );
    }
    for c in &cases {
        let env = hex::decode(&c.envelope).expect("hex");
        let got = match open(&env, c.now) {
            Ok(record) => {
                // A valid envelope's parts are exactly what the case says.
                assert_eq!(hex::encode(&env[4..36]), c.public_key, "{}", c.name);
                assert_eq!(hex::encode(&env[36..100]), c.signature, "{}", c.name);
                let covered = signed_bytes(&env[HEADER_LEN..]);
                assert_eq!(hex::encode(covered), c.signed_bytes, "{}", c.name);
                assert_eq!(record.header.org.to_hex(), c.public_key, "{}", c.name);
                "valid".to_string()
            }
            Err(reason) => reason.code().to_string(),
        };
        assert_eq!(got, c.expect, "case {}", c.name);
    }
}
