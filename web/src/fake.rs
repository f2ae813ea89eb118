//! An in-memory [`NodeApi`] (every port, one `impl` per area) for the router's tests: two accounts, one
//! remote listing full of markup, and offers kept in a map. It implements
//! just enough behaviour to test routing, roles, CSRF, escaping and error
//! shapes; the real node is tested end to end in the workspace's tests/.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use skillmesh_protocol::kinds::{Delivery, MentoringOffer, OfferStatus};
use skillmesh_protocol::profile::ProfileDetails;
use skillmesh_protocol::{Body, Kind, OrgKey};

use crate::api::*;
use crate::ports::*;

pub const ADMIN: (&str, &str) = ("priya@northwind.example", "admin password");
pub const MEMBER: (&str, &str) = ("tomas@northwind.example", "member password");
pub const ADMIN_TOKEN: &str = "smk_admin_token";
pub const MEMBER_TOKEN: &str = "smk_member_token";
pub const CALENDAR_TOKEN: &str = "smc_member_calendar";
/// Text an attacker at another organisation put in its listing.
pub const HOSTILE: &str = r#"<script>alert(1)</script>" onmouseover="alert(2)"#;

pub fn remote_org() -> OrgKey {
    OrgKey::from_bytes([7; 32])
}

#[derive(Clone, Default)]
pub struct Fake {
    offers: Arc<Mutex<BTreeMap<String, Offer>>>,
    pub mode: Arc<Mutex<Option<FederationMode>>>,
    /// The remote organisation's listing, as the last action left it.
    listing: Arc<Mutex<Option<String>>>,
    goals: Arc<Mutex<LearningGoals>>,
    /// API tokens made through the port: (token, owner, listing).
    tokens: Arc<Mutex<Vec<(String, String, ApiTokenInfo)>>>,
    /// Sessions kept through the port, by id: what a restart keeps.
    pub sessions: Arc<Mutex<BTreeMap<String, KeptSession>>>,
    /// Notification ids marked read.
    read: Arc<Mutex<Vec<String>>>,
    /// The mail choices saved.
    mail: Arc<Mutex<Option<Vec<MailChoiceView>>>>,
    /// The chat webhook as set through the port.
    pub webhook: Arc<Mutex<Webhook>>,
}

