//! [`MatchingApi`] for [`WebState`]: private learning goals, suggestions
//! and demand.

use super::*;

/// Bounds on what a person may note as goals (they stay on this node, but
/// are still input from a browser).
const MAX_GOALS_CHARS: usize = 2_000;
const MAX_GOAL_TOPICS: usize = 20;
const MAX_GOAL_TOPIC_CHARS: usize = 100;

fn goals_to_web(g: Goals) -> LearningGoals {
    LearningGoals {
        goals: g.goals,
        topics: g.topics,
        formats: g.formats,
        languages: g.languages,
        max_hours_apart: g.max_hours_apart,
    }
}

fn goals_from_web(g: LearningGoals) -> ApiResult<Goals> {
    let topics: Vec<String> = g
        .topics
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if g.goals.chars().count() > MAX_GOALS_CHARS {
        return Err(ApiError::Invalid(format!(
            "Keep your goals under {MAX_GOALS_CHARS} characters."
        )));
    }
    if topics.len() > MAX_GOAL_TOPICS
        || topics
            .iter()
            .any(|t| t.chars().count() > MAX_GOAL_TOPIC_CHARS)
    {
        return Err(ApiError::Invalid(format!(
            "Name at most {MAX_GOAL_TOPICS} topics of at most {MAX_GOAL_TOPIC_CHARS} characters."
        )));
    }
    if g.languages.len() > 10 || g.max_hours_apart.is_some_and(|h| h > 12) {
        return Err(ApiError::Invalid(
            "Name at most 10 languages and at most 12 hours apart.".into(),
        ));
    }
    Ok(Goals {
        goals: g.goals.trim().to_string(),
        topics,
        formats: g.formats,
        languages: g
            .languages
            .iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        max_hours_apart: g.max_hours_apart,
        updated_at: clock::now(),
    })
}

impl MatchingApi for WebState {
    async fn goals(&self, user: &User) -> ApiResult<LearningGoals> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let me = svc.own_person(&user)?;
                Ok(goals_to_web(
                    svc.store().goals(&me.id).map_err(store_error)?,
                ))
            })
            .await
    }

    async fn set_goals(&self, user: &User, goals: LearningGoals) -> ApiResult<LearningGoals> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let me = svc.own_person(&user)?;
                let goals = goals_from_web(goals)?;
                svc.store().set_goals(&me.id, &goals).map_err(store_error)?;
                Ok(goals_to_web(goals))
            })
            .await
    }

    async fn suggestions(&self, user: &User) -> ApiResult<Vec<Suggestion>> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let me = svc.own_person(&user)?;
                let goals = svc.store().goals(&me.id).map_err(store_error)?;
                Ok(matching::suggest(svc, &me, &goals, clock::now())?)
            })
            .await
    }

    async fn demand(&self) -> ApiResult<Vec<DemandRow>> {
        self.service
            .blocking(move |svc| Ok(matching::demand(svc, clock::now())?))
            .await
    }
}
