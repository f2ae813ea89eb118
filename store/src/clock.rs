//! Wall-clock time as unix seconds: the one place the node reads the clock.
//! It lives in the store, the lowest crate that needs it (the store stamps
//! its write faults); the node re-exports it as `clock`.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