/// The member's two notifications, one of them carrying markup from
/// another organisation.
fn notifications_of(username: &str, read: &[String]) -> Vec<NotificationView> {
    if username != MEMBER.0 {
        return Vec::new();
    }
    [
        (
            "n2",
            "question_received",
            format!("Zoe at {HOSTILE} asks you a question"),
        ),
        (
            "n1",
            "request_answered",
            "Contoso accepted your request".to_string(),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (id, kind, text))| NotificationView {
        id: id.into(),
        kind: kind.into(),
        text,
        link: "/requests".into(),
        at: 1_800_000_000 - i64::try_from(i).unwrap_or_default(),
        read: read.iter().any(|r| r == id),
    })
    .collect()
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn user(username: &str) -> Option<User> {
    if username == ADMIN.0 {
        Some(User {
            username: ADMIN.0.into(),
            role: Role::Admin,
            person_id: "priya".into(),
            display_name: "Priya <i>Raman</i>".into(),
            deactivated: false,
        })
    } else if username == MEMBER.0 {
        Some(User {
            username: MEMBER.0.into(),
            role: Role::Member,
            person_id: "tomas".into(),
            display_name: "Tomás Silva".into(),
            deactivated: false,
        })
    } else {
        None
    }
}

pub fn hostile_offer() -> Body {
    Body::MentoringOffer(MentoringOffer {
        person: "p1".into(),
        mentor_name: Some(HOSTILE.into()),
        title: HOSTILE.into(),
        description: HOSTILE.into(),
        topics: vec![HOSTILE.into()],
        languages: vec!["en".into()],
        capacity: 2,
        sessions: 4,
        session_minutes: 45,
        cadence: skillmesh_protocol::kinds::Cadence::Weekly,
        slots: vec![
            skillmesh_protocol::kinds::Slot {
                starts_at: 1_900_000_000,
                duration_minutes: 45,
            },
            skillmesh_protocol::kinds::Slot {
                starts_at: 1_900_604_800,
                duration_minutes: 45,
            },
        ],
        delivery: Delivery::Remote,
        status: OfferStatus::Open,
    })
}

fn hostile_hit() -> SearchHit {
    SearchHit {
        org: remote_org().to_hex(),
        org_name: HOSTILE.into(),
        org_fingerprint: remote_org().fingerprint(),
        id: "offer-1".into(),
        kind: Kind::MentoringOffer,
        title: HOSTILE.into(),
        summary: HOSTILE.into(),
        topics: vec![HOSTILE.into()],
        formats: vec!["mentoring".into()],
        languages: vec!["en".into()],
        time_zone: Some(HOSTILE.into()),
        availability: Some("open".into()),
        own: false,
        local_only: false,
        highlights: vec![
            Highlight {
                field: "title".into(),
                parts: vec![HighlightPart {
                    text: HOSTILE.into(),
                    matched: true,
                }],
            },
            Highlight {
                field: "text".into(),
                parts: vec![
                    HighlightPart {
                        text: "…".into(),
                        matched: false,
                    },
                    HighlightPart {
                        text: HOSTILE.into(),
                        matched: true,
                    },
                ],
            },
        ],
    }
}

impl AccountsApi for Fake {
    async fn sign_in(&self, username: &str, password: &str) -> ApiResult<Option<User>> {
        Ok(match (username, password) {
            (u, p) if (u, p) == ADMIN || (u, p) == MEMBER => user(u),
            _ => None,
        })
    }

    async fn user(&self, username: &str) -> ApiResult<Option<User>> {
        Ok(user(username))
    }

    async fn user_for_token(&self, token: &str) -> ApiResult<Option<User>> {
        Ok(match token {
            ADMIN_TOKEN => user(ADMIN.0),
            MEMBER_TOKEN => user(MEMBER.0),
            _ => locked(&self.tokens)
                .iter()
                .find(|(t, _, _)| t == token)
                .and_then(|(_, owner, _)| user(owner)),
        })
    }

    async fn new_api_token(&self, user: &User, name: &str) -> ApiResult<NewApiToken> {
        let mut tokens = locked(&self.tokens);
        let n = tokens.len();
        let info = ApiTokenInfo {
            id: format!("{n:016x}"),
            name: if name.trim().is_empty() {
                "API token".into()
            } else {
                name.trim().into()
            },
            created_at: 1_800_000_000 + i64::try_from(n).unwrap_or_default(),
            last_used_at: None,
        };
        let token = format!("smk_new_{n}");
        tokens.push((token.clone(), user.username.clone(), info.clone()));
        Ok(NewApiToken { token, info })
    }

    async fn api_tokens(&self, user: &User) -> ApiResult<Vec<ApiTokenInfo>> {
        Ok(locked(&self.tokens)
            .iter()
            .filter(|(_, owner, _)| *owner == user.username)
            .map(|(_, _, info)| info.clone())
            .collect())
    }

    async fn revoke_api_token(&self, user: &User, id: &str) -> ApiResult<()> {
        let mut tokens = locked(&self.tokens);
        let before = tokens.len();
        tokens.retain(|(_, owner, info)| !(*owner == user.username && info.id == id));
        if tokens.len() == before {
            return Err(ApiError::NotFound("No such API token.".into()));
        }
        Ok(())
    }

    async fn keep_session(&self, session: KeptSession) -> ApiResult<()> {
        locked(&self.sessions).insert(session.id.clone(), session);
        Ok(())
    }

    async fn kept_session(&self, id: &str) -> ApiResult<Option<KeptSession>> {
        Ok(locked(&self.sessions).get(id).cloned())
    }

    async fn end_session(&self, id: &str) -> ApiResult<()> {
        locked(&self.sessions).remove(id);
        Ok(())
    }

    fn sign_in_options(&self) -> SignInOptions {
        SignInOptions::default()
    }

    async fn begin_sso(&self) -> ApiResult<SsoStart> {
        Err(ApiError::NotFound(
            "single sign-on is not set up here".into(),
        ))
    }

    async fn finish_sso(&self, _state: &str, _code: &str) -> ApiResult<User> {
        Err(ApiError::NotFound(
            "single sign-on is not set up here".into(),
        ))
    }

    async fn end_sessions(&self, user: &User) -> ApiResult<Vec<String>> {
        let mut sessions = locked(&self.sessions);
        let ids: Vec<String> = sessions
            .values()
            .filter(|s| s.username == user.username)
            .map(|s| s.id.clone())
            .collect();
        for id in &ids {
            sessions.remove(id);
        }
        Ok(ids)
    }

    async fn new_calendar_token(&self, _user: &User) -> ApiResult<String> {
        Ok(CALENDAR_TOKEN.into())
    }

    /// The member's feed holds the hostile offer's two slots.
    async fn calendar_feed(&self, token: &str) -> ApiResult<Option<Vec<FeedItem>>> {
        if token != CALENDAR_TOKEN {
            return Ok(None);
        }
        let Body::MentoringOffer(m) = hostile_offer() else {
            return Ok(Some(Vec::new()));
        };
        Ok(Some(vec![FeedItem {
            org: remote_org(),
            org_name: HOSTILE.into(),
            org_fingerprint: remote_org().fingerprint(),
            id: "offer-1".into(),
            title: m.title,
            detail: m.description,
            slots: m.slots,
            session: None,
        }]))
    }

    async fn set_user_active(
        &self,
        _actor: &User,
        username: &str,
        active: bool,
    ) -> ApiResult<User> {
        let mut u = user(username).ok_or_else(|| ApiError::NotFound("No such account.".into()))?;
        u.deactivated = !active;
        Ok(u)
    }

    async fn users(&self) -> ApiResult<Vec<User>> {
        Ok([ADMIN.0, MEMBER.0].into_iter().filter_map(user).collect())
    }

    async fn add_user(&self, _actor: &User, new: NewUser) -> ApiResult<AddedUser> {
        if user(&new.username).is_some() {
            return Err(ApiError::Conflict("That account exists already.".into()));
        }
        Ok(AddedUser {
            user: User {
                username: new.username,
                role: new.role,
                person_id: "new".into(),
                display_name: new.display_name,
                deactivated: false,
            },
            invitation: new.password.is_empty().then(|| AccessLinkView {
                url: "/access/sml_made-up".into(),
                purpose: "invitation".into(),
                expires_at: 0,
            }),
        })
    }

    async fn new_access_link(&self, _actor: &User, username: &str) -> ApiResult<AccessLinkView> {
        user(username).ok_or_else(|| ApiError::NotFound("No such account.".into()))?;
        Ok(AccessLinkView {
            url: "/access/sml_reset".into(),
            purpose: "password_reset".into(),
            expires_at: 0,
        })
    }

    async fn remove_user(&self, actor: &User, username: &str) -> ApiResult<()> {
        if actor.username == username {
            return Err(ApiError::Invalid(
                "You cannot remove your own account.".into(),
            ));
        }
        user(username).ok_or_else(|| ApiError::NotFound("No such account.".into()))?;
        Ok(())
    }

    async fn access_link(&self, _token: &str) -> ApiResult<Option<AccessLinkFor>> {
        Ok(None)
    }

    async fn use_access_link(&self, _token: &str, _password: &str) -> ApiResult<User> {
        Err(ApiError::NotFound("no such link".into()))
    }
}

impl PeopleApi for Fake {
    async fn profile(&self, user: &User) -> ApiResult<Profile> {
        Ok(Profile {
            person_id: user.person_id.clone(),
            display_name: user.display_name.clone(),
            email: user.username.clone(),
            profile: ProfileDetails::default(),
            sharing: SharedFields::default(),
            policy: SharedFields::default(),
            preview: None,
            pending_approval: false,
            recognition: Recognition {
                people_helped: 3,
                organisations_reached: 2,
                sessions: 7,
                minutes: 330,
                cohorts_run: 1,
                kudos: 2,
                curated: 4,
                observed: 1,
            },
            kudos: vec![KudosNote {
                from_name: Some(HOSTILE.into()),
                from_org_name: HOSTILE.into(),
                from_org_fingerprint: remote_org().fingerprint(),
                offer_title: "On-call".into(),
                message: HOSTILE.into(),
                at: 0,
            }],
            questions: Default::default(),
        })
    }

    async fn update_profile(&self, user: &User, update: ProfileUpdate) -> ApiResult<Profile> {
        if update.display_name.is_empty() {
            return Err(ApiError::Invalid("A name is needed.".into()));
        }
        let mut p = self.profile(user).await?;
        p.display_name = update.display_name;
        p.profile = update.profile;
        p.sharing = update.sharing;
        Ok(p)
    }

    async fn colleagues(&self, _user: &User) -> ApiResult<Vec<Colleague>> {
        Ok(vec![Colleague {
            person_id: "joana".into(),
            name: HOSTILE.into(),
        }])
    }

    async fn notifications(&self, user: &User) -> ApiResult<Vec<NotificationView>> {
        Ok(notifications_of(&user.username, &locked(&self.read)))
    }

    async fn mail_choices(&self, _user: &User) -> ApiResult<(bool, Vec<MailChoiceView>)> {
        Ok((
            true,
            locked(&self.mail).clone().unwrap_or_else(|| {
                vec![MailChoiceView {
                    kind: "question_received".into(),
                    label: "Questions for you".into(),
                    choice: "immediately".into(),
                }]
            }),
        ))
    }

    async fn set_mail_choices(&self, _user: &User, choices: Vec<MailChoiceView>) -> ApiResult<()> {
        *locked(&self.mail) = Some(choices);
        Ok(())
    }

    async fn unread_notifications(&self, user: &User) -> ApiResult<usize> {
        Ok(notifications_of(&user.username, &locked(&self.read))
            .iter()
            .filter(|n| !n.read)
            .count())
    }

    async fn mark_notifications_read(
        &self,
        user: &User,
        ids: Option<Vec<String>>,
    ) -> ApiResult<usize> {
        let mut read = locked(&self.read);
        let mut changed = 0;
        for n in notifications_of(&user.username, &read) {
            if !n.read && ids.as_ref().is_none_or(|ids| ids.contains(&n.id)) {
                read.push(n.id);
                changed += 1;
            }
        }
        Ok(changed)
    }
}

impl DiscoveryApi for Fake {
    async fn search(&self, _user: &User, query: &SearchQuery) -> ApiResult<SearchResults> {
        let hits = if query.q == "nothing" {
            vec![]
        } else {
            vec![hostile_hit()]
        };
        Ok(SearchResults {
            total: hits.len(),
            page: query.page(),
            per_page: SearchQuery::PER_PAGE,
            facets: vec![Facet {
                name: "org".into(),
                values: vec![FacetValue {
                    value: remote_org().to_hex(),
                    label: HOSTILE.into(),
                    count: hits.len(),
                }],
            }],
            hits,
        })
    }

    async fn listing(&self, _user: &User, org: &OrgKey, id: &str) -> ApiResult<Listing> {
        if *org != remote_org() || id != "offer-1" {
            return Err(ApiError::NotFound("No such listing.".into()));
        }
        Ok(Listing {
            org: *org,
            org_name: HOSTILE.into(),
            org_fingerprint: org.fingerprint(),
            id: id.into(),
            seq: 1,
            issued_at: 0,
            expires_at: 1,
            body: hostile_offer(),
            signature_verified: true,
            own: false,
            requestable: true,
            contributable: false,
            our_sessions: Vec::new(),
            org_names: Vec::new(),
            following: None,
            tell_curator: false,
            local_only: false,
            askable: false,
            offers: Vec::new(),
        })
    }
}

impl OffersApi for Fake {
    async fn offers(&self, user: &User) -> ApiResult<Vec<Offer>> {
        let map = self.offers.lock().expect("lock");
        Ok(map
            .values()
            .filter(|o| o.id.starts_with(&user.person_id))
            .cloned()
            .collect())
    }

    async fn offer(&self, user: &User, id: &str) -> ApiResult<Offer> {
        self.offers(user)
            .await?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| ApiError::NotFound("You have no such offer.".into()))
    }

    async fn save_offer(&self, user: &User, id: Option<&str>, body: Body) -> ApiResult<Offer> {
        let mut map = self.offers.lock().expect("lock");
        let id = match id {
            Some(id) if id.starts_with(&user.person_id) && map.contains_key(id) => id.to_string(),
            Some(_) => return Err(ApiError::NotFound("You have no such offer.".into())),
            None => format!("{}-{}", user.person_id, map.len() + 1),
        };
        let offer = Offer {
            id: id.clone(),
            state: OfferState::Draft,
            body,
            updated_at: 0,
        };
        map.insert(id, offer.clone());
        Ok(offer)
    }

    async fn offer_action(&self, user: &User, id: &str, _: OfferAction) -> ApiResult<Offer> {
        let mut offer = self.offer(user, id).await?;
        offer.state = OfferState::Published;
        Ok(offer)
    }
}

