//! What the web pages and the API show, assembled from the service's
//! answers (called on blocking threads).

use super::*;
use crate::store::{PolicyRefusal, QuotaNotice};

pub(super) fn web_user(svc: &Service, account: &Account) -> ApiResult<User> {
    let name = match &account.person_id {
        Some(id) => svc.person_display_name(id)?,
        None => None,
    };
    Ok(User {
        username: account.username.clone(),
        role: role_to_web(account.role),
        person_id: account.person_id.clone().unwrap_or_default(),
        display_name: name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| account.username.clone()),
        deactivated: account.deactivated_at.is_some(),
    })
}

/// The caller's own profile page (`person` is theirs).
pub(super) fn web_profile(svc: &Service, caller: &Caller, person: Person) -> ApiResult<Profile> {
    let policy = svc.outbound_policy()?;
    let preview = svc.listing_of(&person)?;
    let recognition = svc.recognition(&person.id).map_err(store_error)?;
    let mut kudos: Vec<KudosNote> = Vec::new();
    for e in svc.own_inbox(caller)? {
        if let Some(k) = e.kudos {
            kudos.push(KudosNote {
                from_name: k.from_name,
                from_org_name: svc.org_display_name(&e.from_org),
                from_org_fingerprint: e.from_org.fingerprint(),
                offer_title: own_title(svc, &e.offer_id)?,
                message: k.message,
                at: k.at,
            });
        }
    }
    kudos.sort_by_key(|k| std::cmp::Reverse(k.at));
    Ok(Profile {
        kudos,
        preview,
        recognition,
        pending_approval: person.listing_pending,
        sharing: sharing_to_fields(person.sharing),
        policy: sharing_to_fields(policy.fields),
        person_id: person.id,
        display_name: person.display_name,
        email: person.email,
        profile: person.profile,
        questions: questions_to_web(person.questions),
    })
}

