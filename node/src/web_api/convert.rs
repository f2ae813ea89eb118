//! Conversions between the store's types and the web layer's.

use super::*;

pub(super) fn sharing_to_fields(s: Sharing) -> SharedFields {
    SharedFields {
        display_name: s.display_name,
        headline: s.headline,
        topics: s.topics,
        languages: s.languages,
        time_zone: s.time_zone,
        formats: s.formats,
        availability: s.availability,
        email: s.email,
        recognition: s.recognition,
    }
}

pub(super) fn fields_to_sharing(f: SharedFields) -> Sharing {
    Sharing {
        display_name: f.display_name,
        headline: f.headline,
        topics: f.topics,
        languages: f.languages,
        time_zone: f.time_zone,
        formats: f.formats,
        availability: f.availability,
        email: f.email,
        recognition: f.recognition,
    }
}

pub(super) fn mode_to_web(m: skillmesh_config::FederationMode) -> FederationMode {
    match m {
        skillmesh_config::FederationMode::Open => FederationMode::Open,
        skillmesh_config::FederationMode::Allowlist => FederationMode::Allowlist,
        skillmesh_config::FederationMode::Blocklist => FederationMode::Blocklist,
    }
}

pub(super) fn mode_from_web(m: FederationMode) -> skillmesh_config::FederationMode {
    match m {
        FederationMode::Open => skillmesh_config::FederationMode::Open,
        FederationMode::Allowlist => skillmesh_config::FederationMode::Allowlist,
        FederationMode::Blocklist => skillmesh_config::FederationMode::Blocklist,
    }
}

pub(super) fn questions_to_store(q: QuestionSettings) -> store::Questions {
    store::Questions {
        open: q.open,
        per_month: q.per_month,
    }
}

pub(super) fn questions_to_web(q: store::Questions) -> QuestionSettings {
    QuestionSettings {
        open: q.open,
        per_month: q.per_month,
    }
}

pub(super) fn notification_to_web(n: store::Notification) -> NotificationView {
    NotificationView {
        kind: skillmesh_protocol::kinds::wire_name(&n.kind),
        id: n.id,
        text: n.text,
        link: n.link,
        at: n.at,
        read: n.read,
    }
}

/// An API token as its owner's list shows it: never the token.
pub(super) fn token_info(t: &store::ApiToken) -> ApiTokenInfo {
    ApiTokenInfo {
        id: crate::access::token_id(&t.sha256).to_string(),
        name: t.name.clone(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
    }
}

pub(super) fn session_to_store(s: KeptSession) -> store::StoredSession {
    store::StoredSession {
        id: s.id,
        username: s.username,
        csrf: s.csrf,
        created_at: s.created_at,
        last_seen: s.last_seen,
        expires_at: s.expires_at,
    }
}

pub(super) fn session_to_web(s: store::StoredSession) -> KeptSession {
    KeptSession {
        id: s.id,
        username: s.username,
        csrf: s.csrf,
        created_at: s.created_at,
        last_seen: s.last_seen,
        expires_at: s.expires_at,
    }
}

pub(super) fn role_to_web(r: store::Role) -> Role {
    match r {
        store::Role::Member => Role::Member,
        store::Role::Admin => Role::Admin,
    }
}

pub(super) fn role_from_web(r: Role) -> store::Role {
    match r {
        Role::Member => store::Role::Member,
        Role::Admin => store::Role::Admin,
    }
}

pub(super) fn offer_state(s: ItemState) -> OfferState {
    match s {
        ItemState::Draft => OfferState::Draft,
        ItemState::PendingApproval => OfferState::PendingApproval,
        ItemState::Published => OfferState::Published,
        ItemState::Unpublished => OfferState::Unpublished,
    }
}

pub(super) fn outbox_status(s: OutboxStatus) -> RequestStatus {
    match s {
        OutboxStatus::Waiting => RequestStatus::Waiting,
        OutboxStatus::Queued => RequestStatus::Queued,
        OutboxStatus::Accepted => RequestStatus::Accepted,
        OutboxStatus::Declined => RequestStatus::Declined,
        OutboxStatus::Refused => RequestStatus::Refused,
    }
}

pub(super) fn inbox_status(s: InboxStatus) -> RequestStatus {
    match s {
        InboxStatus::Pending => RequestStatus::Pending,
        InboxStatus::Accepted => RequestStatus::Accepted,
        InboxStatus::Declined => RequestStatus::Declined,
    }
}

/// What "My offers" lists: talks, mentoring, cohorts, calls for talks,
/// content and learning paths, and the events an admin runs.
pub(super) fn offer_of(item: OwnItem) -> Offer {
    Offer {
        id: item.id,
        state: offer_state(item.state),
        body: item.body,
        updated_at: item.updated_at,
    }
}

/// The signed-in web user as the domain rules see them.
pub(super) fn caller(user: &User) -> Caller {
    Caller {
        username: user.username.clone(),
        person_id: Some(user.person_id.clone()).filter(|p| !p.is_empty()),
        role: role_from_web(user.role),
    }
}

pub(super) fn offer_change(action: OfferAction) -> OfferChange {
    match action {
        OfferAction::Publish => OfferChange::Publish,
        OfferAction::Pause => OfferChange::Pause,
        OfferAction::Reopen => OfferChange::Reopen,
        OfferAction::Close => OfferChange::Close,
        OfferAction::Unpublish => OfferChange::Unpublish,
        OfferAction::Delete => OfferChange::Delete,
    }
}

/// What a request form asks: exactly one of a plain request, a sign-up,
/// a session added or a session taken out.
pub(super) fn ask_of(request: NewRequest) -> ApiResult<Ask> {
    match (
        request.session,
        request.contribution,
        request.withdraw,
        request.ask,
    ) {
        (Some(session), None, None, None) => Ok(Ask::SignUp { session }),
        (None, Some(session), None, None) => Ok(Ask::Contribute(session)),
        (None, None, Some(session_id), None) => Ok(Ask::Withdraw { session_id }),
        (None, None, None, Some(format)) => Ok(Ask::Question {
            question: request.goal,
            format,
            message: request.message,
        }),
        (None, None, None, None) => Ok(Ask::Request {
            goal: request.goal,
            preferred_times: request.preferred_times,
            message: request.message,
            name_to_group: request.name_to_group,
        }),
        _ => Err(ApiError::Invalid(
            "sign up for a session, add one, take one out or ask a question: only one of them"
                .into(),
        )),
    }
}

/// The chat webhook's status as the admin console shows it.
pub(super) fn webhook_view(status: crate::webhook::WebhookStatus) -> Webhook {
    Webhook {
        url: status.url,
        waiting: u64::try_from(status.waiting).unwrap_or(u64::MAX),
        last_error: status.last_error,
        next_try_at: status.next_try_at,
    }
}