impl RequestsApi for Fake {
    async fn send_request(&self, _user: &User, request: NewRequest) -> ApiResult<OutboxItem> {
        if request.goal.is_empty() {
            return Err(ApiError::Invalid("Say what you want to learn.".into()));
        }
        Ok(OutboxItem {
            id: "req-1".into(),
            offer_org: request.offer_org,
            offer_org_name: HOSTILE.into(),
            offer_org_fingerprint: request.offer_org.fingerprint(),
            offer_id: request.offer_id,
            offer_title: HOSTILE.into(),
            goal: request.goal,
            status: RequestStatus::Waiting,
            detail: String::new(),
            contact: None,
            feedback_given: false,
            contribution: false,
            kudos_welcome: false,
            kudos: None,
            kudos_refused: None,
            group: None,
            created_at: 0,
            updated_at: 0,
        })
    }

    async fn inbox(&self, _user: &User) -> ApiResult<Vec<InboxItem>> {
        Ok(vec![])
    }

    /// One cohort the person was admitted to, whose roster carries
    /// another organisation's markup.
    async fn outbox(&self, _user: &User) -> ApiResult<Vec<OutboxItem>> {
        Ok(vec![OutboxItem {
            id: "req-1".into(),
            offer_org: remote_org(),
            offer_org_name: "Contoso".into(),
            offer_org_fingerprint: remote_org().fingerprint(),
            offer_id: "cohort-1".into(),
            offer_title: "New managers".into(),
            goal: "Run a fair first review".into(),
            status: RequestStatus::Accepted,
            detail: String::new(),
            contact: None,
            feedback_given: false,
            contribution: false,
            kudos_welcome: false,
            kudos: None,
            kudos_refused: None,
            group: Some(Roster {
                goal: HOSTILE.into(),
                starts_at: 0,
                weeks: 6,
                weekly_hours: 2,
                schedule: Vec::new(),
                members: vec![
                    RosterMember {
                        org: remote_org(),
                        org_name: "Contoso".into(),
                        org_fingerprint: remote_org().fingerprint(),
                        name: Some("Ines Duarte".into()),
                    },
                    RosterMember {
                        org: remote_org(),
                        org_name: "Contoso".into(),
                        org_fingerprint: remote_org().fingerprint(),
                        name: None,
                    },
                ],
            }),
            created_at: 0,
            updated_at: 0,
        }])
    }

