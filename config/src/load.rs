//! The entry points: reading the file, overlaying the environment, validating.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::settings::Config;
use crate::{env, file, validate};

/// Config files larger than this are refused rather than read into memory
/// (a real one is a few kilobytes; this also stops `--config /dev/zero`).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The name [`ConfigError::Parse`] gives text passed to [`Config::from_toml_str`].
const STRING_SOURCE: &str = "<string>";

impl Config {
    /// Read the file at `path`, apply overrides from the process environment, validate.
    ///
    /// Relative paths, in the file or the environment, are resolved against
    /// the directory holding the file (made absolute).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        let env = env::from_process()?;
        build(&text, path, &base_dir_of(path), env)
    }

    /// Same as [`Config::load`], with explicit environment pairs (testable
    /// without touching the process environment). Pairs whose name is not in
    /// [`crate::ENV_VARS`] are ignored.
    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = read(path)?;
        build(&text, path, &base_dir_of(path), env)
    }

    /// Parse from a TOML string; relative paths (from the text or `env`) are
    /// resolved against `base_dir`. An empty `base_dir` leaves them relative,
    /// exactly as written. Parse errors name the source `<string>`.
    pub fn from_toml_str(
        text: &str,
        base_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        build(text, Path::new(STRING_SOURCE), base_dir, env)
    }
}

fn build(
    text: &str,
    source: &Path,
    base_dir: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut draft = file::parse(text, source)?;
    env::apply(&mut draft, env)?;
    validate::validate(draft, base_dir)
}

/// The file's text, refusing huge or non-UTF-8 files with a clear message.
fn read(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(parse_error(format!(
            "the file is larger than {MAX_FILE_BYTES} bytes; is this really a config file?"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let (line, column) = crate::text::line_col(
            std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default(),
            valid,
        );
        parse_error(format!(
            "line {line}, column {column}: the file is not valid UTF-8 text"
        ))
    })
}

/// The absolute directory holding `path`, without touching the filesystem
/// (symlinks are not resolved). Falls back to the directory as written if
/// the current directory is unavailable.
fn base_dir_of(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .components()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_dir_is_absolute_and_tidy() {
        let base = base_dir_of(Path::new("skillmesh.toml"));
        assert!(base.is_absolute(), "{}", base.display());
        assert_eq!(
            Some(base.as_path()),
            std::env::current_dir().ok().as_deref()
        );
        assert_eq!(
            base_dir_of(Path::new("/etc/sm/./node.toml")),
            PathBuf::from("/etc/sm")
        );
    }
}
