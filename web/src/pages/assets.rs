//! The stylesheet and the favicon, compiled into the binary. Unlike pages
//! they may be cached (for an hour, and a day for the icon).

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../static/style.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

/// `/favicon.svg`, linked from every page, and `/favicon.ico`, which
/// browsers ask for anyway: the same SVG (every current browser shows an
/// SVG icon whatever its address).
pub async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}