    async fn answer_request(
        &self,
        _user: &User,
        _from: &OrgKey,
        _id: &str,
        _answer: RequestAnswer,
    ) -> ApiResult<InboxItem> {
        Err(ApiError::NotFound("You have no such request.".into()))
    }

    async fn give_feedback(&self, _user: &User, id: &str, form: FeedbackForm) -> ApiResult<()> {
        if id != "req-1" {
            return Err(ApiError::NotFound("You have no such request.".into()));
        }
        if !(1..=5).contains(&form.rating) {
            return Err(ApiError::Invalid("The rating must be 1 to 5.".into()));
        }
        Ok(())
    }

    async fn send_kudos(&self, user: &User, id: &str, kudos: NewKudos) -> ApiResult<OutboxItem> {
        if kudos.message.trim().is_empty() {
            return Err(ApiError::Invalid("Write a few words of thanks.".into()));
        }
        let mut item = self
            .outbox(user)
            .await?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| ApiError::NotFound("You have no such request.".into()))?;
        item.kudos = Some(kudos.message);
        Ok(item)
    }
}

impl ContentApi for Fake {
    /// One followed list from an organisation with a hostile name.
    async fn following(&self, _user: &User) -> ApiResult<Vec<Following>> {
        Ok(vec![Following {
            org: remote_org(),
            org_name: HOSTILE.into(),
            org_fingerprint: remote_org().fingerprint(),
            id: "list-1".into(),
            title: HOSTILE.into(),
            done: 1,
            total: 3,
            withdrawn: false,
        }])
    }

