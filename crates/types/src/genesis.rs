//! The genesis file: the chain's identity, suite, validators, founding accounts and parameters.

use crate::modules::identity::{MAX_NAME, MAX_ROLES};
use crate::policy::{validate_org_id, validate_role};
use crate::{Hash, PublicKey, Suite, encode, hexser};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// A validator named in genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Human-readable name, e.g. the operating organization.
    pub name: String,
    /// Ed25519 consensus public key (32 bytes, hex in JSON).
    #[serde(with = "hexser")]
    pub consensus_key: Vec<u8>,
    /// Address other validators dial, `host:port`.
    pub p2p_address: String,
}

/// An organization that exists from genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisOrg {
    /// Lowercase slug, 1 to 32 characters of `[a-z0-9-]`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it is a founding organization (founding organizations govern the chain).
    #[serde(default)]
    pub founding: bool,
}

/// An account that exists from genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Human-readable name.
    pub name: String,
    /// The account's key, of the chain's suite.
    pub public_key: PublicKey,
    /// The organization it belongs to (one of [`Genesis::organizations`]).
    pub org: String,
    /// Roles held within `org`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Chain parameters fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainParams {
    /// Most transactions in one block.
    pub max_block_txs: u32,
    /// Largest encoded transaction, in bytes.
    pub max_tx_bytes: u32,
    /// Heights per consensus epoch.
    pub epoch_length: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        Self {
            max_block_txs: 10_000,
            max_tx_bytes: 64 * 1024,
            epoch_length: u64::MAX,
        }
    }
}

/// The genesis file.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain identifier carried by every transaction.
    pub chain_id: String,
    /// Cryptographic suite for accounts, transactions, hashes and state.
    pub suite: Suite,
    /// Genesis time, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// The initial validator set.
    pub validators: Vec<GenesisValidator>,
    /// Organizations existing from genesis.
    #[serde(default)]
    pub organizations: Vec<GenesisOrg>,
    /// Accounts existing from genesis, each in one of `organizations`.
    pub accounts: Vec<GenesisAccount>,
    /// Parameters.
    pub params: ChainParams,
    /// The validators' threshold key that seals tender bids (`tender/threshold` in state).
    /// **Trusted dealer, devnet only**: `xachain init` dealt it and saw every share; production
    /// needs a DKG. Absent: the chain cannot open sealed bids. Not part of the borsh encoding
    /// (so genesis files without it keep their hash); [`Genesis::hash`] appends it when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[borsh(skip)]
    pub tender_threshold_trusted_dealer_devnet_only: Option<crate::modules::tender::ThresholdKey>,
    /// **Devnet only**: a shorter minimum publicity period for tenders (ms) than the legal 3
    /// days, so a demo can run to the award. Absent on any real chain. Outside the borsh
    /// encoding like the threshold key, and appended to [`Genesis::hash`] when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[borsh(skip)]
    pub tender_min_publicity_ms_devnet_only: Option<u64>,
    /// **Trusted setup, devnet only**: the round-0 output of the golden DKG that made the
    /// threshold key (`xachain init` ran it among the genesis validators' DKG keys, so it saw
    /// every share) and each genesis validator's DKG public key. Present: the key is reshared
    /// on chain to every new validator set (module `dkg`). Outside the borsh encoding like the
    /// threshold key, and appended to [`Genesis::hash`] when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[borsh(skip)]
    pub tender_dkg_trusted_setup_devnet_only: Option<crate::modules::dkg::DkgGenesis>,
    /// How state keys map to tree leaves (`xa_storage::StateLayout`): 2 (a key and its history
    /// head share one leaf), as `xachain init` writes since 2026-11-25; absent = 1 (one leaf per
    /// key), the layout of every chain created before. Every state root depends on it, so it is
    /// fixed here; verifiers take it from the genesis, never from a proof. Outside the borsh
    /// encoding like the threshold key (genesis files without it keep their hash), and appended
    /// to [`Genesis::hash`] when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[borsh(skip)]
    pub state_layout: Option<u8>,
}

