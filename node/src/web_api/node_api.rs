//! The web's ports (one per area, see `skillmesh_web::NodeApi`) for
//! [`WebState`]: each call maps the signed-in user to a [`Caller`] where
//! the service checks who may do it, and runs the work on a blocking
//! thread.

use super::*;

impl AccountsApi for WebState {
    async fn sign_in(&self, username: &str, password: &str) -> ApiResult<Option<User>> {
        if !self.password_sign_in {
            return Err(ApiError::Forbidden(
                "Signing in with a password is switched off here.".into(),
            ));
        }
        let Some(account) = self.service.sign_in(username, password).await? else {
            return Ok(None);
        };
        self.service
            .blocking(move |svc| views::web_user(svc, &account).map(Some))
            .await
    }

    fn sign_in_options(&self) -> SignInOptions {
        SignInOptions {
            password: self.password_sign_in,
            single_sign_on: self.sso.as_ref().map(|s| s.name().to_string()),
        }
    }

    async fn begin_sso(&self) -> ApiResult<SsoStart> {
        let sso = self.sso()?;
        let started = sso.begin().await.map_err(sso_error)?;
        Ok(SsoStart {
            url: started.url,
            state: started.state,
        })
    }

    async fn finish_sso(&self, state: &str, code: &str) -> ApiResult<User> {
        let sso = self.sso()?;
        let who = sso.finish(state, code).await.map_err(sso_error)?;
        self.service
            .blocking(move |svc| {
                let account = svc.sign_in_sso(&who).map_err(sso_refusal)?;
                views::web_user(svc, &account)
            })
            .await
    }

    async fn user(&self, username: &str) -> ApiResult<Option<User>> {
        let username = username.to_string();
        self.service
            .blocking(move |svc| {
                // A deactivated account is no one: its sessions end at
                // their next request.
                svc.account(&username)?
                    .filter(Account::is_active)
                    .map(|a| views::web_user(svc, &a))
                    .transpose()
            })
            .await
    }

    async fn user_for_token(&self, token: &str) -> ApiResult<Option<User>> {
        if accounts::token_sha256(TokenKind::Api, token).is_none() {
            return Ok(None);
        }
        let token = token.to_string();
        self.service
            .blocking(move |svc| {
                svc.account_for_token(TokenKind::Api, &token)?
                    .map(|a| views::web_user(svc, &a))
                    .transpose()
            })
            .await
    }

    async fn new_api_token(&self, user: &User, name: &str) -> ApiResult<NewApiToken> {
        let (username, name) = (user.username.clone(), name.to_string());
        self.service
            .blocking(move |svc| {
                let (token, held) = svc.new_api_token(&username, &name)?;
                Ok(NewApiToken {
                    token,
                    info: token_info(&held),
                })
            })
            .await
    }

    async fn api_tokens(&self, user: &User) -> ApiResult<Vec<ApiTokenInfo>> {
        let username = user.username.clone();
        self.service
            .blocking(move |svc| Ok(svc.api_tokens(&username)?.iter().map(token_info).collect()))
            .await
    }

    async fn revoke_api_token(&self, user: &User, id: &str) -> ApiResult<()> {
        let (username, id) = (user.username.clone(), id.to_string());
        self.service
            .blocking(move |svc| Ok(svc.revoke_api_token(&username, &id)?))
            .await
    }

    async fn keep_session(&self, session: KeptSession) -> ApiResult<()> {
        let kept = session_to_store(session);
        self.service
            .blocking(move |svc| Ok(svc.save_session(&kept)?))
            .await
    }

    async fn kept_session(&self, id: &str) -> ApiResult<Option<KeptSession>> {
        let id = id.to_string();
        self.service
            .blocking(move |svc| Ok(svc.session(&id)?.map(session_to_web)))
            .await
    }

    async fn end_session(&self, id: &str) -> ApiResult<()> {
        let id = id.to_string();
        self.service
            .blocking(move |svc| Ok(svc.end_session(&id)?))
            .await
    }

