//! Peer observation for people who teach: a trainer invites a colleague
//! on this node to observe a session of one of their offers; the observer
//! answers a short structured form (clarity, pace, interaction, one thing
//! to keep, one to change) that only the trainer sees. Nothing of it
//! leaves the node, and admins see none of it.

use skillmesh_web::ObservationForm;

use crate::clock;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Observation, Seen};

/// Longest "keep" and "change", in bytes.
const MAX_OBSERVATION_TEXT_BYTES: usize = 2000;

impl Service {
    /// Our person `trainer` invites colleague `observer` to observe a
    /// session (`when`, in their words) of their offer `offer_id`.
    pub fn invite_observer(
        &self,
        trainer: &str,
        offer_id: &str,
        observer: &str,
        when: &str,
    ) -> Result<Observation> {
        let item = self
            .store()
            .item(offer_id)?
            .filter(|i| i.owner.as_deref() == Some(trainer))
            .ok_or_else(|| ServiceError::NotFound("offer".into()))?;
        if observer == trainer {
            return Err(ServiceError::Invalid(
                "invite a colleague, not yourself".into(),
            ));
        }
        if self.store().person(observer)?.is_none() {
            return Err(ServiceError::NotFound("colleague".into()));
        }
        let when = when.trim();
        if when.len() > skillmesh_protocol::limits::MAX_TITLE_BYTES {
            return Err(ServiceError::Invalid(
                "say which session more briefly".into(),
            ));
        }
        let observation = Observation {
            id: crate::service::random_id("obs")?,
            trainer: trainer.to_string(),
            observer: observer.to_string(),
            offer_id: offer_id.to_string(),
            offer_title: item.body.title(),
            when: when.to_string(),
            feedback: None,
            invited_at: clock::now(),
            given_at: None,
        };
        self.store().put_observation(&observation)?;
        Ok(observation)
    }

    /// The observer `observer` says what they saw (again: it replaces).
    pub fn give_observation(
        &self,
        observer: &str,
        id: &str,
        form: ObservationForm,
    ) -> Result<Observation> {
        let mut observation = self
            .store()
            .observation(id)?
            .filter(|o| o.observer == observer)
            .ok_or_else(|| ServiceError::NotFound("observation".into()))?;
        for (what, value) in [
            ("clarity", form.clarity),
            ("pace", form.pace),
            ("interaction", form.interaction),
        ] {
            if !(1..=5).contains(&value) {
                return Err(ServiceError::Invalid(format!("{what} must be 1 to 5")));
            }
        }
        let seen = Seen {
            clarity: form.clarity,
            pace: form.pace,
            interaction: form.interaction,
            keep: form.keep.trim().to_string(),
            change: form.change.trim().to_string(),
        };
        if seen.keep.len() > MAX_OBSERVATION_TEXT_BYTES
            || seen.change.len() > MAX_OBSERVATION_TEXT_BYTES
        {
            return Err(ServiceError::Invalid(format!(
                "keep each answer under {MAX_OBSERVATION_TEXT_BYTES} bytes"
            )));
        }
        observation.feedback = Some(seen);
        observation.given_at = Some(clock::now());
        self.store().put_observation(&observation)?;
        self.recognition_changed(observer)?;
        Ok(observation)
    }

    /// The observations `person` was asked to give, and those of their
    /// own sessions, newest first.
    pub fn observations_of(&self, person: &str) -> Result<(Vec<Observation>, Vec<Observation>)> {
        let mut all = self.store().observations()?;
        all.sort_by_key(|o| std::cmp::Reverse(o.invited_at));
        let (to_give, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|o| o.observer == person);
        let of_mine = rest.into_iter().filter(|o| o.trainer == person).collect();
        Ok((to_give, of_mine))
    }
}
