//! A validator's configuration file and key files.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One validator's configuration (JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeConfig {
    /// Display name.
    pub name: String,
    /// Path of the genesis file (relative paths are relative to this config file).
    pub genesis: PathBuf,
    /// Path of the consensus key file.
    pub validator_key: PathBuf,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Address to listen on for p2p.
    pub p2p_listen: String,
    /// Address to serve the HTTP API on.
    pub api_listen: String,
    /// This validator's share of the tender threshold key (`tender-share.json`, trusted dealer,
    /// devnet only). With `account_key`, the node posts its partial signature for every closed
    /// tender whose opening time has come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tender_share: Option<PathBuf>,
    /// Key file of the registered account the node signs its own transactions with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key: Option<PathBuf>,
    /// This validator's DKG key (`dkg-key.json`, mode 0600). With `account_key`, the node
    /// deals, finishes and plays the rounds that reshare the tender key (module `dkg`), keeping
    /// its shares under `data_dir/tender-shares`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkg_key: Option<PathBuf>,
}

/// A configuration error naming the file and field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl NodeConfig {
    /// Load a config file and resolve its relative paths against the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut cfg: NodeConfig = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.genesis, &mut cfg.validator_key, &mut cfg.data_dir]
            .into_iter()
            .chain(cfg.tender_share.as_mut())
            .chain(cfg.account_key.as_mut())
            .chain(cfg.dkg_key.as_mut())
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }
}

/// Read a validator's consensus key file: JSON `{"public_key": hex, "secret_key": hex}`.
pub fn read_validator_key(
    path: &Path,
) -> Result<commonware_cryptography::ed25519::PrivateKey, ConfigError> {
    use commonware_codec::DecodeExt;
    let err = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let secret = v
        .get("secret_key")
        .and_then(|s| s.as_str())
        .ok_or_else(|| err("secret_key: missing".into()))?;
    let bytes = hex::decode(secret).map_err(|e| err(format!("secret_key: {e}")))?;
    commonware_cryptography::ed25519::PrivateKey::decode(bytes)
        .map_err(|e| err(format!("secret_key: {e}")))
}