impl Genesis {
    /// The genesis hash: the suite hash of the canonical encoding (and of the tender threshold
    /// key, when there is one). It is the parent of block 1.
    pub fn hash(&self) -> Hash {
        let body = encode(self);
        let mut parts: Vec<&[u8]> = vec![b"XA-GENESIS-V1", &body];
        let key = self
            .tender_threshold_trusted_dealer_devnet_only
            .as_ref()
            .map(encode);
        if let Some(k) = &key {
            parts.push(b"XA-TENDER-THRESHOLD-V1");
            parts.push(k);
        }
        let publicity = self
            .tender_min_publicity_ms_devnet_only
            .map(|ms| encode(&ms));
        if let Some(p) = &publicity {
            parts.push(b"XA-TENDER-MIN-PUBLICITY-V1");
            parts.push(p);
        }
        let dkg = self
            .tender_dkg_trusted_setup_devnet_only
            .as_ref()
            .map(encode);
        if let Some(d) = &dkg {
            parts.push(b"XA-TENDER-DKG-V1");
            parts.push(d);
        }
        let layout = self.state_layout.map(|l| [l]);
        if let Some(l) = &layout {
            parts.push(b"XA-STATE-LAYOUT-V1");
            parts.push(l);
        }
        self.suite.hash_parts(&parts)
    }

    /// The consensus namespace of this chain: every consensus signature (votes, finalization
    /// certificates) is made under it, so none can be replayed on another chain.
    pub fn consensus_namespace(&self) -> Vec<u8> {
        let mut ns = b"XA-CONSENSUS-".to_vec();
        ns.extend_from_slice(&self.hash().0);
        ns
    }