    async fn follow(
        &self,
        _user: &User,
        _org: &OrgKey,
        _id: &str,
        _options: FollowOptions,
    ) -> ApiResult<()> {
        Ok(())
    }

    async fn unfollow(&self, _user: &User, _org: &OrgKey, _id: &str) -> ApiResult<()> {
        Ok(())
    }

    async fn set_progress(
        &self,
        _user: &User,
        _org: &OrgKey,
        _id: &str,
        progress: Progress,
    ) -> ApiResult<()> {
        if progress.done.iter().any(|n| *n >= 3) {
            return Err(ApiError::Invalid("The list has no such entry.".into()));
        }
        Ok(())
    }

    async fn recommend(&self, _user: &User, r: NewRecommendation) -> ApiResult<()> {
        if r.to != "joana" {
            return Err(ApiError::NotFound("No such colleague.".into()));
        }
        Ok(())
    }

    async fn recommended(&self, _user: &User) -> ApiResult<Vec<Recommended>> {
        Ok(vec![Recommended {
            from_name: HOSTILE.into(),
            org: remote_org(),
            org_name: HOSTILE.into(),
            org_fingerprint: remote_org().fingerprint(),
            id: "list-1".into(),
            title: HOSTILE.into(),
            note: HOSTILE.into(),
            at: 0,
        }])
    }
}

