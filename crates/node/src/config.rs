//! A validator's configuration file and key files.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Bounds of this node's mempool (`"mempool": {...}`); absent fields keep their defaults.
    #[serde(default, skip_serializing_if = "MempoolSettings::is_default")]
    pub mempool: MempoolSettings,
    /// This node's consensus timeouts (`"consensus": {...}`); absent fields keep their defaults.
    #[serde(default, skip_serializing_if = "ConsensusSettings::is_default")]
    pub consensus: ConsensusSettings,
    /// How much this node's store buffers before writing tables (`"storage": {...}`); absent
    /// fields keep fjall's defaults.
    #[serde(default, skip_serializing_if = "StorageSettings::is_default")]
    pub storage: StorageSettings,
}

/// The `storage` section of a validator's configuration: the store's write-buffer sizes
/// ([`xa_storage::StoreOptions`]). Every field is optional. Node-local: validators of one chain
/// may differ, and `xachain init` makes them differ, so that validators sharing a machine do not
/// all flush at the same moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// MiB one keyspace buffers in memory before it is flushed to a table (default 64,
    /// [`MEMTABLE_MIB_RANGE`]). Takes effect when the node's store is created; a store keeps
    /// the size it was created with, and a different value later is logged as a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memtable_mib: Option<u64>,
    /// MiB of journal kept before every keyspace is flushed (default 512,
    /// [`JOURNAL_MIB_RANGE`]); at least `memtable_mib`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_mib: Option<u64>,
}

/// Memtable sizes a config may set, in MiB: below 8 a loaded node flushes several times a second.
pub const MEMTABLE_MIB_RANGE: std::ops::RangeInclusive<u64> = 8..=1024;
/// Journal limits a config may set, in MiB: fjall refuses less than 64.
pub const JOURNAL_MIB_RANGE: std::ops::RangeInclusive<u64> = 64..=65_536;

impl StorageSettings {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The store options these settings give, or an error naming the field that is out of range.
    pub fn resolve(&self) -> Result<xa_storage::StoreOptions, ConfigError> {
        let field = |field: &'static str, message: String| ConfigError::Field { field, message };
        let defaults = xa_storage::StoreOptions::default();
        let memtable = self.memtable_mib.unwrap_or(defaults.memtable_bytes >> 20);
        let journal = self.journal_mib.unwrap_or(defaults.journal_bytes >> 20);
        if !MEMTABLE_MIB_RANGE.contains(&memtable) {
            return Err(field(
                "storage.memtable_mib",
                format!(
                    "{memtable} is outside {}..={}",
                    MEMTABLE_MIB_RANGE.start(),
                    MEMTABLE_MIB_RANGE.end()
                ),
            ));
        }
        if !JOURNAL_MIB_RANGE.contains(&journal) || journal < memtable {
            return Err(field(
                "storage.journal_mib",
                format!(
                    "{journal} must be within {}..={} and at least memtable_mib ({memtable}): a \
                     smaller journal would flush every keyspace before any memtable filled",
                    JOURNAL_MIB_RANGE.start(),
                    JOURNAL_MIB_RANGE.end()
                ),
            ));
        }
        Ok(xa_storage::StoreOptions {
            memtable_bytes: memtable << 20,
            journal_bytes: journal << 20,
            ..xa_storage::StoreOptions::default()
        })
    }

    /// The sizes `xachain init` gives validator `index`: 48, 56, 64 and 72 MiB memtables with
    /// 384, 448, 512 and 576 MiB journals, in turn. Validators on one machine write the same
    /// data at the same rate; with equal sizes they would all flush at once.
    pub fn staggered(index: usize) -> Self {
        let step = (index % 4) as u64;
        StorageSettings {
            memtable_mib: Some(48 + 8 * step),
            journal_mib: Some(384 + 64 * step),
        }
    }
}

