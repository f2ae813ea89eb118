//! The JSON API under `/api/v1`: the same operations as the pages,
//! authenticated with the session cookie (plus the `X-CSRF-Token` header
//! for changes) or a per-user API token (`Authorization: Bearer`).
//! Described by `GET /api/v1/openapi.json` (see `openapi.rs`, whose tests
//! check that every documented operation is routed here). Every error is
//! `{"error": {"code", "message"}}`.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use skillmesh_protocol::{Body, OrgKey};

use crate::Shared;
use crate::api::{
    ApiError, ApiTokenInfo, AuditQuery, FederationMode, FeedbackForm, FollowOptions, ImpactQuery,
    LearningGoals, MarkRead, NewKudos, NewRecommendation, NewRequest, NewUser, NotificationView,
    OfferAction, OrgAction, ProfileUpdate, Progress, RequestAnswer, SearchQuery, SharedFields,
    TokenName, WebhookUpdate,
};
use crate::error::from_rejection;
use crate::ports::NodeApi;
use crate::session::{ApiAdmin, ApiCaller};

/// `Json<T>` whose rejection is our JSON error: `invalid` (400) for a
/// body that is not what the operation takes; a body too large (413) or
/// not sent as JSON (415) keeps its status, and the error layer gives it
/// our shape (see `layers.rs`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &St) -> Result<Self, Response> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|r| match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    r.into_response()
                }
                _ => from_rejection(r.body_text()).into_response(),
            })
    }
}

/// `Query<T>` whose rejection is our JSON error.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequestParts<St> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r| from_rejection(r.body_text()))
    }
}

/// `Path<T>` whose rejection is our JSON error.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, St: Send + Sync> FromRequestParts<St> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|r| from_rejection(r.body_text()))
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn org(hex: &str) -> ApiResult<OrgKey> {
    hex.parse().map_err(|_| {
        ApiError::Invalid(format!(
            "{hex:?} is not an organisation key (64 hex digits)."
        ))
    })
}

fn created<T: Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody<A> {
    pub action: A,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeBody {
    pub mode: FederationMode,
}

pub fn routes<S: NodeApi>() -> Router<Shared<S>> {
    Router::new()
        .route("/openapi.json", get(crate::openapi::document))
        .route("/me", get(me))
        .route("/tokens", get(tokens::<S>).post(new_token::<S>))
        .route("/tokens/{id}", delete(revoke_token::<S>))
        .route("/sessions", delete(end_sessions::<S>))
        .route("/notifications", get(notifications::<S>))
        .route("/notifications/read", post(mark_read::<S>))
        .route("/search", get(search::<S>))
        .route("/listings/{org}/{id}", get(listing::<S>))
        .route("/profile", get(profile::<S>).put(update_profile::<S>))
        .route("/offers", get(offers::<S>).post(create_offer::<S>))
        .route("/offers/{id}", get(offer::<S>).put(update_offer::<S>))
        .route("/offers/{id}/actions", post(offer_action::<S>))
        .route("/requests", post(send_request::<S>))
        .route("/requests/inbox", get(inbox::<S>))
        .route("/requests/outbox", get(outbox::<S>))
        .route("/requests/inbox/{org}/{id}/answer", post(answer::<S>))
        .route("/requests/outbox/{id}/feedback", put(give_feedback::<S>))
        .route("/requests/outbox/{id}/kudos", post(send_kudos::<S>))
        .route("/calendar/tokens", post(new_calendar_token::<S>))
        .route("/following", get(following::<S>))
        .route("/colleagues", get(colleagues::<S>))
        .route("/observations", get(observations::<S>))
        .route("/observations/{id}", put(give_observation::<S>))
        .route("/offers/{id}/observers", post(invite_observer::<S>))
        .route(
            "/recommendations",
            get(recommended::<S>).post(recommend::<S>),
        )
        .route(
            "/following/{org}/{id}",
            put(follow::<S>).delete(unfollow::<S>),
        )
        .route("/following/{org}/{id}/progress", put(set_progress::<S>))
        .route("/admin/federation", get(federation::<S>))
        .route("/admin/federation/mode", put(set_mode::<S>))
        .route("/admin/orgs/{org}/actions", post(org_action::<S>))
        .route("/admin/approvals", get(approvals::<S>))
        .route("/admin/approvals/{id}/approve", post(approve::<S>))
        .route("/admin/policy", get(policy::<S>).put(set_policy::<S>))
        .route("/admin/audit", get(audit::<S>))
        .route("/admin/webhook", get(webhook::<S>).put(set_webhook::<S>))
        .route("/admin/webhook/test", post(test_webhook::<S>))
        .route("/admin/demand", get(demand::<S>))
        .route("/admin/impact", get(impact::<S>))
        .route(
            "/admin/impact/summary",
            post(publish_impact::<S>).delete(withdraw_impact::<S>),
        )
        .route("/admin/impact/summaries", get(impact_summaries::<S>))
        .route("/goals", get(goals::<S>).put(set_goals::<S>))
        .route("/suggestions", get(suggestions::<S>))
        .route("/admin/users", get(users::<S>).post(add_user::<S>))
        .route("/admin/users/{username}/actions", post(user_action::<S>))
        .route("/admin/users/{username}", delete(remove_user::<S>))
        .route(
            "/admin/users/{username}/access-link",
            post(new_access_link::<S>),
        )
        .fallback(|| async { ApiError::NotFound("There is no such API operation.".into()) })
}

async fn me(ApiCaller(user): ApiCaller) -> Json<crate::api::User> {
    Json(user)
}

async fn tokens<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<Json<Vec<ApiTokenInfo>>> {
    Ok(Json(state.node.api_tokens(&user).await?))
}

/// The body is optional (`{"name": ...}`): a script written for the
/// single token of earlier versions sends none.
async fn new_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let named: TokenName = optional_json(&body)?;
    Ok(created(state.node.new_api_token(&user, &named.name).await?))
}

