//! `GET /guide`: for someone giving their first talk or running their
//! first workshop. Most experts are not trained trainers; this is the
//! short version of what helps, with a session template that prefills a
//! new talk offer, and a pointer to peer observation.

use maud::html;
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::{OfferStatus, SessionFormat, TalkOffer};

use super::{Ctx, PageResult};

/// The template a first session starts from: goal, agenda, one exercise
/// and how to get feedback, as the talk's abstract.
pub const TEMPLATE: &str = "Goal: after this session you will be able to ...

Agenda (45 minutes):
- 5 min: why this matters, and a story from real work
- 15 min: the idea, with one worked example
- 15 min: exercise (below), in pairs
- 10 min: what you found, and questions

Exercise: ...

Feedback: a two-minute form at the end (what was clear, what to change), and a colleague observing.";

/// A new talk offer that starts from the template.
pub fn first_session() -> Body {
    Body::TalkOffer(TalkOffer {
        person: String::new(),
        speaker_name: None,
        title: String::new(),
        summary: TEMPLATE.to_string(),
        session: super::offers::blank_talk_session(SessionFormat::Workshop),
        status: OfferStatus::Open,
    })
}

pub async fn page(ctx: Ctx) -> PageResult {
    ctx.user()?;
    Ok(ctx.render(
        "Your first session",
        html! {
            h1 { "Giving your first talk or workshop" }
            p.lead { "You know the subject; that is the hard part. The rest is a few habits." }
            h2 { "Before" }
            ol {
                li { strong { "One goal. " } "Write what people will be able to do afterwards, in one sentence. Cut whatever does not serve it." }
                li { strong { "Know who comes. " } "Managers, senior leaders or everyone: say who it is for, and pick examples from their work." }
                li { strong { "An agenda with time in it. " } "Plan for less than the slot: questions always take longer." }
            }
            h2 { "During" }
            ol {
                li { strong { "One exercise. " } "People learn by doing: give them a real problem for ten minutes, in pairs." }
                li { strong { "Stop for questions " } "after each part, not only at the end." }
            }
            h2 { "After" }
            ol {
                li { strong { "Ask for feedback " } "while people are still in the room: what was clear, what to change." }
                li { strong { "Invite a colleague to observe. " } "From your offer's page, ask someone you trust to watch and tell you about clarity, pace and interaction, one thing to keep and one to change. Only you see what they write." }
            }
            p { a.button #use-template href="/offers/new?kind=talk_offer&template=first-session" { "Start a talk from this template" } }
            h2 { "The template" }
            pre #template { (TEMPLATE) }
        },
    ))
}