    async fn end_sessions(&self, user: &User) -> ApiResult<Vec<String>> {
        let username = user.username.clone();
        self.service
            .blocking(move |svc| Ok(svc.end_sessions_of(&username, &Actor::person(&username))?))
            .await
    }

    async fn new_calendar_token(&self, user: &User) -> ApiResult<String> {
        let username = user.username.clone();
        self.service
            .blocking(move |svc| Ok(svc.new_calendar_token(&username)?))
            .await
    }

    async fn calendar_feed(&self, token: &str) -> ApiResult<Option<Vec<FeedItem>>> {
        if accounts::token_sha256(TokenKind::Calendar, token).is_none() {
            return Ok(None);
        }
        let token = token.to_string();
        self.service
            .blocking(move |svc| {
                let Some(account) = svc.account_for_token(TokenKind::Calendar, &token)? else {
                    return Ok(None);
                };
                Ok(Some(views::calendar_items(
                    svc,
                    &Caller::of_account(&account),
                )?))
            })
            .await
    }

    async fn set_user_active(&self, actor: &User, username: &str, active: bool) -> ApiResult<User> {
        let (actor, username) = (Actor::person(&actor.username), username.to_string());
        self.service
            .blocking(move |svc| {
                let account = svc.set_account_active(&username, active, &actor)?;
                views::web_user(svc, &account)
            })
            .await
    }

    async fn users(&self) -> ApiResult<Vec<User>> {
        self.service
            .blocking(move |svc| {
                svc.accounts()?
                    .iter()
                    .map(|a| views::web_user(svc, a))
                    .collect()
            })
            .await
    }

    async fn add_user(&self, actor: &User, new: NewUser) -> ApiResult<AddedUser> {
        let actor = Actor::person(&actor.username);
        if new.password.is_empty() {
            return self
                .service
                .blocking(move |svc| {
                    let (account, token, link) = svc
                        .add_invited_user(
                            new.username.trim(),
                            &new.display_name,
                            role_from_web(new.role),
                            &actor,
                        )
                        .map_err(account_error)?;
                    Ok(AddedUser {
                        user: views::web_user(svc, &account)?,
                        invitation: Some(link_view(svc, &token, &link)),
                    })
                })
                .await;
        }
        let account = self
            .service
            .add_user(
                new.username.trim(),
                &new.display_name,
                role_from_web(new.role),
                &new.password,
                &actor,
            )
            .await
            .map_err(account_error)?;
        self.service
            .blocking(move |svc| {
                Ok(AddedUser {
                    user: views::web_user(svc, &account)?,
                    invitation: None,
                })
            })
            .await
    }

    async fn remove_user(&self, actor: &User, username: &str) -> ApiResult<()> {
        let (actor, username) = (Actor::person(&actor.username), username.to_string());
        self.service
            .blocking(move |svc| Ok(svc.remove_account(&username, &actor)?))
            .await
    }

    async fn new_access_link(&self, actor: &User, username: &str) -> ApiResult<AccessLinkView> {
        let (actor, username) = (Actor::person(&actor.username), username.to_string());
        self.service
            .blocking(move |svc| {
                let (token, link) = svc.new_access_link(&username, &actor)?;
                Ok(link_view(svc, &token, &link))
            })
            .await
    }

    async fn access_link(&self, token: &str) -> ApiResult<Option<AccessLinkFor>> {
        if access_links::link_sha256(token).is_none() {
            return Ok(None);
        }
        let token = token.to_string();
        self.service
            .blocking(move |svc| {
                let Some((link, account)) = svc.access_link(&token)? else {
                    return Ok(None);
                };
                let user = views::web_user(svc, &account)?;
                Ok(Some(AccessLinkFor {
                    username: user.username,
                    display_name: user.display_name,
                    purpose: link.purpose.as_str().to_string(),
                }))
            })
            .await
    }