async fn revoke_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.node.revoke_api_token(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn notifications<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<Json<Vec<NotificationView>>> {
    Ok(Json(state.node.notifications(&user).await?))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Marked {
    /// How many were unread and are read now.
    pub marked: usize,
}

/// The body is optional: without one, every notification is marked.
async fn mark_read<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Marked>> {
    let which: MarkRead = optional_json(&body)?;
    let marked = state.node.mark_notifications_read(&user, which.ids).await?;
    Ok(Json(Marked { marked }))
}

/// A JSON body that may be left out (then `T::default()`).
fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| from_rejection(format!("Failed to deserialize the JSON body: {e}")))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Ended {
    /// How many sessions ended.
    pub ended: usize,
}

/// Signs the caller out of every browser.
async fn end_sessions<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<Json<Ended>> {
    let ended = state.sessions.end_all(&state.node, &user).await?;
    Ok(Json(Ended { ended }))
}

async fn search<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.search(&user, &query).await?))
}

async fn listing<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath((o, id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.listing(&user, &org(&o)?, &id).await?))
}

async fn profile<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.profile(&user).await?))
}

async fn update_profile<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiJson(update): ApiJson<ProfileUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.update_profile(&user, update).await?))
}

async fn offers<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.offers(&user).await?))
}

async fn offer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.offer(&user, &id).await?))
}

async fn create_offer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiJson(body): ApiJson<Body>,
) -> ApiResult<Response> {
    Ok(created(state.node.save_offer(&user, None, body).await?))
}

async fn update_offer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Body>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.save_offer(&user, Some(&id), body).await?))
}

async fn offer_action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ActionBody<OfferAction>>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state.node.offer_action(&user, &id, body.action).await?,
    ))
}

async fn send_request<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiJson(request): ApiJson<NewRequest>,
) -> ApiResult<Response> {
    Ok(created(state.node.send_request(&user, request).await?))
}

async fn inbox<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.inbox(&user).await?))
}

async fn outbox<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.outbox(&user).await?))
}

async fn answer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath((o, id)): ApiPath<(String, String)>,
    ApiJson(answer): ApiJson<RequestAnswer>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state
            .node
            .answer_request(&user, &org(&o)?, &id, answer)
            .await?,
    ))
}

async fn observations<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.observations(&user).await?))
}

async fn give_observation<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(form): ApiJson<crate::api::ObservationForm>,
) -> ApiResult<impl IntoResponse> {
    state.node.give_observation(&user, &id, form).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invite_observer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(invitation): ApiJson<crate::api::NewObservation>,
) -> ApiResult<Response> {
    Ok(created(
        state.node.invite_observer(&user, &id, invitation).await?,
    ))
}

