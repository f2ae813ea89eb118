//! [`MatchingApi`] for [`WebState`]: private learning goals, suggestions
//! and demand.

use super::*;

fn goals_to_web(g: Goals) -> LearningGoals {
    LearningGoals {
        goals: g.goals,
        topics: g.topics,
        formats: g.formats,
        languages: g.languages,
        max_hours_apart: g.max_hours_apart,
    }
}

fn goals_from_web(g: LearningGoals) -> Goals {
    Goals {
        goals: g.goals,
        topics: g.topics,
        formats: g.formats,
        languages: g.languages,
        max_hours_apart: g.max_hours_apart,
        updated_at: 0,
    }
}

impl MatchingApi for WebState {
    async fn goals(&self, user: &User) -> ApiResult<LearningGoals> {
        let caller = caller(user);
        self.service
            .blocking(move |svc| Ok(goals_to_web(svc.own_goals(&caller)?)))
            .await
    }

    async fn set_goals(&self, user: &User, goals: LearningGoals) -> ApiResult<LearningGoals> {
        let caller = caller(user);
        self.service
            .blocking(move |svc| {
                Ok(goals_to_web(
                    svc.set_own_goals(&caller, goals_from_web(goals))?,
                ))
            })
            .await
    }

    async fn suggestions(&self, user: &User) -> ApiResult<Vec<Suggestion>> {
        let user = user.clone();
        self.service
            .blocking(move |svc| {
                let caller = caller(&user);
                let me = svc.own_person(&caller)?;
                let goals = svc.own_goals(&caller)?;
                Ok(matching::suggest(svc, &me, &goals, clock::now())?)
            })
            .await
    }

    async fn demand(&self) -> ApiResult<Vec<DemandRow>> {
        self.service
            .blocking(move |svc| Ok(matching::demand(svc, clock::now())?))
            .await
    }

    fn min_group_size(&self) -> u32 {
        self.service.min_group_size()
    }
}
