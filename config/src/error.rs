//! The one error type every loading step returns.

use std::path::PathBuf;

/// Why a configuration could not be loaded. Every message names the file, the
/// setting (as its TOML path such as `web.listen`, or the environment variable
/// it came from) and says what is wrong in one sentence.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing or unreadable.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The path as given to [`crate::Config::load`].
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A TOML syntax error, a value of the wrong type, or an unknown key.
    /// `message` holds the field path when known and the line and column.
    #[error("cannot parse config file {}: {message}", path.display())]
    Parse {
        /// The file, or `<string>` for [`crate::Config::from_toml_str`].
        path: PathBuf,
        /// For example ``web.lisen (line 7, column 1): unknown field `lisen`, expected `listen` or `public_url` ``.
        message: String,
    },
    /// A value that parsed but is invalid, or a required setting that is missing.
    #[error("{field}: {reason}")]
    Invalid {
        /// The TOML path (`network.bootstrap[2]`) or the environment variable
        /// (`SKILLMESH_WEB_LISTEN`) the value came from.
        field: String,
        /// One sentence saying what is wrong, without a trailing full stop.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
