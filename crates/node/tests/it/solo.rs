//! One validator's `Chain` on a temporary store, driven directly (no consensus, no network):
//! a genesis with two founding organizations and one administrator each (key seeds 1 and 2),
//! and governance transactions to feed it.

use std::sync::Arc;
use xa_node::{Chain, chain::hash_algo};
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, KeyPair, Suite,
    Transaction, TxBody, address_of,
    modules::governance::{self, ProposalAction, ProposeArgs},
};

const CHAIN: &str = "xa-solo-test";

/// The Ed25519 key of `seed`: 1 and 2 are the administrators, 100 the validator.
pub fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(Suite::Ed25519, &[seed; 32]).expect("key")
}

/// The genesis, with `params`.
pub fn genesis(params: ChainParams) -> Genesis {
    let org = |id: &str| GenesisOrg {
        id: id.into(),
        name: id.into(),
        founding: true,
    };
    let admin = |seed: u8, org: &str| GenesisAccount {
        name: format!("admin-{org}"),
        public_key: key(seed).public_key(),
        org: org.into(),
        roles: vec!["org_admin".into()],
    };
    let g = Genesis {
        chain_id: CHAIN.into(),
        suite: Suite::Ed25519,
        genesis_time_ms: 0,
        validators: vec![GenesisValidator {
            name: "v0".into(),
            consensus_key: key(100).public_key().as_bytes().to_vec(),
            p2p_address: "127.0.0.1:9100".into(),
        }],
        organizations: vec![org("a"), org("b")],
        accounts: vec![admin(1, "a"), admin(2, "b")],
        params,
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    };
    g.validate().expect("genesis");
    g
}

/// A chain with default parameters on a store in `dir`.
pub fn open(dir: &std::path::Path) -> Arc<Chain> {
    open_with(dir, ChainParams::default())
}

/// A chain with `params` on a store in `dir`.
pub fn open_with(dir: &std::path::Path, params: ChainParams) -> Arc<Chain> {
    open_with_pool(dir, params, xa_mempool::Config::default())
}

/// A chain with `params` and a mempool of `pool` limits on a store in `dir`.
pub fn open_with_pool(
    dir: &std::path::Path,
    params: ChainParams,
    pool: xa_mempool::Config,
) -> Arc<Chain> {
    let g = genesis(params);
    let store = xa_storage::Store::open(dir, hash_algo(g.suite)).expect("store");
    Chain::open(g, store, pool).expect("chain")
}

/// A governance call `method(args)` by the key of `seed` with `nonce`.
pub fn tx(seed: u8, nonce: u64, method: &str, args: &impl borsh::BorshSerialize) -> Transaction {
    TxBody {
        chain_id: CHAIN.into(),
        sender: address_of(&key(seed).public_key()),
        nonce,
        expiry_height: 1_000,
        call: Call::new(governance::MODULE, method, args),
    }
    .sign(&key(seed))
}

/// Administrator 1 proposes setting `max_block_txs`, with `nonce`.
pub fn propose(nonce: u64, max_block_txs: u64) -> Transaction {
    let args = ProposeArgs {
        action: ProposalAction::SetParam {
            name: governance::PARAM_MAX_BLOCK_TXS.into(),
            value: max_block_txs,
        },
        expires_at_ms: 3_600_000,
    };
    tx(1, nonce, governance::PROPOSE, &args)
}