pub(super) fn outbox_item(svc: &Service, e: OutboxEntry) -> OutboxItem {
    OutboxItem {
        offer_org_name: svc.org_display_name(&e.offer_org),
        offer_org_fingerprint: e.offer_org.fingerprint(),
        // A store error here only hides the "feedback given" mark.
        feedback_given: svc.feedback_given(&e.id).unwrap_or(false),
        contribution: e.changes_programme(),
        kudos_welcome: kudos_welcome(&e),
        kudos_refused: e.kudos.as_ref().and_then(|k| k.refused.clone()),
        kudos: e.kudos.map(|k| k.message),
        id: e.id,
        offer_org: e.offer_org,
        offer_id: e.offer_id,
        offer_title: e.offer_title,
        goal: e.goal,
        status: outbox_status(e.status),
        detail: e.detail,
        contact: e.contact,
        group: e.group.map(|g| Roster {
            goal: g.goal,
            starts_at: g.starts_at,
            weeks: g.weeks,
            weekly_hours: g.weekly_hours,
            schedule: g.schedule,
            members: g
                .members
                .into_iter()
                .map(|m| RosterMember {
                    org_name: svc.org_display_name(&m.org),
                    org_fingerprint: m.org.fingerprint(),
                    org: m.org,
                    name: m.name,
                })
                .collect(),
        }),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

/// The name of our person `id`, or the id if they are gone.
pub(super) fn person_name(svc: &Service, id: &str) -> ApiResult<String> {
    Ok(svc
        .person_display_name(id)?
        .unwrap_or_else(|| id.to_string()))
}

pub(super) fn observation_view(
    svc: &Service,
    o: crate::store::Observation,
) -> ApiResult<ObservationView> {
    Ok(ObservationView {
        trainer_name: person_name(svc, &o.trainer)?,
        observer_name: person_name(svc, &o.observer)?,
        id: o.id,
        offer_id: o.offer_id,
        offer_title: o.offer_title,
        when: o.when,
        feedback: o.feedback.map(|seen| ObservationForm {
            clarity: seen.clarity,
            pace: seen.pace,
            interaction: seen.interaction,
            keep: seen.keep,
            change: seen.change,
        }),
        invited_at: o.invited_at,
    })
}

/// The title of our offer `id`, or the id if it is gone.
pub(super) fn own_title(svc: &Service, id: &str) -> ApiResult<String> {
    Ok(svc.item_title(id)?.unwrap_or_else(|| id.to_string()))
}

pub(super) fn inbox_item(svc: &Service, e: InboxEntry) -> ApiResult<InboxItem> {
    let offer_title = match e.ask {
        Some(format) => format!("A question for you ({})", format.label()),
        None => own_title(svc, &e.offer_id)?,
    };
    let from_org_lookalike = svc
        .lookalike_of(&e.from_org)?
        .map(|(name, key)| format!("name looks like {name}'s, key {}", key.fingerprint()));
    Ok(InboxItem {
        from_org_name: svc.org_display_name(&e.from_org),
        from_org_fingerprint: e.from_org.fingerprint(),
        from_org_new: svc.is_new_org(&e.from_org)?,
        from_org_lookalike,
        from_org: e.from_org,
        id: e.id,
        offer_id: e.offer_id,
        offer_title,
        requester_name: e.requester_name,
        goal: e.goal,
        preferred_times: e.preferred_times,
        message: e.message,
        status: inbox_status(e.status),
        reply: e.reply,
        received_at: e.received_at,
        kudos: e.kudos.map(|k| k.message),
        ask: e.ask,
    })
}

/// The feed item of a session signed up for, from the event as held
/// (none if the event is gone or no longer has that session).
pub(super) fn signed_up_session(
    svc: &Service,
    e: &OutboxEntry,
    session: &str,
) -> ApiResult<Option<FeedItem>> {
    let Some(row) = svc.held_record(&e.offer_org, &e.offer_id)? else {
        return Ok(None);
    };
    let Body::Event(event) = row.record().map_err(store_error)?.body else {
        return Ok(None);
    };
    Ok(event
        .sessions
        .iter()
        .find(|s| s.id == session)
        .map(|s| FeedItem {
            org: e.offer_org,
            org_name: svc.org_display_name(&e.offer_org),
            org_fingerprint: e.offer_org.fingerprint(),
            id: e.offer_id.clone(),
            title: s.title.clone(),
            detail: event.title.clone(),
            slots: vec![skillmesh_protocol::kinds::Slot {
                starts_at: s.starts_at,
                duration_minutes: s.duration_minutes,
            }],
            session: Some(s.id.clone()),
        }))
}

/// What goes into `person`'s calendar feed: the cohorts they were
/// admitted to (the schedule their admission carried) and their own
/// published offers with scheduled sessions.
pub(super) fn calendar_items(svc: &Service, caller: &Caller) -> ApiResult<Vec<FeedItem>> {
    let mut items = Vec::new();
    for e in svc.own_outbox(caller)? {
        if e.status != OutboxStatus::Accepted {
            continue;
        }
        if let Some(session) = &e.session {
            if let Some(item) = signed_up_session(svc, &e, session)? {
                items.push(item);
            }
            continue;
        }
        if let Some(g) = e.group.filter(|g| !g.schedule.is_empty()) {
            items.push(FeedItem {
                org_name: svc.org_display_name(&e.offer_org),
                org_fingerprint: e.offer_org.fingerprint(),
                org: e.offer_org,
                id: e.offer_id,
                title: e.offer_title,
                detail: g.goal,
                slots: g.schedule,
                session: None,
            });
        }
    }
    let own = svc.org();
    for item in svc.own_offers(caller)? {
        if item.state != ItemState::Published {
            continue;
        }
        let title = item.body.title();
        let (detail, slots) = match item.body {
            Body::CohortOffer(c) => (c.goal, c.schedule),
            Body::MentoringOffer(m) => (m.description, m.slots),
            _ => continue,
        };
        if !slots.is_empty() {
            items.push(FeedItem {
                org: own,
                org_name: svc.org_name().to_string(),
                org_fingerprint: own.fingerprint(),
                title,
                id: item.id,
                detail,
                slots,
                session: None,
            });
        }
    }
    Ok(items)
}

pub(super) fn web_listing(svc: &Service, org: &OrgKey, id: &str) -> ApiResult<Listing> {
    let not_found = || ApiError::NotFound("no such record".into());
    // A record of an organisation not admitted here is not shown.
    let Some(row) = svc.visible_record(org, id)? else {
        return local_listing(svc, org, id)?.ok_or_else(not_found);
    };
    let record = row.record().map_err(store_error)?;
    // What people search for, and what organisations publish of
    // their impact, has a page.
    if !Kind::SEARCHABLE.contains(&record.kind()) && record.kind() != Kind::ImpactSummary {
        return Err(not_found());
    }
    // Re-check the signature on view (the page says so).
    let signature_verified = row.signed_by(org);
    let own = *org == svc.org();
    let requestable = !own && record.body.offer_status() == Some(OfferStatus::Open);
    let (askable, offers) = match &record.body {
        Body::Expertise(e) => (
            !own && e.takes_questions,
            svc.offers_of_person(*org, &e.person)?
                .into_iter()
                .map(|r| PersonOffer {
                    kind: r.kind(),
                    title: r.body.title(),
                    id: r.header.id,
                })
                .collect(),
        ),
        _ => (false, Vec::new()),
    };
    let (contributable, our_sessions, org_names) = match &record.body {
        Body::Event(e) => {
            let contributable = !own && e.contributors.contains(&svc.org());
            let ours: Vec<String> = e
                .sessions
                .iter()
                .filter(|s| contributable && s.contributor == Some(svc.org()))
                .map(|s| s.id.clone())
                .collect();
            let mut mentioned: Vec<OrgKey> = e
                .contributors
                .iter()
                .chain(e.sessions.iter().filter_map(|s| s.contributor.as_ref()))
                .copied()
                .collect();
            mentioned.sort();
            mentioned.dedup();
            (
                contributable,
                ours,
                mentioned
                    .into_iter()
                    .map(|org| OrgName {
                        name: svc.org_display_name(&org),
                        fingerprint: org.fingerprint(),
                        org,
                    })
                    .collect(),
            )
        }
        _ => (false, Vec::new(), Vec::new()),
    };
    Ok(Listing {
        org: *org,
        org_name: svc.org_display_name(org),
        org_fingerprint: org.fingerprint(),
        id: record.header.id,
        seq: record.header.seq,
        issued_at: record.header.issued_at,
        expires_at: record.header.expires_at,
        body: record.body,
        signature_verified,
        own,
        requestable,
        contributable,
        our_sessions,
        org_names,
        following: None,
        tell_curator: false,
        local_only: false,
        askable,
        offers,
    })
}

/// One of our own content items kept inside the organisation, shown
/// to colleagues as a listing (not signed: nothing was published).
pub(super) fn local_listing(svc: &Service, org: &OrgKey, id: &str) -> ApiResult<Option<Listing>> {
    if *org != svc.org() {
        return Ok(None);
    }
    let Some(item) = svc.kept_inside_item(id)? else {
        return Ok(None);
    };
    Ok(Some(Listing {
        org: *org,
        org_name: svc.org_name().to_string(),
        org_fingerprint: org.fingerprint(),
        id: item.id,
        seq: 0,
        issued_at: item.updated_at,
        expires_at: 0,
        body: item.body,
        signature_verified: false,
        own: true,
        requestable: false,
        contributable: false,
        our_sessions: Vec::new(),
        org_names: Vec::new(),
        following: None,
        tell_curator: false,
        local_only: true,
        askable: false,
        offers: Vec::new(),
    }))
}

pub(super) fn web_federation(
    svc: &Service,
    peers: Vec<crate::network::PeerInfo>,
) -> ApiResult<Federation> {
    let facts = svc.federation_facts()?;
    let own = svc.org();
    let mut rows: BTreeMap<OrgKey, OrgRow> = BTreeMap::new();
    /// The row for `org`, made on first sight; none for our own.
    fn row(rows: &mut BTreeMap<OrgKey, OrgRow>, own: OrgKey, org: OrgKey) -> Option<&mut OrgRow> {
        if org == own {
            return None;
        }
        Some(rows.entry(org).or_insert_with(|| OrgRow {
            key: org,
            name: String::new(),
            listing: None,
            records: 0,
            connected: false,
            wants_to_join: false,
            fingerprint: String::new(),
            new: false,
            lookalike: None,
        }))
    }
    let (mut federated, mut own_records) = (0, 0);
    for (org, n) in facts.record_counts {
        if org == own {
            own_records += n;
        } else {
            federated += n;
        }
        row(&mut rows, own, org);
    }
    for (org, n) in facts.live_counts {
        if let Some(r) = row(&mut rows, own, org) {
            r.records = n;
        }
    }
    for (org, listing) in facts.org_listings {
        if let Some(r) = row(&mut rows, own, org) {
            r.listing = Some(
                match listing {
                    store::OrgListing::Allowed => "allowed",
                    store::OrgListing::Blocked => "blocked",
                }
                .to_string(),
            );
        }
    }
    for request in facts.join_requests {
        if let Some(r) = row(&mut rows, own, request.org) {
            r.wants_to_join = true;
        }
    }
    let connected: Vec<OrgKey> = peers.iter().filter_map(|p| p.org).collect();
    let current_partners = svc.current_partners(&connected)?.len() as u64;
    let mut peer_rows = Vec::with_capacity(peers.len());
    for p in peers {
        if let Some(org) = p.org
            && let Some(r) = row(&mut rows, own, org)
        {
            r.connected = true;
        }
        peer_rows.push(PeerRow {
            org_name: p
                .org
                .map_or_else(|| "unknown".to_string(), |o| svc.org_display_name(&o)),
            org_fingerprint: p.org.map(|o| o.fingerprint()),
            peer_id: p.peer,
            org: p.org,
        });
    }
    let mut orgs: Vec<OrgRow> = rows
        .into_values()
        .map(|mut r| -> ApiResult<OrgRow> {
            r.name = svc.org_display_name(&r.key);
            r.fingerprint = r.key.fingerprint();
            r.new = svc.is_new_org(&r.key)?;
            r.lookalike = svc
                .lookalike_of(&r.key)?
                .map(|(name, key)| format!("name looks like {name}'s, key {}", key.fingerprint()));
            Ok(r)
        })
        .collect::<ApiResult<_>>()?;
    orgs.sort_by(|a, b| {
        (b.wants_to_join, a.name.to_lowercase(), a.key).cmp(&(
            a.wants_to_join,
            b.name.to_lowercase(),
            b.key,
        ))
    });
    let inbound = svc.inbound();
    Ok(Federation {
        mode: mode_to_web(inbound.mode),
        approval_required: inbound.approval_required,
        orgs,
        peers: peer_rows,
        rejections: facts
            .rejection_counts
            .into_iter()
            .map(|(code, count)| RejectionCount { code, count })
            .collect(),
        policy_refusals: facts
            .policy_refusals
            .into_iter()
            .map(|r| policy_refusal_row(svc, r))
            .collect(),
        quota_notices: facts
            .quota_notices
            .into_iter()
            .map(|n| quota_notice_row(svc, n))
            .collect(),
        current_partners,
        federated_records: federated,
        own_records,
    })
}

/// The federation page's row for refusals by our own policy of one
/// organisation's records.
fn policy_refusal_row(svc: &Service, r: PolicyRefusal) -> PolicyRefusalRow {
    PolicyRefusalRow {
        org_name: svc.org_display_name(&r.org),
        org_fingerprint: r.org.fingerprint(),
        org: r.org,
        reason: r.reason,
        count: r.count,
        last_at: r.last_at,
    }
}

/// The federation page's row for a partner's notices that it refused our
/// records for its quota.
fn quota_notice_row(svc: &Service, n: QuotaNotice) -> QuotaNoticeRow {
    QuotaNoticeRow {
        org_name: svc.org_display_name(&n.from),
        org_fingerprint: n.from.fingerprint(),
        org: n.from,
        record_id: n.record_id,
        held: n.held,
        limit: n.limit,
        received_at: n.received_at,
        count: n.count,
    }
}

pub(super) fn web_approvals(svc: &Service) -> ApiResult<Vec<Approval>> {
    let (people, items) = svc.pending_approvals()?;
    let mut out = Vec::new();
    for person in people {
        let Some(listing) = svc.listing_of(&person)? else {
            continue;
        };
        let body = Body::Expertise(listing);
        out.push(Approval {
            id: listing_id(&person.id),
            kind: Kind::Expertise,
            title: body.title(),
            owner: person.display_name.clone(),
            body,
        });
    }
    for item in items {
        let owner = match &item.owner {
            Some(p) => svc.person_display_name(p)?.unwrap_or_else(|| p.clone()),
            None => svc.org_name().to_string(),
        };
        out.push(Approval {
            id: item.id,
            kind: item.body.kind(),
            title: item.body.title(),
            owner,
            body: item.body,
        });
    }
    Ok(out)
}

pub(super) fn web_audit(svc: &Service, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
    let org = query.org.trim();
    if !org.is_empty() && org.parse::<OrgKey>().is_err() {
        return Err(ApiError::Invalid(
            "org must be an organisation key: 64 lowercase hex digits".into(),
        ));
    }
    let day = query.day.trim();
    let (since, until) = if day.is_empty() {
        (None, None)
    } else {
        let since = skillmesh_web::dates::parse_date(day)
            .ok_or_else(|| ApiError::Invalid(format!("{day:?} is not a day written YYYY-MM-DD")))?;
        (Some(since), Some(since + 86_400))
    };
    let limit = match query.limit {
        0 => AUDIT_DEFAULT_LIMIT,
        n => n.min(AUDIT_MAX_LIMIT),
    };
    let filter = AuditFilter {
        org: (!org.is_empty()).then(|| org.to_string()),
        action: Some(query.action.trim().to_string()).filter(|a| !a.is_empty()),
        since,
        until,
        limit: Some(limit),
        people: match query.who.as_str() {
            "people" => Some(true),
            "network" => Some(false),
            _ => None,
        },
    };
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    Ok(svc
        .audit_log(&filter)?
        .into_iter()
        .map(|e| {
            let org_name = e.org.as_ref().and_then(|hex| {
                names
                    .entry(hex.clone())
                    .or_insert_with(|| hex.parse::<OrgKey>().ok().map(|o| svc.org_display_name(&o)))
                    .clone()
            });
            AuditRow {
                at: e.at,
                actor: e.actor,
                action: e.action,
                org_fingerprint: e
                    .org
                    .as_ref()
                    .and_then(|h| h.parse::<OrgKey>().ok())
                    .map(|o| o.fingerprint()),
                org: e.org,
                org_name,
                claimed_org: e.claimed_org,
                count: e.count,
                record_id: e.record_id,
                detail: e.detail,
            }
        })
        .collect())
}