    async fn use_access_link(&self, token: &str, password: &str) -> ApiResult<User> {
        let (account, _purpose) = self
            .service
            .use_access_link(token, password)
            .await
            .map_err(link_error)?;
        self.service
            .blocking(move |svc| views::web_user(svc, &account))
            .await
    }
}

impl PeopleApi for WebState {
    async fn profile(&self, user: &User) -> ApiResult<Profile> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let caller = caller(&user);
                views::web_profile(svc, &caller, svc.own_person(&caller)?)
            })
            .await
    }

    async fn update_profile(&self, user: &User, update: ProfileUpdate) -> ApiResult<Profile> {
        let caller = caller(user);
        let change = ProfileChange {
            display_name: update.display_name,
            profile: update.profile,
            sharing: fields_to_sharing(update.sharing),
            questions: update.questions.map(questions_to_store),
        };
        self.service
            .blocking(move |svc| {
                let person = svc.update_own_profile(&caller, change)?;
                views::web_profile(svc, &caller, person)
            })
            .await
    }

    async fn colleagues(&self, user: &User) -> ApiResult<Vec<Colleague>> {
        let me = user.person_id.clone();
        self.service
            .blocking(move |svc| {
                let mut out: Vec<Colleague> = svc
                    .people()?
                    .into_iter()
                    .filter(|p| p.id != me)
                    .map(|p| Colleague {
                        name: if p.display_name.trim().is_empty() {
                            p.id.clone()
                        } else {
                            p.display_name
                        },
                        person_id: p.id,
                    })
                    .collect();
                out.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(out)
            })
            .await
    }

    async fn notifications(&self, user: &User) -> ApiResult<Vec<NotificationView>> {
        let person = user.person_id.clone();
        self.service
            .blocking(move |svc| {
                Ok(svc
                    .notifications(&person)?
                    .into_iter()
                    .map(notification_to_web)
                    .collect())
            })
            .await
    }

    async fn mail_choices(&self, user: &User) -> ApiResult<(bool, Vec<MailChoiceView>)> {
        let person = user.person_id.clone();
        self.service
            .blocking(move |svc| {
                let choices = svc
                    .mail_choices(&person)?
                    .into_iter()
                    .map(|(kind, choice)| MailChoiceView {
                        kind: skillmesh_protocol::kinds::wire_name(&kind),
                        label: crate::mail::kind_label(kind).into(),
                        choice: skillmesh_protocol::kinds::wire_name(&choice),
                    })
                    .collect();
                Ok((svc.mails(), choices))
            })
            .await
    }

    async fn set_mail_choices(&self, user: &User, choices: Vec<MailChoiceView>) -> ApiResult<()> {
        let person = user.person_id.clone();
        let mut parsed = Vec::with_capacity(choices.len());
        for c in &choices {
            let kind = serde_json::from_value(serde_json::Value::String(c.kind.clone())).map_err(
                |_| ApiError::Invalid(format!("{:?} is not a kind of notification.", c.kind)),
            )?;
            let choice = serde_json::from_value(serde_json::Value::String(c.choice.clone()))
                .map_err(|_| {
                    ApiError::Invalid(format!(
                        "Choose immediately, digest or never, not {:?}.",
                        c.choice
                    ))
                })?;
            parsed.push((kind, choice));
        }
        self.service
            .blocking(move |svc| Ok(svc.set_mail_choices(&person, &parsed)?))
            .await
    }

    async fn unread_notifications(&self, user: &User) -> ApiResult<usize> {
        let person = user.person_id.clone();
        self.service
            .blocking(move |svc| Ok(svc.unread_notifications(&person)?))
            .await
    }

    async fn mark_notifications_read(
        &self,
        user: &User,
        ids: Option<Vec<String>>,
    ) -> ApiResult<usize> {
        let person = user.person_id.clone();
        self.service
            .blocking(move |svc| Ok(svc.mark_notifications_read(&person, ids.as_deref())?))
            .await
    }
}

