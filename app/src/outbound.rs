//! What leaves the organisation: the expertise listing built from a
//! person's profile carries only the fields the person opted in to share
//! and the organisation's outbound policy lets leave.

use skillmesh_protocol::kinds::{Expertise, RecognitionSummary};

use crate::store::{OutboundPolicy, Person, Sharing};

/// The listing other organisations may see for `person`, or `None` if
/// nothing of it may leave. The person id always goes with it (it is
/// opaque). `recognition`: the person's credit as counted now, which goes
/// with it only if both the person and the policy let it (callers may
/// skip counting it when [`shares_recognition`] says it would not go).
pub fn expertise_listing(
    person: &Person,
    policy: &OutboundPolicy,
    recognition: Option<&RecognitionSummary>,
) -> Option<Expertise> {
    let (p, o) = (person.sharing, policy.fields);
    let s = Sharing {
        display_name: p.display_name && o.display_name,
        headline: p.headline && o.headline,
        topics: p.topics && o.topics,
        languages: p.languages && o.languages,
        time_zone: p.time_zone && o.time_zone,
        formats: p.formats && o.formats,
        availability: p.availability && o.availability,
        email: p.email && o.email,
        recognition: shares_recognition(person, policy),
    };
    if !s.any() {
        return None;
    }
    let non_empty = |v: &str| (!v.trim().is_empty()).then(|| v.to_string());
    Some(Expertise {
        person: person.id.clone(),
        display_name: s
            .display_name
            .then(|| non_empty(&person.display_name))
            .flatten(),
        headline: s
            .headline
            .then(|| non_empty(&person.profile.headline))
            .flatten(),
        topics: if s.topics {
            person.profile.topics.clone()
        } else {
            Vec::new()
        },
        languages: if s.languages {
            person.profile.languages.clone()
        } else {
            Vec::new()
        },
        time_zone: s
            .time_zone
            .then(|| person.profile.time_zone.clone())
            .flatten(),
        formats: if s.formats {
            person.profile.formats.clone()
        } else {
            Vec::new()
        },
        availability: s
            .availability
            .then(|| person.profile.availability.clone())
            .flatten(),
        email: s.email.then(|| non_empty(&person.email)).flatten(),
        recognition: s.recognition.then(|| recognition.cloned()).flatten(),
        takes_questions: person.questions.open,
    })
}

/// Whether `person`'s recognition goes with their listing.
pub fn shares_recognition(person: &Person, policy: &OutboundPolicy) -> bool {
    person.sharing.recognition && policy.fields.recognition
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Sharing;
    use skillmesh_protocol::kinds::{Level, Topic};
    use skillmesh_protocol::profile::ProfileDetails;

    fn person(sharing: Sharing) -> Person {
        Person {
            id: "p-1".into(),
            display_name: "Ana".into(),
            email: "ana@example.org".into(),
            profile: ProfileDetails {
                headline: "SRE".into(),
                topics: vec![Topic {
                    name: "Kubernetes".into(),
                    level: Level::Expert,
                }],
                languages: vec!["en".into()],
                time_zone: Some("Europe/Lisbon".into()),
                ..ProfileDetails::default()
            },
            sharing,
            listing_pending: false,
            created_at: 0,
            updated_at: 0,
            questions: Default::default(),
            mail: Default::default(),
        }
    }

    #[test]
    fn nothing_leaves_by_default() {
        assert_eq!(
            expertise_listing(
                &person(Sharing::default()),
                &OutboundPolicy::default(),
                None
            ),
            None
        );
    }

    #[test]
    fn the_organisation_policy_overrides_what_a_person_shares() {
        let mut policy = OutboundPolicy::default();
        policy.fields.time_zone = false;
        let l = expertise_listing(&person(Sharing::listing()), &policy, None).expect("listing");
        assert_eq!(l.time_zone, None);
        assert_eq!(l.display_name.as_deref(), Some("Ana"));
        let everything = Sharing {
            email: true,
            ..Sharing::listing()
        };
        let l = expertise_listing(&person(everything), &OutboundPolicy::default(), None)
            .expect("listing");
        assert_eq!(
            l.email, None,
            "email never leaves unless the policy allows it"
        );
    }

    #[test]
    fn only_opted_in_fields_leave_and_email_stays_unless_chosen() {
        let l = expertise_listing(
            &person(Sharing {
                topics: true,
                ..Sharing::default()
            }),
            &OutboundPolicy::default(),
            None,
        )
        .expect("listing");
        assert_eq!(l.topics.len(), 1);
        assert_eq!(l.display_name, None);
        assert_eq!(l.time_zone, None);
        let l = expertise_listing(
            &person(Sharing::listing()),
            &OutboundPolicy::default(),
            None,
        )
        .expect("listing");
        assert_eq!(l.display_name.as_deref(), Some("Ana"));
        assert_eq!(l.email, None);
    }

    #[test]
    fn recognition_leaves_only_when_the_person_and_the_organisation_both_say_so() {
        let credit = RecognitionSummary {
            people_helped: 3,
            ..RecognitionSummary::default()
        };
        let mut policy = OutboundPolicy::default();
        let sharing = Sharing {
            recognition: true,
            ..Sharing::listing()
        };
        let l = expertise_listing(&person(sharing), &policy, Some(&credit)).expect("listing");
        assert_eq!(l.recognition, None, "the organisation has not chosen to");
        policy.fields.recognition = true;
        let l = expertise_listing(&person(Sharing::listing()), &policy, Some(&credit))
            .expect("listing");
        assert_eq!(l.recognition, None, "the person has not chosen to");
        let l = expertise_listing(&person(sharing), &policy, Some(&credit)).expect("listing");
        assert_eq!(l.recognition, Some(credit));
    }
}
