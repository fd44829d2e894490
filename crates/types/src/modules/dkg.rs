//! Resharing the tender threshold key to each new validator set, on chain.
//!
//! # Life of a reshare round
//! Each validator has a DKG key (an eVRF key, Commonware `bls12381::dkg::golden`) besides its
//! consensus key, registered under [`dkg_key_key`] (genesis validators from genesis, new ones by
//! [`REGISTER_KEY`]). The output in force ([`OUTPUT_KEY`], a [`DkgOutput`]) names the current
//! share holders. When governance decides a new set (`validators/next`) whose members all have
//! DKG keys and differ from the holders, a [`DkgRound`] opens ([`ROUND_KEY`]) with a fresh
//! round number ([`NEXT_ROUND_KEY`]; never reused): dealers are the current holders, players
//! the next set. Each dealer's node posts one signed dealer log ([`DEAL`]); every dealer may
//! deal while the round is open. Once the round holds at least `required` logs, any node posts
//! [`FINISH`] naming how many logs (the first `logs`, in chain order) the output is computed
//! from: the module computes the public output from those, checks the group key is unchanged,
//! and puts it in force (new `tender/threshold`, [`OUTPUT_KEY`]), keeping the round's record
//! ([`round_key`], its `dealt` cut to the logs used) and logs ([`log_key`]) so the players
//! recover their shares from exactly that set.
//!
//! A dealer log can carry a valid signature over a bad dealing (a faulty or malicious
//! dealer). Such a log only fails a `finish` over a prefix that holds too few valid dealings:
//! that `finish` is refused and changes nothing, the round stays open, and a later `finish`
//! over more logs succeeds once `required` valid dealings are among them. Only when every
//! dealer's log is in and fewer than `required` are valid (more than `f` faulty holders, beyond
//! the fault model) does the round fail; a new one (a new number) then opens.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "dkg";
/// Method: post a dealer log for the open round ([`DealArgs`]).
pub const DEAL: &str = "deal";
/// Method: put the output of a round whose logs are complete in force ([`FinishArgs`]).
pub const FINISH: &str = "finish";
/// Method: register a validator's DKG public key ([`RegisterKeyArgs`]).
pub const REGISTER_KEY: &str = "register_key";
/// All methods.
pub const METHODS: &[&str] = &[DEAL, FINISH, REGISTER_KEY];

/// State key of the output in force ([`DkgOutput`]); absent on chains whose threshold key came
/// from the trusted dealer (they cannot reshare).
pub const OUTPUT_KEY: &[u8] = b"dkg/output";
/// State key of the open round ([`DkgRound`]), if any.
pub const ROUND_KEY: &[u8] = b"dkg/round";
/// State key of the next unused round number (`u64`).
pub const NEXT_ROUND_KEY: &[u8] = b"dkg/next_round";
/// Largest dealer log accepted (bytes).
pub const MAX_LOG_BYTES: usize = 32 * 1024;

/// State key of a validator's DKG public key, by its consensus key.
pub fn dkg_key_key(consensus_key: &[u8]) -> Vec<u8> {
    format!("dkg/key/{}", hex::encode(consensus_key)).into_bytes()
}

/// State key of the output of `round`, kept for every round that finished (and round 0), so a
/// player can rebuild the round that reshared it.
pub fn output_at_key(round: u64) -> Vec<u8> {
    format!("dkg/o/{round:020}").into_bytes()
}

/// State key of a round's record (written when it finishes or fails).
pub fn round_key(round: u64) -> Vec<u8> {
    format!("dkg/r/{round:020}").into_bytes()
}

/// State key of a dealer's log in a round.
pub fn log_key(round: u64, dealer: &[u8]) -> Vec<u8> {
    format!("dkg/r/{round:020}/log/{}", hex::encode(dealer)).into_bytes()
}

/// The output in force.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DkgOutput {
    /// The round that produced it (0: the genesis round).
    pub round: u64,
    /// Codec bytes of Commonware's `golden::Output`.
    #[serde(with = "crate::hexser")]
    pub output: Vec<u8>,
}

/// Outcome of a round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum RoundStatus {
    /// Collecting dealer logs.
    Open,
    /// Finished: its output is (or was) in force.
    Done,
    /// Every dealer dealt and too few dealings were valid; a later round replaced it.
    Failed,
    /// The next set changed before it finished; a later round replaced it.
    Superseded,
}

/// A reshare round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DkgRound {
    /// Round number (strictly increasing, never reused).
    pub round: u64,
    /// The output it reshares (round number).
    pub previous: u64,
    /// Dealers' DKG public keys: the holders of the previous output.
    pub dealers: Vec<Vec<u8>>,
    /// Players' DKG public keys: the next validator set's.
    pub players: Vec<Vec<u8>>,
    /// Valid dealings needed.
    pub required: u32,
    /// Dealers that posted a log, in chain order (their logs are under [`log_key`]). Once the
    /// round is done: only those whose logs the output was computed from (the first
    /// `FinishArgs::logs`).
    pub dealt: Vec<Vec<u8>>,
    /// Height at which it opened.
    pub opened_height: u64,
    /// Its status.
    pub status: RoundStatus,
}

/// Arguments of [`DEAL`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DealArgs {
    /// The open round's number.
    pub round: u64,
    /// Codec bytes of the dealer's `SignedDealerLog`.
    #[serde(with = "crate::hexser")]
    pub log: Vec<u8>,
}

/// Arguments of [`FINISH`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct FinishArgs {
    /// The open round's number.
    pub round: u64,
    /// How many of the round's logs, the first in chain order, the output is computed from:
    /// at least `required`, at most the number on chain. Naming them makes `finish` a pure
    /// function of logs already on chain, so a node can compute its result ahead of time.
    pub logs: u32,
}

/// Arguments of [`REGISTER_KEY`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterKeyArgs {
    /// The validator's Ed25519 consensus key.
    #[serde(with = "crate::hexser")]
    pub consensus_key: Vec<u8>,
    /// Its DKG (eVRF) public key.
    #[serde(with = "crate::hexser")]
    pub dkg_key: Vec<u8>,
}

/// Genesis part of an on-chain reshare: the round-0 output and the genesis validators' DKG keys.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DkgGenesis {
    /// Codec bytes of the round-0 `golden::Output` (its sharing is the genesis threshold key).
    #[serde(with = "crate::hexser")]
    pub output: Vec<u8>,
    /// Each genesis validator's DKG public key.
    pub keys: Vec<RegisterKeyArgs>,
}