impl DiscoveryApi for WebState {
    async fn search(&self, _user: &User, query: &SearchQuery) -> ApiResult<SearchResults> {
        // Recent results that still hold are served at once: no gate, no
        // hop to a blocking thread (see skillmesh-search's results cache).
        if let Some(results) = self.service.search_engine().recent(query, clock::now()) {
            return Ok(results);
        }
        let query = query.clone();
        self.service
            .gated(skillmesh_app::gate::searches(), move |svc| {
                Ok(svc.search(&query, clock::now()))
            })
            .await
    }

    async fn listing(&self, user: &User, org: &OrgKey, id: &str) -> ApiResult<Listing> {
        let (org, id, caller) = (*org, id.to_string(), caller(user));
        self.service
            .blocking(move |svc| {
                let mut listing = views::web_listing(svc, &org, &id)?;
                if let Some(f) = svc.own_follow(&caller, &org, &id)? {
                    listing.tell_curator = f.tell_curator;
                    listing.following = Some(f.done.into_iter().collect());
                }
                Ok(listing)
            })
            .await
    }
}

impl OffersApi for WebState {
    async fn offers(&self, user: &User) -> ApiResult<Vec<Offer>> {
        let caller = caller(user);
        self.service
            .blocking(move |svc| Ok(svc.own_offers(&caller)?.into_iter().map(offer_of).collect()))
            .await
    }

    async fn offer(&self, user: &User, id: &str) -> ApiResult<Offer> {
        let (caller, id) = (caller(user), id.to_string());
        self.service
            .blocking(move |svc| Ok(offer_of(svc.own_offer(&caller, &id)?)))
            .await
    }

    async fn save_offer(&self, user: &User, id: Option<&str>, body: Body) -> ApiResult<Offer> {
        let (caller, id) = (caller(user), id.map(str::to_string));
        self.service
            .blocking(move |svc| Ok(offer_of(svc.save_offer(&caller, id.as_deref(), body)?)))
            .await
    }

    async fn offer_action(&self, user: &User, id: &str, action: OfferAction) -> ApiResult<Offer> {
        let (caller, id) = (caller(user), id.to_string());
        let change = offer_change(action);
        self.service
            .blocking(move |svc| Ok(offer_of(svc.change_offer(&caller, &id, change)?)))
            .await
    }
}

impl RequestsApi for WebState {
    async fn send_request(&self, user: &User, request: NewRequest) -> ApiResult<OutboxItem> {
        let caller = caller(user);
        let (offer_org, offer_id) = (request.offer_org, request.offer_id.clone());
        let ask = ask_of(request)?;
        self.service
            .blocking(move |svc| {
                let entry = svc.ask(&caller, offer_org, &offer_id, ask)?;
                Ok(views::outbox_item(svc, entry))
            })
            .await
    }

    async fn inbox(&self, user: &User) -> ApiResult<Vec<InboxItem>> {
        let caller = caller(user);
        self.service
            .blocking(move |svc| {
                let entries = svc.own_inbox(&caller)?;
                entries
                    .into_iter()
                    .map(|e| views::inbox_item(svc, e))
                    .collect()
            })
            .await
    }

    async fn outbox(&self, user: &User) -> ApiResult<Vec<OutboxItem>> {
        let caller = caller(user);
        self.service
            .blocking(move |svc| {
                let entries = svc.own_outbox(&caller)?;
                Ok(entries
                    .into_iter()
                    .map(|e| views::outbox_item(svc, e))
                    .collect())
            })
            .await
    }

    async fn answer_request(
        &self,
        user: &User,
        from_org: &OrgKey,
        id: &str,
        answer: RequestAnswer,
    ) -> ApiResult<InboxItem> {
        let (caller, from_org, id) = (caller(user), *from_org, id.to_string());
        self.service
            .blocking(move |svc| {
                let entry =
                    svc.answer_own_request(&caller, from_org, &id, answer.accept, &answer.reply)?;
                views::inbox_item(svc, entry)
            })
            .await
    }

