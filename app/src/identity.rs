//! The organisation's signing key: created once by `skillmesh init`, kept in
//! the data directory with mode 0600, and refused if anyone else can read it.
//!
//! File format: the line `skillmesh-org-key v1`, then the 32-byte ed25519
//! secret seed as 64 hex digits on the next line.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use skillmesh_protocol::OrgKey;

const HEADER: &str = "skillmesh-org-key v1";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("organisation key {0} is missing (create one with `skillmesh init`)")]
    Missing(PathBuf),
    #[error(
        "organisation key {path} is readable by others (mode {mode:03o}); run `chmod 600 {path}`"
    )]
    LoosePermissions { path: PathBuf, mode: u32 },
    #[error("organisation key {0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("organisation key {path} is not a skillmesh key file: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("cannot access organisation key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// The organisation's key pair.
pub struct OrgIdentity {
    key: SigningKey,
}

impl OrgIdentity {
    pub fn from_signing_key(key: SigningKey) -> Self {
        OrgIdentity { key }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(OrgIdentity { key })
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn org(&self) -> OrgKey {
        OrgKey::from(&self.key.verifying_key())
    }

    /// The 32-byte secret seed, for deriving the libp2p identity.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Writes the key to a new file with mode 0600; never overwrites.
    pub fn create_file(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(KeyError::Exists(path.to_path_buf()));
            }
            Err(e) => return Err(io(e)),
        };
        let text = format!("{HEADER}\n{}\n", hex::encode(self.key.to_bytes()));
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads the key file, refusing it if group or others may access it.
    pub fn load_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(KeyError::Missing(path.to_path_buf()));
            }
            Err(e) => return Err(io(e)),
        };
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::LoosePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut text = String::new();
        file.take(4096)
            .read_to_string(&mut text)
            .map_err(|e| KeyError::Malformed {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let malformed = |reason: &str| KeyError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(malformed("first line is not `skillmesh-org-key v1`"));
        }
        let hex_seed = lines.next().ok_or_else(|| malformed("no key line"))?.trim();
        let mut seed = [0u8; 32];
        hex::decode_to_slice(hex_seed, &mut seed)
            .map_err(|_| malformed("key line is not 64 hex digits"))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(OrgIdentity { key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_load_gives_the_same_key_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("org.key");
        let id = OrgIdentity::generate().expect("generate");
        id.create_file(&path).expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(OrgIdentity::load_file(&path).expect("load").org(), id.org());
    }

    #[test]
    fn refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("org.key");
        let first = OrgIdentity::generate().expect("generate");
        first.create_file(&path).expect("create");
        let second = OrgIdentity::generate().expect("generate");
        assert!(matches!(
            second.create_file(&path),
            Err(KeyError::Exists(_))
        ));
        assert_eq!(
            OrgIdentity::load_file(&path).expect("load").org(),
            first.org()
        );
    }

    #[test]
    fn refuses_loose_permissions_missing_and_malformed_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("org.key");
        assert!(matches!(
            OrgIdentity::load_file(&path),
            Err(KeyError::Missing(_))
        ));
        OrgIdentity::generate()
            .expect("generate")
            .create_file(&path)
            .expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = OrgIdentity::load_file(&path).err().expect("loose");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "not a key\n").expect("write");
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(matches!(
            OrgIdentity::load_file(&bad),
            Err(KeyError::Malformed { .. })
        ));
    }
}
