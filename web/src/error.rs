//! Errors as responses, in one place: the JSON API answers
//! `{"error": {"code", "message"}}` with a status that matches the code;
//! pages show the same message as a sentence (see `pages::PageError`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;

/// The body of every JSON error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable: `invalid`, `not_found`, `forbidden`, `conflict`,
    /// `unauthorized`, `too_many_requests`, `unavailable`; and from the
    /// router and the body limit (see `layers.rs`): `method_not_allowed`,
    /// `payload_too_large`, `unsupported_media_type`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

/// Turns axum's own extractor rejections (bad JSON, bad query, bad path)
/// into our error shape, so every API error looks the same.
pub fn from_rejection(r: impl std::fmt::Display) -> ApiError {
    ApiError::Invalid(r.to_string())
}
