//! What the web pages and the API show, built on blocking threads over
//! the service.

use super::*;

/// Everything below runs on blocking threads, over the service.
impl Service {
    /// The name other organisations gave themselves on their cards (or
    /// when asking to join), else the first 8 hex digits of the key.
    pub(crate) fn org_display_name(&self, org: &OrgKey) -> String {
        if *org == self.org() {
            return self.org_name().to_string();
        }
        if let Some(name) = self.known_org_name(org) {
            return name;
        }
        match self.store().join_request(org) {
            Ok(Some(r)) => r.card.map(|c| c.name),
            _ => None,
        }
        .unwrap_or_else(|| org.short())
    }

    pub(super) fn web_user(&self, account: &Account) -> ApiResult<User> {
        let person = match &account.person_id {
            Some(id) => self.store().person(id).map_err(store_error)?,
            None => None,
        };
        Ok(User {
            username: account.username.clone(),
            role: role_to_web(account.role),
            person_id: account.person_id.clone().unwrap_or_default(),
            display_name: person
                .map(|p| p.display_name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| account.username.clone()),
        })
    }

    pub(super) fn web_profile(&self, person: Person) -> ApiResult<Profile> {
        let policy = self.store().outbound_policy().map_err(store_error)?;
        let preview = self.listing_of(&person)?;
        let recognition = self.recognition(&person.id).map_err(store_error)?;
        let mut kudos: Vec<KudosNote> = Vec::new();
        for e in self.store().inbox_of(&person.id).map_err(store_error)? {
            if let Some(k) = e.kudos {
                kudos.push(KudosNote {
                    from_name: k.from_name,
                    from_org_name: self.org_display_name(&e.from_org),
                    from_org_fingerprint: e.from_org.fingerprint(),
                    offer_title: self.own_title(&e.offer_id)?,
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
            headline: person.headline,
            topics: person.topics,
            languages: person.languages,
            time_zone: person.time_zone,
            formats: person.formats,
            availability: person.availability,
        })
    }

    pub(super) fn outbox_item(&self, e: OutboxEntry) -> OutboxItem {
        OutboxItem {
            offer_org_name: self.org_display_name(&e.offer_org),
            offer_org_fingerprint: e.offer_org.fingerprint(),
            // A store error here only hides the "feedback given" mark.
            feedback_given: self.store().feedback(&e.id).ok().flatten().is_some(),
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
                        org_name: self.org_display_name(&m.org),
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
    pub(super) fn person_name(&self, id: &str) -> ApiResult<String> {
        Ok(self
            .store()
            .person(id)
            .map_err(store_error)?
            .map_or_else(|| id.to_string(), |p| p.display_name))
    }

    pub(super) fn observation_view(
        &self,
        o: crate::store::Observation,
    ) -> ApiResult<ObservationView> {
        Ok(ObservationView {
            trainer_name: self.person_name(&o.trainer)?,
            observer_name: self.person_name(&o.observer)?,
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
    pub(super) fn own_title(&self, id: &str) -> ApiResult<String> {
        Ok(self
            .store()
            .item(id)
            .map_err(store_error)?
            .map_or_else(|| id.to_string(), |i| i.body.title()))
    }

    pub(super) fn inbox_item(&self, e: InboxEntry) -> ApiResult<InboxItem> {
        let offer_title = self.own_title(&e.offer_id)?;
        let from_org_lookalike = self
            .lookalike_of(&e.from_org)?
            .map(|(name, key)| format!("name looks like {name}'s, key {}", key.fingerprint()));
        Ok(InboxItem {
            from_org_name: self.org_display_name(&e.from_org),
            from_org_fingerprint: e.from_org.fingerprint(),
            from_org_new: self.is_new_org(&e.from_org)?,
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
        })
    }

    /// The feed item of a session signed up for, from the event as held
    /// (none if the event is gone or no longer has that session).
    pub(super) fn signed_up_session(
        &self,
        e: &OutboxEntry,
        session: &str,
    ) -> ApiResult<Option<FeedItem>> {
        let Some(row) = self
            .store()
            .get_record(&e.offer_org, &e.offer_id)
            .map_err(store_error)?
            .filter(|r| !r.tombstone)
        else {
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
                org_name: self.org_display_name(&e.offer_org),
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
    pub(super) fn calendar_items(&self, person: &str) -> ApiResult<Vec<FeedItem>> {
        let mut items = Vec::new();
        for e in self.store().outbox_of(person).map_err(store_error)? {
            if e.status != OutboxStatus::Accepted {
                continue;
            }
            if let Some(session) = &e.session {
                if let Some(item) = self.signed_up_session(&e, session)? {
                    items.push(item);
                }
                continue;
            }
            if let Some(g) = e.group.filter(|g| !g.schedule.is_empty()) {
                items.push(FeedItem {
                    org_name: self.org_display_name(&e.offer_org),
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
        let own = self.org();
        for item in self.store().items_of(person).map_err(store_error)? {
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
                    org_name: self.org_name().to_string(),
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

    pub(super) fn web_listing(&self, org: &OrgKey, id: &str) -> ApiResult<Listing> {
        let not_found = || ApiError::NotFound("no such record".into());
        // A record of an organisation not admitted here is not shown.
        let Some(row) = self.visible_record(org, id)? else {
            return self.local_listing(org, id)?.ok_or_else(not_found);
        };
        let record = row.record().map_err(store_error)?;
        // What people search for, and what organisations publish of
        // their impact, has a page.
        if !Kind::SEARCHABLE.contains(&record.kind()) && record.kind() != Kind::ImpactSummary {
            return Err(not_found());
        }
        // Re-check the signature on view (the page says so).
        let signature_verified = row.signed_by(org);
        let own = *org == self.org();
        let requestable = !own && record.body.offer_status() == Some(OfferStatus::Open);
        let (contributable, our_sessions, org_names) = match &record.body {
            Body::Event(e) => {
                let contributable = !own && e.contributors.contains(&self.org());
                let ours: Vec<String> = e
                    .sessions
                    .iter()
                    .filter(|s| contributable && s.contributor == Some(self.org()))
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
                            name: self.org_display_name(&org),
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
            org_name: self.org_display_name(org),
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
        })
    }

    /// One of our own content items kept inside the organisation, shown
    /// to colleagues as a listing (not signed: nothing was published).
    pub(super) fn local_listing(&self, org: &OrgKey, id: &str) -> ApiResult<Option<Listing>> {
        if *org != self.org() {
            return Ok(None);
        }
        let Some(item) = self
            .store()
            .item(id)
            .map_err(store_error)?
            .filter(OwnItem::kept_inside)
        else {
            return Ok(None);
        };
        Ok(Some(Listing {
            org: *org,
            org_name: self.org_name().to_string(),
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
        }))
    }

    pub(super) fn web_federation(
        &self,
        peers: Vec<crate::network::PeerInfo>,
    ) -> ApiResult<Federation> {
        let store = self.store();
        let own = self.org();
        let mut rows: BTreeMap<OrgKey, OrgRow> = BTreeMap::new();
        /// The row for `org`, made on first sight; none for our own.
        fn row(
            rows: &mut BTreeMap<OrgKey, OrgRow>,
            own: OrgKey,
            org: OrgKey,
        ) -> Option<&mut OrgRow> {
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
        for (org, n) in store.record_counts().map_err(store_error)? {
            if org == own {
                own_records += n;
            } else {
                federated += n;
            }
            row(&mut rows, own, org);
        }
        for (org, n) in store.live_counts().map_err(store_error)? {
            if let Some(r) = row(&mut rows, own, org) {
                r.records = n;
            }
        }
        for (org, listing) in store.org_listings().map_err(store_error)? {
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
        for request in store.join_requests().map_err(store_error)? {
            if let Some(r) = row(&mut rows, own, request.org) {
                r.wants_to_join = true;
            }
        }
        let connected: Vec<OrgKey> = peers.iter().filter_map(|p| p.org).collect();
        let current_partners = self.current_partners(&connected)?.len() as u64;
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
                    .map_or_else(|| "unknown".to_string(), |o| self.org_display_name(&o)),
                org_fingerprint: p.org.map(|o| o.fingerprint()),
                peer_id: p.peer,
                org: p.org,
            });
        }
        let mut orgs: Vec<OrgRow> = rows
            .into_values()
            .map(|mut r| -> ApiResult<OrgRow> {
                r.name = self.org_display_name(&r.key);
                r.fingerprint = r.key.fingerprint();
                r.new = self.is_new_org(&r.key)?;
                r.lookalike = self.lookalike_of(&r.key)?.map(|(name, key)| {
                    format!("name looks like {name}'s, key {}", key.fingerprint())
                });
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
        let inbound = self.inbound();
        Ok(Federation {
            mode: mode_to_web(inbound.mode),
            approval_required: inbound.approval_required,
            orgs,
            peers: peer_rows,
            rejections: store
                .rejection_counts()
                .map_err(store_error)?
                .into_iter()
                .map(|(code, count)| RejectionCount { code, count })
                .collect(),
            policy_refusals: store
                .policy_refusals()
                .map_err(store_error)?
                .into_iter()
                .map(|r| PolicyRefusalRow {
                    org_name: self.org_display_name(&r.org),
                    org_fingerprint: r.org.fingerprint(),
                    org: r.org,
                    reason: r.reason,
                    count: r.count,
                    last_at: r.last_at,
                })
                .collect(),
            quota_notices: store
                .quota_notices()
                .map_err(store_error)?
                .into_iter()
                .map(|n| QuotaNoticeRow {
                    org_name: self.org_display_name(&n.from),
                    org_fingerprint: n.from.fingerprint(),
                    org: n.from,
                    record_id: n.record_id,
                    held: n.held,
                    limit: n.limit,
                    received_at: n.received_at,
                    count: n.count,
                })
                .collect(),
            current_partners,
            federated_records: federated,
            own_records,
        })
    }

    pub(super) fn web_approvals(&self) -> ApiResult<Vec<Approval>> {
        let (people, items) = self.pending_approvals()?;
        let mut out = Vec::new();
        for person in people {
            let Some(listing) = self.listing_of(&person)? else {
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
                Some(p) => self
                    .store()
                    .person(p)
                    .map_err(store_error)?
                    .map_or_else(|| p.clone(), |p| p.display_name),
                None => self.org_name().to_string(),
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

    pub(super) fn web_audit(&self, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
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
            let since = skillmesh_web::dates::parse_date(day).ok_or_else(|| {
                ApiError::Invalid(format!("{day:?} is not a day written YYYY-MM-DD"))
            })?;
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
        Ok(self
            .store()
            .audit_log(&filter)
            .map_err(store_error)?
            .into_iter()
            .map(|e| {
                let org_name = e.org.as_ref().and_then(|hex| {
                    names
                        .entry(hex.clone())
                        .or_insert_with(|| {
                            hex.parse::<OrgKey>()
                                .ok()
                                .map(|o| self.org_display_name(&o))
                        })
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

    pub(super) fn add_user_as(&self, actor: &User, new: NewUser) -> ApiResult<AddedUser> {
        let generated = new.password.is_empty();
        let password = if generated {
            accounts::random_password().map_err(account_error)?
        } else {
            new.password
        };
        let account = accounts::add_user(
            self.store(),
            new.username.trim(),
            &new.display_name,
            role_from_web(new.role),
            &password,
            &Actor::person(&actor.username),
        )
        .map_err(account_error)?;
        Ok(AddedUser {
            user: self.web_user(&account)?,
            // Only a password the node made up is handed back.
            password: if generated { password } else { String::new() },
        })
    }
}