/// The `consensus` section of a validator's configuration: how long this node waits before it
/// votes to skip a view. Every field is optional. Node-local, like any timeout: validators of one
/// chain may differ, and safety never depends on them; on a network with slower links than a
/// machine room's, raise both so that a leader's block can reach every validator in time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusSettings {
    /// How long to wait for the view's leader to propose, in milliseconds (default 1,000). At
    /// least [`MIN_LEADER_TIMEOUT_MS`]: a loaded leader may wait `MIN_BLOCK_INTERVAL` after its
    /// parent and then build for up to `BUILD_BUDGET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_timeout_ms: Option<u64>,
    /// How long to wait for a proposed block to be certified, in milliseconds (default 2,000);
    /// more than `leader_timeout_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification_timeout_ms: Option<u64>,
}

/// Default leader timeout.
pub const DEFAULT_LEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// Default certification timeout.
pub const DEFAULT_CERTIFICATION_TIMEOUT: Duration = Duration::from_secs(2);
/// Smallest leader timeout a config may set: a leader's wait for `MIN_BLOCK_INTERVAL` plus its
/// `BUILD_BUDGET`, and 50 ms to send the block.
pub const MIN_LEADER_TIMEOUT_MS: u64 = crate::app::MIN_BLOCK_INTERVAL.as_millis() as u64
    + crate::chain::BUILD_BUDGET.as_millis() as u64
    + 50;
/// Largest timeout a config may set (ten minutes): beyond it a crashed leader would stall the
/// chain for longer than any operator would accept.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// Resolved consensus timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusTimeouts {
    /// Wait for a proposal.
    pub leader: Duration,
    /// Wait for certification.
    pub certification: Duration,
}

impl ConsensusSettings {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The timeouts these settings give, or an error naming the field that is out of range.
    pub fn resolve(&self) -> Result<ConsensusTimeouts, ConfigError> {
        let field = |field: &'static str, message: String| ConfigError::Field { field, message };
        let leader = self
            .leader_timeout_ms
            .unwrap_or(DEFAULT_LEADER_TIMEOUT.as_millis() as u64);
        let certification = self
            .certification_timeout_ms
            .unwrap_or(DEFAULT_CERTIFICATION_TIMEOUT.as_millis() as u64);
        if !(MIN_LEADER_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&leader) {
            return Err(field(
                "consensus.leader_timeout_ms",
                format!(
                    "{leader} is outside {MIN_LEADER_TIMEOUT_MS}..={MAX_TIMEOUT_MS}: a loaded \
                     leader waits up to {} ms for the block interval and builds for up to {} ms",
                    crate::app::MIN_BLOCK_INTERVAL.as_millis(),
                    crate::chain::BUILD_BUDGET.as_millis()
                ),
            ));
        }
        if certification <= leader || certification > MAX_TIMEOUT_MS {
            return Err(field(
                "consensus.certification_timeout_ms",
                format!(
                    "{certification} must be more than the leader timeout ({leader} ms) and at \
                     most {MAX_TIMEOUT_MS}"
                ),
            ));
        }
        Ok(ConsensusTimeouts {
            leader: Duration::from_millis(leader),
            certification: Duration::from_millis(certification),
        })
    }
}

/// The `mempool` section of a validator's configuration. Every field is optional; an absent one
/// keeps the default of [`xa_mempool::Config`]. Node-local: validators of one chain may differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolSettings {
    /// Most pending transactions held (default 200,000). Past it, a transaction a block could
    /// include next evicts the newest ones waiting behind a missing nonce; others get
    /// `MEMPOOL_FULL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_txs: Option<usize>,
    /// Most encoded bytes held (default 256 MiB); at least the chain's `max_tx_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// How far past its next committed nonce a sender may queue (default 1,024); a transaction
    /// further ahead gets `NONCE_TOO_HIGH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_nonce_ahead: Option<u64>,
}