async fn colleagues<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.colleagues(&user).await?))
}

async fn recommended<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.recommended(&user).await?))
}

async fn recommend<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiJson(r): ApiJson<NewRecommendation>,
) -> ApiResult<impl IntoResponse> {
    state.node.recommend(&user, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn following<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.following(&user).await?))
}

async fn follow<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath((o, id)): ApiPath<(String, String)>,
    ApiJson(options): ApiJson<FollowOptions>,
) -> ApiResult<impl IntoResponse> {
    state.node.follow(&user, &org(&o)?, &id, options).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unfollow<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath((o, id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    state.node.unfollow(&user, &org(&o)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_progress<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath((o, id)): ApiPath<(String, String)>,
    ApiJson(progress): ApiJson<Progress>,
) -> ApiResult<impl IntoResponse> {
    state
        .node
        .set_progress(&user, &org(&o)?, &id, progress)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn give_feedback<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(form): ApiJson<FeedbackForm>,
) -> ApiResult<impl IntoResponse> {
    state.node.give_feedback(&user, &id, form).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn send_kudos<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(kudos): ApiJson<NewKudos>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.send_kudos(&user, &id, kudos).await?))
}

async fn publish_impact<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(query): ApiJson<ImpactQuery>,
) -> ApiResult<Response> {
    Ok(created(state.node.publish_impact(&user, &query).await?))
}

async fn withdraw_impact<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    state.node.withdraw_impact(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn impact_summaries<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.impact_summaries().await?))
}

async fn new_calendar_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<Response> {
    let token = state.node.new_calendar_token(&user).await?;
    Ok(created(TokenBody { token }))
}

async fn impact<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
    ApiQuery(query): ApiQuery<ImpactQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.impact(&query).await?))
}

async fn federation<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.federation().await?))
}

async fn set_mode<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(body): ApiJson<ModeBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state.node.set_federation_mode(&user, body.mode).await?,
    ))
}

async fn org_action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiPath(o): ApiPath<String>,
    ApiJson(body): ApiJson<ActionBody<OrgAction>>,
) -> ApiResult<StatusCode> {
    state.node.org_action(&user, &org(&o)?, body.action).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn approvals<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.approvals().await?))
}

async fn approve<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.node.approve(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn policy<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.outbound_policy().await?))
}

async fn set_policy<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(fields): ApiJson<SharedFields>,
) -> ApiResult<impl IntoResponse> {
    state.node.set_outbound_policy(&user, fields).await?;
    Ok(Json(fields))
}

async fn audit<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.audit(&query).await?))
}

async fn webhook<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.webhook().await?))
}

async fn set_webhook<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(body): ApiJson<WebhookUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.set_webhook(&user, body.url).await?))
}

/// Queued, not yet posted: 202.
async fn test_webhook<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
) -> ApiResult<Response> {
    let hook = state.node.test_webhook(&user).await?;
    Ok((StatusCode::ACCEPTED, Json(hook)).into_response())
}

async fn demand<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.demand().await?))
}

async fn goals<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.goals(&user).await?))
}

async fn set_goals<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
    ApiJson(goals): ApiJson<LearningGoals>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.set_goals(&user, goals).await?))
}

async fn suggestions<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiCaller(user): ApiCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.suggestions(&user).await?))
}

async fn users<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(_): ApiAdmin,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.node.users().await?))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    Deactivate,
    Reactivate,
}

async fn user_action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiPath(username): ApiPath<String>,
    ApiJson(body): ApiJson<ActionBody<UserAction>>,
) -> ApiResult<Json<crate::api::User>> {
    let active = matches!(body.action, UserAction::Reactivate);
    Ok(Json(
        state.node.set_user_active(&user, &username, active).await?,
    ))
}

async fn remove_user<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.node.remove_user(&user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn new_access_link<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(created(state.node.new_access_link(&user, &username).await?))
}

async fn add_user<S: NodeApi>(
    State(state): State<Shared<S>>,
    ApiAdmin(user): ApiAdmin,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<Response> {
    Ok(created(state.node.add_user(&user, new).await?))
}
