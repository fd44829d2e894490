//! JSON key files.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{CryptoError, KeyPair, PublicKey, Suite};

/// On-disk form of a key pair (JSON):
/// `{"suite":"ed25519","public_key":"ed25519:<hex>","secret_key":"<hex>"}`.
///
/// Use [`write_key_file`] and [`read_key_file`] (or [`KeyFile::write`] / [`KeyFile::read`]),
/// which validate every field and keep the secret out of logs.
#[derive(Serialize, Deserialize)]
pub struct KeyFile {
    /// Suite name, `"ed25519"` or `"sm2"`.
    pub suite: String,
    /// Public key as `"<suite>:<hex>"`; must match the secret key.
    pub public_key: String,
    /// Secret key bytes as hex (32 bytes).
    pub secret_key: String,
}

impl KeyFile {
    /// Writes `kp` to `path`; see [`write_key_file`].
    pub fn write(path: &Path, kp: &KeyPair) -> Result<(), CryptoError> {
        write_key_file(path, kp)
    }

    /// Reads a key pair from `path`; see [`read_key_file`].
    pub fn read(path: &Path) -> Result<KeyPair, CryptoError> {
        read_key_file(path)
    }
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("suite", &self.suite)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_key);
    }
}

fn io_err(path: &Path, source: std::io::Error) -> CryptoError {
    CryptoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(path: &Path, field: &str, reason: impl Into<String>) -> CryptoError {
    CryptoError::BadKeyFile {
        path: path.to_path_buf(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Writes `kp` as a JSON key file at `path`.
///
/// On Unix the file is created with mode 0600 (and an existing file is reset to 0600 before
/// the secret is written); an existing file is overwritten. The secret is never printed.
pub fn write_key_file(path: &Path, kp: &KeyPair) -> Result<(), CryptoError> {
    let secret = Zeroizing::new(kp.secret_bytes());
    let file = KeyFile {
        suite: kp.suite().name().to_owned(),
        public_key: kp.public_key().to_string(),
        secret_key: hex::encode(secret.as_slice()),
    };
    let mut json = Zeroizing::new(
        serde_json::to_vec_pretty(&file).map_err(|e| io_err(path, std::io::Error::other(e)))?,
    );
    json.push(b'\n');

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(path).map_err(|e| io_err(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        out.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(path, e))?;
    }
    out.write_all(&json).map_err(|e| io_err(path, e))?;
    out.sync_all().map_err(|e| io_err(path, e))?;
    Ok(())
}

/// Reads a JSON key file written by [`write_key_file`].
///
/// Checks that the suite is known, the secret key is valid for it, and the stored public key
/// matches the one derived from the secret. Errors name the file and the offending field.
pub fn read_key_file(path: &Path) -> Result<KeyPair, CryptoError> {
    let raw = Zeroizing::new(std::fs::read(path).map_err(|e| io_err(path, e))?);
    let mut doc: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| bad(path, "<document>", format!("not valid JSON: {e}")))?;
    let Some(object) = doc.as_object_mut() else {
        return Err(bad(path, "<document>", "expected a JSON object"));
    };
    // Take each field out of the parsed document, so the only copy of the secret ends up in
    // `KeyFile`, which wipes it on drop.
    let mut take = |name: &str| -> Result<String, CryptoError> {
        match object.get_mut(name) {
            None => Err(bad(path, name, "missing")),
            Some(serde_json::Value::String(value)) => Ok(std::mem::take(value)),
            Some(_) => Err(bad(path, name, "must be a string")),
        }
    };
    let file = KeyFile {
        secret_key: take("secret_key")?,
        suite: take("suite")?,
        public_key: take("public_key")?,
    };

    let suite = Suite::from_name(&file.suite).map_err(|e| bad(path, "suite", e.to_string()))?;

    let secret = Zeroizing::new(
        hex::decode(&file.secret_key)
            .map_err(|e| bad(path, "secret_key", format!("not valid hex: {e}")))?,
    );
    let kp = KeyPair::from_secret_bytes(suite, &secret)
        .map_err(|e| bad(path, "secret_key", e.to_string()))?;

    let public: PublicKey = file
        .public_key
        .parse()
        .map_err(|e: CryptoError| bad(path, "public_key", e.to_string()))?;
    if public.suite() != suite {
        return Err(bad(
            path,
            "public_key",
            format!("suite {} does not match suite {suite}", public.suite()),
        ));
    }
    if public != kp.public_key() {
        return Err(bad(
            path,
            "public_key",
            "does not match the public key derived from secret_key",
        ));
    }
    Ok(kp)
}