impl MempoolSettings {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The mempool configuration these settings give on a chain whose transactions are at most
    /// `max_tx_bytes` long, or an error naming the field that is out of range.
    pub fn resolve(&self, max_tx_bytes: u32) -> Result<xa_mempool::Config, ConfigError> {
        let defaults = xa_mempool::Config::default();
        let field = |field: &'static str, message: String| ConfigError::Field { field, message };
        let cfg = xa_mempool::Config {
            max_txs: self.max_txs.unwrap_or(defaults.max_txs),
            max_bytes: self.max_bytes.unwrap_or(defaults.max_bytes),
            max_nonce_ahead: self.max_nonce_ahead.unwrap_or(defaults.max_nonce_ahead),
        };
        if cfg.max_txs == 0 {
            return Err(field("mempool.max_txs", "must be at least 1".into()));
        }
        if cfg.max_bytes < max_tx_bytes as usize {
            return Err(field(
                "mempool.max_bytes",
                format!(
                    "{} is less than the chain's max_tx_bytes ({max_tx_bytes}): the largest valid \
                     transaction would never fit",
                    cfg.max_bytes
                ),
            ));
        }
        if cfg.max_nonce_ahead == 0 {
            return Err(field(
                "mempool.max_nonce_ahead",
                "must be at least 1".into(),
            ));
        }
        Ok(cfg)
    }
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
    /// A field's value is out of range.
    #[error("{field}: {message}")]
    Field {
        /// The field, as written in the file (`section.name`).
        field: &'static str,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Result<NodeConfig, serde_json::Error> {
        serde_json::from_str(&format!(
            r#"{{"name": "v0", "genesis": "g.json", "validator_key": "k.json", "data_dir": "d",
                "p2p_listen": "127.0.0.1:1", "api_listen": "127.0.0.1:2"{extra}}}"#
        ))
    }

    #[test]
    fn mempool_bounds_default_when_absent_and_override_per_field() {
        let plain = config("").expect("parses");
        assert_eq!(plain.mempool, MempoolSettings::default());
        let d = xa_mempool::Config::default();
        let got = plain.mempool.resolve(65_536).expect("defaults are valid");
        assert_eq!(
            (got.max_txs, got.max_bytes, got.max_nonce_ahead),
            (d.max_txs, d.max_bytes, d.max_nonce_ahead)
        );
        // Written back without the section, as before it existed.
        assert!(
            !serde_json::to_string(&plain)
                .expect("encodes")
                .contains("mempool")
        );

        let set =
            config(r#", "mempool": {"max_txs": 5000, "max_nonce_ahead": 64}"#).expect("parses");
        let got = set.mempool.resolve(65_536).expect("valid");
        assert_eq!(
            (got.max_txs, got.max_bytes, got.max_nonce_ahead),
            (5000, d.max_bytes, 64)
        );
    }

    #[test]
    fn storage_sizes_default_when_absent_override_per_field_and_name_their_field() {
        let plain = config("").expect("parses");
        assert_eq!(
            plain.storage.resolve().expect("defaults are valid"),
            xa_storage::StoreOptions::default()
        );
        assert!(
            !serde_json::to_string(&plain)
                .expect("serializes")
                .contains("storage")
        );
        let set = config(r#", "storage": {"memtable_mib": 32}"#).expect("parses");
        assert_eq!(
            set.storage.resolve().expect("valid"),
            xa_storage::StoreOptions {
                memtable_bytes: 32 << 20,
                journal_bytes: 512 << 20,
                ..xa_storage::StoreOptions::default()
            }
        );
        for i in 0..8 {
            let s = StorageSettings::staggered(i);
            s.resolve().expect("init's sizes are valid");
            assert_ne!(s, StorageSettings::staggered(i + 1));
        }
        for (section, expected) in [
            (
                r#"{"memtable_mib": 4}"#,
                "storage.memtable_mib: 4 is outside 8..=1024",
            ),
            (r#"{"memtable_mib": 2000}"#, "storage.memtable_mib: 2000"),
            (
                r#"{"journal_mib": 32}"#,
                "storage.journal_mib: 32 must be within",
            ),
            (
                r#"{"memtable_mib": 256, "journal_mib": 128}"#,
                "storage.journal_mib: 128 must be within 64..=65536 and at least memtable_mib (256)",
            ),
        ] {
            let cfg = config(&format!(r#", "storage": {section}"#)).expect("parses");
            let err = cfg.storage.resolve().expect_err(section).to_string();
            assert!(err.starts_with(expected), "{section}: {err}");
        }
        assert!(
            config(r#", "storage": {"memtable": 8}"#).is_err(),
            "unknown field"
        );
    }

    #[test]
    fn consensus_timeouts_default_when_absent_and_override_per_field() {
        let plain = config("").expect("parses");
        assert_eq!(plain.consensus, ConsensusSettings::default());
        assert_eq!(
            plain.consensus.resolve().expect("defaults are valid"),
            ConsensusTimeouts {
                leader: DEFAULT_LEADER_TIMEOUT,
                certification: DEFAULT_CERTIFICATION_TIMEOUT
            }
        );
        // A config without the section is written back without it.
        assert!(
            !serde_json::to_string(&plain)
                .expect("serializes")
                .contains("consensus")
        );
        let set = config(
            r#", "consensus": {"leader_timeout_ms": 3000, "certification_timeout_ms": 6000}"#,
        )
        .expect("parses");
        assert_eq!(
            set.consensus.resolve().expect("valid"),
            ConsensusTimeouts {
                leader: Duration::from_secs(3),
                certification: Duration::from_secs(6)
            }
        );
        // Only the leader timeout: the default certification timeout must still exceed it.
        let only = config(r#", "consensus": {"leader_timeout_ms": 1500}"#).expect("parses");
        assert_eq!(
            only.consensus.resolve().expect("valid").leader,
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn out_of_range_consensus_timeouts_name_their_field() {
        for (section, expected) in [
            (
                r#"{"leader_timeout_ms": 0}"#,
                "consensus.leader_timeout_ms: 0 is outside 600..=600000",
            ),
            (
                r#"{"leader_timeout_ms": 599}"#,
                "consensus.leader_timeout_ms: 599 is outside",
            ),
            (
                r#"{"leader_timeout_ms": 600001}"#,
                "consensus.leader_timeout_ms: 600001 is outside",
            ),
            (
                r#"{"leader_timeout_ms": 2000}"#,
                "consensus.certification_timeout_ms: 2000 must be more than the leader timeout (2000 ms)",
            ),
            (
                r#"{"certification_timeout_ms": 700000}"#,
                "consensus.certification_timeout_ms: 700000 must be more than",
            ),
        ] {
            let cfg = config(&format!(r#", "consensus": {section}"#)).expect("parses");
            let err = cfg.consensus.resolve().expect_err(section).to_string();
            assert!(err.starts_with(expected), "{section}: {err}");
        }
        let err = config(r#", "consensus": {"leader_timeout": 10}"#).expect_err("unknown field");
        assert!(err.to_string().contains("leader_timeout"), "{err}");
        let err = config(r#", "consensus": {"leader_timeout_ms": -1}"#).expect_err("negative");
        assert!(err.to_string().contains("invalid value"), "{err}");
    }

    #[test]
    fn out_of_range_mempool_bounds_name_their_field() {
        let cases = [
            (r#"{"max_txs": 0}"#, "mempool.max_txs: must be at least 1"),
            (
                r#"{"max_nonce_ahead": 0}"#,
                "mempool.max_nonce_ahead: must be at least 1",
            ),
            (
                r#"{"max_bytes": 1000}"#,
                "mempool.max_bytes: 1000 is less than the chain's max_tx_bytes (65536)",
            ),
        ];
        for (section, want) in cases {
            let cfg = config(&format!(r#", "mempool": {section}"#)).expect("parses");
            let err = cfg.mempool.resolve(65_536).expect_err(section).to_string();
            assert!(err.starts_with(want), "{section}: got {err:?}");
        }
        // A misspelt field is an error, not a silently ignored setting.
        let err = config(r#", "mempool": {"max_tx": 10}"#).expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `max_tx`"), "{err}");
    }
}