    async fn give_feedback(
        &self,
        user: &User,
        request_id: &str,
        form: FeedbackForm,
    ) -> ApiResult<()> {
        let (user, id) = (user.clone(), request_id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                svc.give_feedback(&person.id, &id, form)?;
                Ok(())
            })
            .await
    }

    async fn send_kudos(
        &self,
        user: &User,
        request_id: &str,
        kudos: NewKudos,
    ) -> ApiResult<OutboxItem> {
        let (user, id) = (user.clone(), request_id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                let entry = svc.send_kudos(&person.id, &id, &kudos.message)?;
                Ok(views::outbox_item(svc, entry))
            })
            .await
    }
}

impl ContentApi for WebState {
    async fn following(&self, user: &User) -> ApiResult<Vec<Following>> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let caller = caller(&user);
                svc.own_person(&caller)?;
                let mut out = Vec::new();
                for f in svc.own_follows(&caller)? {
                    let held = match svc.held_record(&f.org, &f.id)? {
                        Some(row) => Some(row.record().map_err(store_error)?.body),
                        None => None,
                    };
                    let (title, total) = match held {
                        Some(Body::Content(c)) => (c.title, c.items.len()),
                        _ => (f.title.clone(), 0),
                    };
                    out.push(Following {
                        org_name: svc.org_display_name(&f.org),
                        org_fingerprint: f.org.fingerprint(),
                        org: f.org,
                        id: f.id,
                        title,
                        done: f.done.len(),
                        withdrawn: total == 0,
                        total,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn follow(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        options: FollowOptions,
    ) -> ApiResult<()> {
        let (user, org, id) = (user.clone(), *org, id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                svc.follow_list(&person.id, org, &id, options.tell_curator)?;
                Ok(())
            })
            .await
    }

    async fn unfollow(&self, user: &User, org: &OrgKey, id: &str) -> ApiResult<()> {
        let (user, org, id) = (user.clone(), *org, id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                Ok(svc.unfollow_list(&person.id, org, &id)?)
            })
            .await
    }

    async fn set_progress(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        progress: Progress,
    ) -> ApiResult<()> {
        let (user, org, id) = (user.clone(), *org, id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                svc.tick_off(&person.id, org, &id, &progress.done)?;
                Ok(())
            })
            .await
    }

    async fn recommend(&self, user: &User, r: NewRecommendation) -> ApiResult<()> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                svc.recommend(&person.id, &r.to, r.org, &r.id, &r.note)?;
                Ok(())
            })
            .await
    }

    async fn recommended(&self, user: &User) -> ApiResult<Vec<Recommended>> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let caller = caller(&user);
                svc.own_person(&caller)?;
                let mut out = Vec::new();
                for r in svc.own_recommendations(&caller)? {
                    out.push(Recommended {
                        from_name: views::person_name(svc, &r.from)?,
                        org_name: svc.org_display_name(&r.org),
                        org_fingerprint: r.org.fingerprint(),
                        org: r.org,
                        id: r.id,
                        title: r.title,
                        note: r.note,
                        at: r.at,
                    });
                }
                out.sort_by_key(|r| std::cmp::Reverse(r.at));
                Ok(out)
            })
            .await
    }
}