impl ObservationsApi for Fake {
    async fn invite_observer(
        &self,
        _user: &User,
        offer_id: &str,
        invitation: NewObservation,
    ) -> ApiResult<ObservationView> {
        if invitation.observer != "joana" {
            return Err(ApiError::NotFound("No such colleague.".into()));
        }
        Ok(ObservationView {
            id: "obs-1".into(),
            trainer_name: "Tomás".into(),
            observer_name: HOSTILE.into(),
            offer_id: offer_id.into(),
            offer_title: HOSTILE.into(),
            when: invitation.when,
            feedback: None,
            invited_at: 0,
        })
    }

    /// One observation of mine, answered by someone with a hostile name.
    async fn observations(&self, _user: &User) -> ApiResult<Observations> {
        Ok(Observations {
            to_give: Vec::new(),
            of_mine: vec![ObservationView {
                id: "obs-1".into(),
                trainer_name: "Tomás".into(),
                observer_name: HOSTILE.into(),
                offer_id: "offer-1".into(),
                offer_title: HOSTILE.into(),
                when: HOSTILE.into(),
                feedback: Some(ObservationForm {
                    clarity: 4,
                    pace: 3,
                    interaction: 5,
                    keep: HOSTILE.into(),
                    change: HOSTILE.into(),
                }),
                invited_at: 0,
            }],
        })
    }

    async fn give_observation(
        &self,
        _user: &User,
        id: &str,
        form: ObservationForm,
    ) -> ApiResult<()> {
        if id != "obs-1" {
            return Err(ApiError::NotFound("No such observation.".into()));
        }
        if !(1..=5).contains(&form.clarity) {
            return Err(ApiError::Invalid("Clarity must be 1 to 5.".into()));
        }
        Ok(())
    }
}

