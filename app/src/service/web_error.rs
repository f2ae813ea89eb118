//! The one mapping from the application's errors to what a person sees
//! on a page or in the API. It lives here, beside [`ServiceError`], so
//! that every adapter (the node's web ports today) maps the same way and
//! `?` works on service calls in them.

use skillmesh_web::ApiError;

use super::ServiceError;
use crate::storage::WriteFault;
use crate::store::StoreError;

/// What a person reads when the node failed for a reason of its own.
pub const TRY_AGAIN: &str = "the node could not complete this; try again";

/// The answer when the node failed for a reason of its own (logged).
pub fn unavailable() -> ApiError {
    ApiError::Unavailable(TRY_AGAIN.into())
}

/// What a person reads when the node cannot save (or, rarely, read) its
/// data: what is wrong, that nothing changed, and what to do.
fn store_fault_words(fault: &WriteFault) -> String {
    if fault.reads_work {
        format!(
            "the node cannot save changes right now ({}); this change may not have been saved \
             — try again later (the node recovers by itself once it can write again)",
            fault.cause.words()
        )
    } else {
        format!(
            "the node cannot read or save its data right now ({}), so nothing was changed; try \
             again later (the node recovers by itself once it can write again)",
            fault.cause.words()
        )
    }
}

/// The one mapping from the node's errors to what a person sees.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            ServiceError::Invalid(why) => ApiError::Invalid(why),
            ServiceError::Forbidden(why) => ApiError::Forbidden(why),
            ServiceError::NotYours(what) => ApiError::NotFound(what),
            ServiceError::Rejected(r) => ApiError::Invalid(r.to_string()),
            ServiceError::Store(StoreError::NotFound(what)) => {
                ApiError::NotFound(format!("{what} not found"))
            }
            ServiceError::Store(StoreError::AlreadyExists(what)) => {
                ApiError::Conflict(format!("{what} already exists"))
            }
            // Logged once when the fault began (see `storage`), not per request.
            ref other if let Some(fault) = other.store_fault() => {
                tracing::debug!(error = %other, "web request refused: the store cannot save changes");
                ApiError::Unavailable(store_fault_words(fault))
            }
            other => {
                tracing::warn!(error = %other, "web request failed inside the node");
                unavailable()
            }
        }
    }
}