impl ObservationsApi for WebState {
    async fn invite_observer(
        &self,
        user: &User,
        offer_id: &str,
        invitation: NewObservation,
    ) -> ApiResult<ObservationView> {
        let (user, offer_id) = (user.clone(), offer_id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                let o = svc.invite_observer(
                    &person.id,
                    &offer_id,
                    &invitation.observer,
                    &invitation.when,
                )?;
                views::observation_view(svc, o)
            })
            .await
    }

    async fn observations(&self, user: &User) -> ApiResult<Observations> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                let (to_give, of_mine) = svc.observations_of(&person.id)?;
                Ok(Observations {
                    to_give: to_give
                        .into_iter()
                        .map(|o| views::observation_view(svc, o))
                        .collect::<ApiResult<_>>()?,
                    of_mine: of_mine
                        .into_iter()
                        .map(|o| views::observation_view(svc, o))
                        .collect::<ApiResult<_>>()?,
                })
            })
            .await
    }

    async fn give_observation(
        &self,
        user: &User,
        id: &str,
        form: ObservationForm,
    ) -> ApiResult<()> {
        let (user, id) = (user.clone(), id.to_string());
        self.service
            .blocking(move |svc| {
                let person = svc.own_person(&caller(&user))?;
                svc.give_observation(&person.id, &id, form)?;
                Ok(())
            })
            .await
    }
}

impl ImpactApi for WebState {
    async fn impact(&self, query: &ImpactQuery) -> ApiResult<Impact> {
        let query = query.clone();
        self.service
            .blocking(move |svc| Ok(svc.impact(&query)?))
            .await
    }

    async fn impact_summaries(&self) -> ApiResult<Vec<PublishedImpact>> {
        self.service
            .blocking(move |svc| {
                let own = svc.org();
                Ok(svc
                    .impact_summaries()?
                    .into_iter()
                    .map(|h| PublishedImpact {
                        org_name: svc.org_display_name(&h.org),
                        org_fingerprint: h.org.fingerprint(),
                        own: h.org == own,
                        issued_at: h.record.header.issued_at,
                        org: h.org,
                        summary: h.summary,
                        signature_verified: h.signature_verified,
                    })
                    .collect())
            })
            .await
    }

    async fn publish_impact(
        &self,
        actor: &User,
        query: &ImpactQuery,
    ) -> ApiResult<PublishedImpact> {
        let (query, actor) = (query.clone(), Actor::person(&actor.username));
        self.service
            .blocking(move |svc| {
                let summary = svc.publish_impact_summary(&query, &actor)?;
                Ok(PublishedImpact {
                    org: svc.org(),
                    org_name: svc.org_name().to_string(),
                    org_fingerprint: svc.org().fingerprint(),
                    own: true,
                    issued_at: clock::now(),
                    summary,
                    signature_verified: true,
                })
            })
            .await
    }

    async fn withdraw_impact(&self, actor: &User) -> ApiResult<()> {
        let actor = Actor::person(&actor.username);
        self.service
            .blocking(move |svc| {
                if svc.withdraw_impact_summary(&actor)? {
                    Ok(())
                } else {
                    Err(ApiError::NotFound("no impact summary is published".into()))
                }
            })
            .await
    }
}

impl SteeringApi for WebState {
    async fn federation(&self) -> ApiResult<Federation> {
        let peers = self.peers().await;
        self.service
            .blocking(move |svc| views::web_federation(svc, peers))
            .await
    }

    async fn set_federation_mode(
        &self,
        actor: &User,
        mode: FederationMode,
    ) -> ApiResult<ModeChanged> {
        let connected = self.connected_orgs().await;
        let actor = Actor::person(&actor.username);
        let kept = self
            .service
            .blocking(move |svc| svc.set_federation_mode(mode_from_web(mode), &actor, &connected))
            .await?;
        // Organisations the new mode lets in catch up at once.
        admin::resync(&self.network).await;
        Ok(ModeChanged {
            mode,
            partners_kept: kept as u64,
        })
    }

    async fn org_action(&self, actor: &User, org: &OrgKey, action: OrgAction) -> ApiResult<()> {
        if *org == self.service.org() {
            return Err(ApiError::Invalid(
                "that is this organisation's own key".into(),
            ));
        }
        let (svc, net, who) = (
            &self.service,
            &self.network,
            &Actor::person(&actor.username),
        );
        match action {
            OrgAction::Allow => admin::allow_org(svc, net, *org, who).await?,
            OrgAction::Block => {
                admin::block_org(svc, net, *org, who).await?;
            }
            OrgAction::Clear => admin::unblock_org(svc, net, *org, who).await?,
            OrgAction::Refuse => {
                let (org, who) = (*org, who.clone());
                self.service
                    .blocking(move |svc| svc.refuse_join(&org, &who))
                    .await?;
            }
        }
        Ok(())
    }