impl ImpactApi for Fake {
    /// Figures for a period, with a partner whose name is hostile.
    async fn impact(&self, query: &ImpactQuery) -> ApiResult<Impact> {
        if query.since == "soon" {
            return Err(ApiError::Invalid(
                "The first day must be a day written YYYY-MM-DD.".into(),
            ));
        }
        Ok(Impact {
            sessions_given: 4,
            minutes_given: 270,
            participants: 3,
            connections: 2,
            requests_made: 5,
            requests_made_answered: 4,
            requests_received: 3,
            requests_received_answered: 3,
            median_hours_to_answer: Some(2.5),
            feedback: 2,
            average_rating: Some(4.5),
            skill_before: Some(2.0),
            skill_after: Some(3.5),
            partners: vec![PartnerImpact {
                org: remote_org(),
                org_name: format!("={HOSTILE}"),
                org_fingerprint: remote_org().fingerprint(),
                given: 3,
                received: 1,
            }],
            wanted_without_supply: vec!["Basket weaving".into()],
            min_group_size: 5,
            withheld: false,
            partners_withheld: 1,
            feedback_withheld: false,
        })
    }

    /// A partner with a hostile name published a summary.
    async fn impact_summaries(&self) -> ApiResult<Vec<PublishedImpact>> {
        let Body::ImpactSummary(summary) =
            skillmesh_protocol::samples::body(skillmesh_protocol::Kind::ImpactSummary)
        else {
            return Ok(Vec::new());
        };
        Ok(vec![PublishedImpact {
            org: remote_org(),
            org_name: HOSTILE.into(),
            org_fingerprint: remote_org().fingerprint(),
            own: false,
            issued_at: 0,
            summary,
            signature_verified: true,
        }])
    }

    async fn publish_impact(
        &self,
        _actor: &User,
        query: &ImpactQuery,
    ) -> ApiResult<PublishedImpact> {
        self.impact(query).await?;
        let mut published = self.impact_summaries().await?.remove(0);
        published.own = true;
        published.org_name = "Northwind".into();
        Ok(published)
    }

    async fn withdraw_impact(&self, _actor: &User) -> ApiResult<()> {
        Err(ApiError::NotFound("No impact summary is published.".into()))
    }
}

impl SteeringApi for Fake {
    async fn federation(&self) -> ApiResult<Federation> {
        Ok(Federation {
            mode: self
                .mode
                .lock()
                .expect("lock")
                .unwrap_or(FederationMode::Open),
            approval_required: false,
            orgs: vec![OrgRow {
                key: remote_org(),
                name: HOSTILE.into(),
                listing: self.listing.lock().expect("lock").clone(),
                records: 1,
                connected: true,
                wants_to_join: true,
                fingerprint: String::new(),
                new: false,
                lookalike: None,
            }],
            peers: vec![],
            rejections: vec![RejectionCount {
                code: "bad_signature".into(),
                count: 3,
            }],
            policy_refusals: vec![PolicyRefusalRow {
                org: remote_org(),
                org_name: HOSTILE.into(),
                org_fingerprint: remote_org().fingerprint(),
                reason: "over_quota".into(),
                count: 2,
                last_at: 1_700_000_000,
            }],
            quota_notices: vec![QuotaNoticeRow {
                org: remote_org(),
                org_name: HOSTILE.into(),
                org_fingerprint: remote_org().fingerprint(),
                record_id: "offer-1".into(),
                held: 3,
                limit: 2,
                received_at: 1_700_000_000,
                count: 1,
            }],
            current_partners: 1,
            federated_records: 1,
            own_records: 0,
        })
    }

    async fn set_federation_mode(
        &self,
        _actor: &User,
        mode: FederationMode,
    ) -> ApiResult<ModeChanged> {
        let old = self.mode.lock().expect("lock").replace(mode);
        let kept = mode == FederationMode::Allowlist && old != Some(FederationMode::Allowlist);
        Ok(ModeChanged {
            mode,
            partners_kept: u64::from(kept),
        })
    }

    async fn org_action(&self, _actor: &User, org: &OrgKey, action: OrgAction) -> ApiResult<()> {
        if *org == remote_org() {
            *self.listing.lock().expect("lock") = match action {
                OrgAction::Allow => Some("allowed".into()),
                OrgAction::Block => Some("blocked".into()),
                OrgAction::Clear | OrgAction::Refuse => None,
            };
            Ok(())
        } else {
            Err(ApiError::NotFound("No such organisation.".into()))
        }
    }

    async fn approvals(&self) -> ApiResult<Vec<Approval>> {
        Ok(vec![])
    }

    async fn approve(&self, _actor: &User, id: &str) -> ApiResult<()> {
        Err(ApiError::NotFound(format!(
            "Nothing called {id} waits for approval."
        )))
    }