    /// Check the genesis for internal consistency.
    pub fn validate(&self) -> Result<(), String> {
        if self.chain_id.is_empty() {
            return Err("chain_id: must not be empty".into());
        }
        if self.validators.is_empty() {
            return Err("validators: at least one validator is required".into());
        }
        if let Some(l) = self.state_layout
            && !matches!(l, 1 | 2)
        {
            return Err(format!("state_layout: {l} is not a layout (1 or 2)"));
        }
        if let Some(k) = &self.tender_threshold_trusted_dealer_devnet_only
            && (k.players == 0 || k.sharing.is_empty())
        {
            return Err("tender_threshold_trusted_dealer_devnet_only: empty key".into());
        }
        if let Some(d) = &self.tender_dkg_trusted_setup_devnet_only {
            if self.tender_threshold_trusted_dealer_devnet_only.is_none() {
                return Err(
                    "tender_dkg_trusted_setup_devnet_only: needs the threshold key it made".into(),
                );
            }
            for (i, k) in d.keys.iter().enumerate() {
                if !self
                    .validators
                    .iter()
                    .any(|v| v.consensus_key == k.consensus_key)
                {
                    return Err(format!(
                        "tender_dkg_trusted_setup_devnet_only.keys[{i}]: not a genesis validator"
                    ));
                }
            }
        }
        for (i, v) in self.validators.iter().enumerate() {
            if v.consensus_key.len() != 32 {
                return Err(format!("validators[{i}].consensus_key: must be 32 bytes"));
            }
            if v.p2p_address.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "validators[{i}].p2p_address: '{}' is not host:port",
                    v.p2p_address
                ));
            }
        }
        let mut keys: Vec<&Vec<u8>> = self.validators.iter().map(|v| &v.consensus_key).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != self.validators.len() {
            return Err("validators: duplicate consensus_key".into());
        }
        let mut org_ids = std::collections::BTreeSet::new();
        for (i, o) in self.organizations.iter().enumerate() {
            validate_org_id(&o.id).map_err(|e| format!("organizations[{i}].id: {e}"))?;
            if o.name.is_empty() || o.name.len() > MAX_NAME {
                return Err(format!(
                    "organizations[{i}].name: must be 1 to {MAX_NAME} bytes"
                ));
            }
            if !org_ids.insert(o.id.as_str()) {
                return Err(format!("organizations[{i}].id: '{}' is listed twice", o.id));
            }
        }
        let mut account_keys = std::collections::BTreeSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if a.public_key.suite() != self.suite {
                return Err(format!(
                    "accounts[{i}].public_key: suite {} does not match the chain's {}",
                    a.public_key.suite().name(),
                    self.suite.name()
                ));
            }
            if !account_keys.insert(a.public_key.clone()) {
                return Err(format!(
                    "accounts[{i}].public_key: already used by another account"
                ));
            }
            if !org_ids.contains(a.org.as_str()) {
                return Err(format!(
                    "accounts[{i}].org: '{}' is not one of organizations",
                    a.org
                ));
            }
            if a.roles.len() > MAX_ROLES {
                return Err(format!("accounts[{i}].roles: at most {MAX_ROLES} roles"));
            }
            let mut roles = std::collections::BTreeSet::new();
            for r in &a.roles {
                validate_role(r).map_err(|e| format!("accounts[{i}].roles: {e}"))?;
                if !roles.insert(r) {
                    return Err(format!("accounts[{i}].roles: '{r}' is listed twice"));
                }
            }
        }
        if self.params.epoch_length < 2 {
            return Err("params.epoch_length: must be at least 2".into());
        }
        if self.params.max_block_txs == 0 || self.params.max_tx_bytes < 256 {
            return Err("params: max_block_txs must be > 0 and max_tx_bytes >= 256".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyPair;

    fn sample() -> Genesis {
        let key = |s: u8| {
            KeyPair::from_seed(Suite::Ed25519, &[s; 32])
                .expect("key")
                .public_key()
        };
        Genesis {
            chain_id: "t".into(),
            suite: Suite::Ed25519,
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                name: "v".into(),
                consensus_key: vec![1; 32],
                p2p_address: "127.0.0.1:1".into(),
            }],
            organizations: vec![GenesisOrg {
                id: "committee".into(),
                name: "Committee".into(),
                founding: true,
            }],
            accounts: vec![
                GenesisAccount {
                    name: "op".into(),
                    public_key: key(1),
                    org: "committee".into(),
                    roles: vec!["chain_admin".into(), "org_admin".into()],
                },
                GenesisAccount {
                    name: "b".into(),
                    public_key: key(2),
                    org: "committee".into(),
                    roles: vec![],
                },
            ],
            params: ChainParams::default(),
            tender_threshold_trusted_dealer_devnet_only: None,
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: None,
            state_layout: None,
        }
    }

    /// The state layout is hashed only when named (genesis files from before it keep their
    /// hash), and only layouts 1 and 2 are valid.
    #[test]
    fn state_layout_is_hashed_when_named_and_checked() {
        let g = sample();
        let mut two = g.clone();
        two.state_layout = Some(2);
        two.validate().expect("layout 2");
        assert_ne!(two.hash(), g.hash());
        let mut one = g.clone();
        one.state_layout = Some(1);
        assert_ne!(
            one.hash(),
            g.hash(),
            "naming layout 1 is a different genesis"
        );
        let json = serde_json::to_value(&two).expect("json");
        assert_eq!(json["state_layout"], 2);
        assert!(
            serde_json::to_value(&g)
                .expect("json")
                .get("state_layout")
                .is_none()
        );
        let mut bad = g;
        bad.state_layout = Some(3);
        let e = bad.validate().expect_err("layout 3");
        assert!(e.starts_with("state_layout"), "{e}");
    }

    #[test]
    fn accounts_must_name_orgs_use_unique_keys_and_valid_roles() {
        sample().validate().expect("valid");
        type Edit = fn(&mut Genesis);
        let cases: Vec<(Edit, &str)> = vec![
            (|g| g.accounts[1].org = "nowhere".into(), "accounts[1].org"),
            (
                |g| g.accounts[1].public_key = g.accounts[0].public_key.clone(),
                "accounts[1].public_key",
            ),
            (
                |g| g.accounts[0].roles.push("Admin!".into()),
                "accounts[0].roles",
            ),
            (
                |g| g.accounts[0].roles.push("org_admin".into()),
                "accounts[0].roles",
            ),
            (
                |g| g.organizations[0].id = "Committee".into(),
                "organizations[0].id",
            ),
            (
                |g| g.organizations[0].id = "own".into(),
                "organizations[0].id",
            ),
            (
                |g| g.organizations.push(g.organizations[0].clone()),
                "organizations[1].id",
            ),
        ];
        for (edit, field) in cases {
            let mut g = sample();
            edit(&mut g);
            let e = g.validate().expect_err(field);
            assert!(e.starts_with(field), "{e} should name {field}");
        }
    }

    #[test]
    fn json_defaults_roles_and_organizations() {
        let mut g = sample();
        g.accounts[1].roles.clear();
        let mut v = serde_json::to_value(&g).expect("json");
        v["accounts"][1]
            .as_object_mut()
            .expect("object")
            .remove("roles");
        let back: Genesis = serde_json::from_value(v).expect("roles default to none");
        assert_eq!(back, g);
    }

    #[test]
    fn tender_threshold_key_is_hashed_only_when_present() {
        let g = sample();
        let plain = g.suite.hash_parts(&[b"XA-GENESIS-V1", &encode(&g)]);
        assert_eq!(
            g.hash(),
            plain,
            "genesis files without a key keep their hash"
        );
        let mut with = g.clone();
        with.tender_threshold_trusted_dealer_devnet_only =
            Some(crate::modules::tender::ThresholdKey {
                sharing: vec![1, 2, 3],
                players: 4,
            });
        assert_ne!(with.hash(), plain);
        let json = serde_json::to_string(&with).expect("json");
        let back: Genesis = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.hash(), with.hash());
    }
}