    async fn approvals(&self) -> ApiResult<Vec<Approval>> {
        self.service.blocking(views::web_approvals).await
    }

    async fn approve(&self, actor: &User, id: &str) -> ApiResult<()> {
        let (actor, id) = (actor.clone(), id.to_string());
        self.service
            .blocking(move |svc| Ok(svc.approve_pending(&id, &Actor::person(&actor.username))?))
            .await
    }

    async fn outbound_policy(&self) -> ApiResult<SharedFields> {
        self.service
            .blocking(move |svc| Ok(sharing_to_fields(svc.outbound_policy()?.fields)))
            .await
    }

    async fn set_outbound_policy(&self, actor: &User, fields: SharedFields) -> ApiResult<()> {
        let actor = Actor::person(&actor.username);
        self.service
            .blocking(move |svc| {
                let policy = store::OutboundPolicy {
                    fields: fields_to_sharing(fields),
                };
                Ok(svc.set_outbound_policy(&policy, &actor)?)
            })
            .await
    }

    async fn audit(&self, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
        let query = query.clone();
        self.service
            .blocking(move |svc| views::web_audit(svc, &query))
            .await
    }

    async fn webhook(&self) -> ApiResult<Webhook> {
        self.service
            .blocking(move |svc| Ok(webhook_view(svc.webhook_status()?)))
            .await
    }

    async fn set_webhook(&self, actor: &User, url: Option<String>) -> ApiResult<Webhook> {
        let actor = Actor::person(&actor.username);
        self.service
            .blocking(move |svc| Ok(webhook_view(svc.set_webhook_url(url.as_deref(), &actor)?)))
            .await
    }

    async fn test_webhook(&self, actor: &User) -> ApiResult<Webhook> {
        let actor = Actor::person(&actor.username);
        self.service
            .blocking(move |svc| Ok(webhook_view(svc.test_webhook(&actor)?)))
            .await
    }
}

impl NodeApi for WebState {
    fn org_name(&self) -> String {
        self.service.org_name().to_string()
    }

    async fn health(&self) -> Health {
        let (federated, own) = match self.service.record_counts() {
            Ok(c) => c,
            // A store that cannot be read shows as a problem below.
            Err(e) if e.store_fault().is_some() => (0, 0),
            Err(e) => {
                tracing::warn!(error = %e, "health: cannot count records");
                (0, 0)
            }
        };
        let records_fingerprint = match self.service.replica().fingerprint_all() {
            Ok(acc) => hex::encode(acc.fingerprint()),
            Err(e) => {
                tracing::warn!(error = %e, "health: cannot read the records' fingerprint");
                String::new()
            }
        };
        let network = self.network.status().await.unwrap_or_default();
        let mut problems = self.service.problems();
        problems.extend(network.problems());
        problems.sort_by_key(|p| p.kind);
        let problems: Vec<HealthProblem> = problems
            .into_iter()
            .map(|p| HealthProblem {
                code: p.kind.code().into(),
                message: p.message,
            })
            .collect();
        let org = self.service.org();
        Health {
            status: Health::status_of(&problems),
            problems,
            version: env!("CARGO_PKG_VERSION").into(),
            org: self.service.org_name().to_string(),
            org_key: org.to_hex(),
            org_fingerprint: org.fingerprint(),
            peer_id: network.peer_id,
            listen_addrs: network.listen_addrs,
            peers: network.peers,
            federated_records: federated,
            own_records: own,
            records_fingerprint,
            uptime_secs: self.started.elapsed().as_secs(),
        }
    }
}