    async fn outbound_policy(&self) -> ApiResult<SharedFields> {
        Ok(SharedFields::default())
    }

    async fn set_outbound_policy(&self, _actor: &User, _fields: SharedFields) -> ApiResult<()> {
        Ok(())
    }

    async fn audit(&self, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
        if !query.day.is_empty() && query.day.len() != 10 {
            return Err(ApiError::Invalid(
                "The day must look like 2026-11-23.".into(),
            ));
        }
        Ok(vec![AuditRow {
            at: 0,
            actor: "node".into(),
            action: "record_rejected".into(),
            org: Some(remote_org().to_hex()),
            org_name: Some(HOSTILE.into()),
            org_fingerprint: Some(remote_org().fingerprint()),
            claimed_org: Some(HOSTILE.into()),
            record_id: Some(HOSTILE.into()),
            detail: HOSTILE.into(),
            count: 1,
        }])
    }

    async fn webhook(&self) -> ApiResult<Webhook> {
        Ok(locked(&self.webhook).clone())
    }

    /// Checks as the node does, more simply (the node's check is tested
    /// in the application).
    async fn set_webhook(&self, _actor: &User, url: Option<String>) -> ApiResult<Webhook> {
        let url = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        if let Some(u) = &url {
            if u.chars().count() > 2000 {
                return Err(ApiError::Invalid(
                    "The webhook address is too long: at most 2000 characters.".into(),
                ));
            }
            let host = u
                .strip_prefix("https://")
                .or_else(|| u.strip_prefix("http://"))
                .ok_or_else(|| {
                    ApiError::Invalid(
                        "The webhook address must start with https:// or http://.".into(),
                    )
                })?;
            if host.starts_with('/') || host.is_empty() {
                return Err(ApiError::Invalid(
                    "The webhook address has no host (such as hooks.slack.com).".into(),
                ));
            }
        }
        let mut hook = locked(&self.webhook);
        if url.is_none() {
            hook.waiting = 0;
        }
        hook.url = url;
        Ok(hook.clone())
    }

    async fn test_webhook(&self, _actor: &User) -> ApiResult<Webhook> {
        let mut hook = locked(&self.webhook);
        if hook.url.is_none() {
            return Err(ApiError::Invalid("Set the webhook's address first.".into()));
        }
        hook.waiting += 1;
        Ok(hook.clone())
    }
}

impl NodeApi for Fake {
    fn org_name(&self) -> String {
        "Northwind <b>Labs</b>".into()
    }

    async fn health(&self) -> Health {
        Health {
            status: HealthStatus::Ok,
            problems: Vec::new(),
            version: "test".into(),
            org: self.org_name(),
            org_key: "00".repeat(32),
            org_fingerprint: "0000 0000 0000 0000".into(),
            peer_id: "12D3KooWtest".into(),
            listen_addrs: vec!["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWtest".into()],
            peers: 2,
            federated_records: 7,
            own_records: 3,
            records_fingerprint: "00".repeat(16),
            uptime_secs: 1,
        }
    }
}

impl MatchingApi for Fake {
    async fn goals(&self, _user: &User) -> ApiResult<LearningGoals> {
        Ok(self.goals.lock().expect("lock").clone())
    }

    async fn set_goals(&self, _user: &User, goals: LearningGoals) -> ApiResult<LearningGoals> {
        if goals.goals.len() > 2000 {
            return Err(ApiError::Invalid("Keep your goals short.".into()));
        }
        *self.goals.lock().expect("lock") = goals.clone();
        Ok(goals)
    }

    async fn suggestions(&self, _user: &User) -> ApiResult<Vec<Suggestion>> {
        Ok(vec![Suggestion {
            hit: hostile_hit(),
            reasons: vec![HOSTILE.into()],
            score: 1.0,
        }])
    }

    async fn demand(&self) -> ApiResult<Vec<DemandRow>> {
        Ok(vec![DemandRow {
            topic: HOSTILE.into(),
            people: 6,
            supply: 0,
        }])
    }

    fn min_group_size(&self) -> u32 {
        5
    }
}
