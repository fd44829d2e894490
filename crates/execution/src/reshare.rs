//! Share the tender threshold key among the validators, and reshare it to a new validator set
//! under the same group public key.
//!
//! A thin, bytes-at-the-boundary layer over Commonware's **ALPHA**
//! `bls12381::dkg::golden` (non-interactive, publicly verifiable DKG and resharing with eVRF
//! keys). Each participant holds a DKG key ([`DkgKey`], an eVRF key pair) besides its
//! consensus key. A round ([`Round`]) names its dealers and players by DKG public key; each
//! dealer publishes one signed dealer log ([`Round::deal`]) carrying encrypted shares for all
//! players; anyone checks a log's signature ([`Round::identify`]) and computes the public
//! result from an agreed set of logs ([`Round::observe`]); each player also recovers its share
//! ([`Round::play`]).
//!
//! # Terminology
//! - **Output**: the public result of a round (codec bytes of `golden::Output`): the public
//!   sharing (group key and every share's public key), the authoritative quorum, the selected
//!   dealers and the players. A reshare round needs the previous round's output.
//! - **Share**: a player's secret share (codec bytes of `group::Share`), signing partials with
//!   [`crate::sealing::partial_sign`] exactly as a trusted dealer's share does.
//!
//! # Invariants the caller keeps (from golden's safety section)
//! - Every node feeds [`Round::observe`]/[`Round::play`] the **same set of logs** (on chain:
//!   the logs agreed by consensus, in state).
//! - A round number is **never reused**, failed rounds included.
//! - The dealers of a reshare round are players of the previous output ([`Round::new`] checks).
//! - The output's quorum ([`RoundOutput::quorum`]) is the threshold; it is never re-derived.
//!
//! Deterministic: `observe` and `play` draw randomness only for batch verification (random
//! linear combinations); callers seed it from chain data ([`Round::observe`] takes the seed),
//! and the result does not depend on it except with negligible probability.

use crate::sealing::{MAX_PLAYERS, SealError};
use commonware_codec::{Decode, DecodeExt, Encode};
use commonware_cryptography::bls12381::{
    dkg::golden::{self, DealerLog, Info, Output, PrivateKey, PublicKey, Setup, SignedDealerLog},
    primitives::{group::Share, sharing::ModeVersion},
};
use commonware_math::algebra::Random;
use commonware_parallel::Sequential;
use commonware_utils::{
    N3f1, TryCollect,
    ordered::{Quorum, Set},
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::{
    collections::BTreeMap,
    num::NonZeroU32,
    sync::{Mutex, OnceLock},
};
use xa_types::{Suite, modules::tender::ThresholdKey};

/// Most players (and dealers) a DKG round may have. The eVRF setup is built for this bound
/// once per process; its cost grows with the bound (see ARCHITECTURE.md, *Resharing*).
pub const MAX_DKG_PLAYERS: u32 = 8;

/// Domain of every DKG transcript on this chain (followed by the chain id).
pub const DKG_NAMESPACE: &[u8] = b"XA-TENDER-DKG-V1";

/// Why a DKG operation failed.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum DkgError {
    /// Bytes that should hold a key, log, output or share do not decode.
    #[error("{0}: does not decode")]
    Decode(&'static str),
    /// The round's configuration is invalid (empty or too large sets, a dealer that was not a
    /// player of the previous output, too few dealers to reach its quorum).
    #[error("round: {0}")]
    Config(String),
    /// A dealer log's signature does not verify for this round.
    #[error("dealer log: signature does not verify for round {0}")]
    BadLog(u64),
    /// A dealer log is from a key that is not a dealer of this round.
    #[error("dealer log: not from a dealer of round {0}")]
    NotDealer(u64),
    /// Too few valid dealings to finish the round.
    #[error("round {0}: too few valid dealings")]
    Failed(u64),
    /// The key is not a player of this round.
    #[error("round {0}: not a player")]
    NotPlayer(u64),
    /// A reshare produced a different group key (never expected; refused if it happens).
    #[error("round {0}: reshare changed the group public key")]
    GroupKeyChanged(u64),
    /// A dealer of a reshare round supplied no previous share.
    #[error("round {0}: a reshare dealer needs its previous share")]
    MissingShare(u64),
}

impl From<DkgError> for SealError {
    fn from(e: DkgError) -> Self {
        SealError::BadKey(e.to_string())
    }
}

/// The eVRF setup shared by every round (public, deterministic; built once per process).
pub fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup::new(max_players()))
}

fn max_players() -> NonZeroU32 {
    NonZeroU32::new(MAX_DKG_PLAYERS).unwrap_or(NonZeroU32::MIN)
}

fn codec_cfg() -> (NonZeroU32, ModeVersion) {
    (
        NonZeroU32::new(MAX_PLAYERS).unwrap_or(NonZeroU32::MIN),
        ModeVersion::v0(),
    )
}

/// A participant's DKG key pair (eVRF). Secret: keep its bytes in a mode-0600 file.
#[derive(Clone, Debug)]
pub struct DkgKey(PrivateKey);

impl DkgKey {
    /// Derive a key from 32 bytes of seed (take them from the OS).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(PrivateKey::random(ChaCha20Rng::from_seed(seed)))
    }

    /// Decode a key from its secret bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DkgError> {
        PrivateKey::decode(bytes.to_vec())
            .map(Self)
            .map_err(|_| DkgError::Decode("dkg key"))
    }

    /// The secret bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.encode().to_vec()
    }

    /// The public key's bytes (what genesis, proposals and rounds name).
    pub fn public(&self) -> Vec<u8> {
        self.0.public().encode().to_vec()
    }
}

/// Decode a DKG public key.
pub fn public_key(bytes: &[u8]) -> Result<PublicKey, DkgError> {
    PublicKey::decode(bytes.to_vec()).map_err(|_| DkgError::Decode("dkg public key"))
}

fn decode_output(bytes: &[u8]) -> Result<Output<PublicKey>, DkgError> {
    Output::<PublicKey>::decode_cfg(bytes.to_vec(), &codec_cfg())
        .map_err(|_| DkgError::Decode("output"))
}

/// The public result of a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundOutput {
    /// The round it came from.
    pub round: u64,
    /// Codec bytes of the golden output (needed by the next reshare round).
    pub output: Vec<u8>,
    /// The threshold key in force after it: the public sharing, as the tender module reads it.
    pub key: ThresholdKey,
    /// Shares needed to sign (the output's authoritative quorum).
    pub quorum: u32,
    /// The players' DKG public keys, in share-index order (share `i` belongs to `players[i]`).
    pub players: Vec<Vec<u8>>,
}

impl RoundOutput {
    fn new(round: u64, output: &Output<PublicKey>) -> Self {
        Self {
            round,
            output: output.encode().to_vec(),
            key: ThresholdKey {
                sharing: output.public().encode().to_vec(),
                players: output.players().len() as u32,
            },
            quorum: output.quorum().get(),
            players: output
                .players()
                .iter()
                .map(|p| p.encode().to_vec())
                .collect(),
        }
    }

    /// Decode an output stored as codec bytes (for the round that produced it).
    pub fn decode(round: u64, bytes: &[u8]) -> Result<Self, DkgError> {
        Ok(Self::new(round, &decode_output(bytes)?))
    }

    /// The group public key (codec bytes).
    pub fn group_key(&self) -> Result<Vec<u8>, DkgError> {
        Ok(decode_output(&self.output)?
            .public()
            .public()
            .encode()
            .to_vec())
    }

    /// The share index of a player, if it is one.
    pub fn index_of(&self, player: &[u8]) -> Option<u32> {
        self.players
            .iter()
            .position(|p| p == player)
            .map(|i| i as u32)
    }
}

/// One DKG round: fresh (no previous output) or a reshare of a previous output.
pub struct Round {
    info: Info,
    round: u64,
    previous: Option<Output<PublicKey>>,
    dealers: Set<PublicKey>,
    required: u32,
}

fn key_set(keys: &[Vec<u8>], what: &str) -> Result<Set<PublicKey>, DkgError> {
    let keys: Vec<PublicKey> = keys
        .iter()
        .map(|k| public_key(k))
        .collect::<Result<_, _>>()?;
    let n = keys.len();
    let set: Set<PublicKey> = keys
        .into_iter()
        .try_collect()
        .map_err(|_| DkgError::Config(format!("{what}: duplicate key")))?;
    if n == 0 || n > MAX_DKG_PLAYERS as usize {
        return Err(DkgError::Config(format!(
            "{what}: {n} keys (1 to {MAX_DKG_PLAYERS})"
        )));
    }
    Ok(set)
}

impl Round {
    /// Configure round `round` of `chain_id` among `dealers` and `players` (DKG public keys),
    /// resharing `previous` (an output's codec bytes) if given. Threshold `2f+1` of `3f+1`
    /// players (Commonware's `N3f1`).
    pub fn new(
        chain_id: &str,
        round: u64,
        previous: Option<&[u8]>,
        dealers: &[Vec<u8>],
        players: &[Vec<u8>],
    ) -> Result<Self, DkgError> {
        let dealers = key_set(dealers, "dealers")?;
        let players = key_set(players, "players")?;
        let previous = previous.map(decode_output).transpose()?;
        let mut namespace = DKG_NAMESPACE.to_vec();
        namespace.extend_from_slice(chain_id.as_bytes());
        let info = Info::new::<N3f1>(
            &namespace,
            round,
            previous.clone(),
            dealers.clone(),
            players,
        )
        .map_err(|e| DkgError::Config(format!("{e:?}")))?;
        // Golden's `required_commitments`: a dealer quorum, and for a reshare at least the
        // previous output's quorum (enough old shares to interpolate the secret).
        let dealer_quorum = dealers.quorum::<N3f1>();
        let required = previous
            .as_ref()
            .map_or(dealer_quorum, |p| dealer_quorum.max(p.quorum().get()));
        Ok(Self {
            info,
            round,
            previous,
            dealers,
            required,
        })
    }

    /// The round number.
    pub fn number(&self) -> u64 {
        self.round
    }

    /// Valid dealings needed to finish the round.
    pub fn required(&self) -> u32 {
        self.required
    }

    /// Whether `key` (DKG public key bytes) is a dealer of this round.
    pub fn is_dealer(&self, key: &[u8]) -> bool {
        public_key(key).is_ok_and(|k| self.dealers.position(&k).is_some())
    }

    /// Deal as `me`: a signed dealer log (codec bytes) for broadcast. A reshare dealer passes
    /// its share of the previous output. `seed` supplies the dealing's randomness: take it from
    /// the OS (it must never repeat for a key).
    pub fn deal(
        &self,
        me: &DkgKey,
        share: Option<&[u8]>,
        seed: [u8; 32],
    ) -> Result<Vec<u8>, DkgError> {
        let share = share
            .map(|s| Share::decode(s.to_vec()).map_err(|_| DkgError::Decode("share")))
            .transpose()?;
        if self.previous.is_some() && share.is_none() {
            return Err(DkgError::MissingShare(self.round));
        }
        let mut rng = ChaCha20Rng::from_seed(seed);
        golden::deal(&mut rng, setup(), &self.info, &me.0, share, &Sequential)
            .map(|log| log.encode().to_vec())
            .map_err(|e| match e {
                golden::Error::UnknownDealer(_) => DkgError::NotDealer(self.round),
                golden::Error::MissingDealerShare => DkgError::MissingShare(self.round),
                e => DkgError::Config(format!("{e:?}")),
            })
    }

    /// Check a signed dealer log's signature for this round and that it comes from one of its
    /// dealers; returns the dealer's public key bytes. Cheap (a Schnorr signature): the
    /// dealing's proofs are checked by [`Self::observe`]/[`Self::play`].
    pub fn identify(&self, log: &[u8]) -> Result<Vec<u8>, DkgError> {
        self.identified(log).map(|(k, _)| k.encode().to_vec())
    }

    fn identified(&self, log: &[u8]) -> Result<(PublicKey, DealerLog), DkgError> {
        let signed = SignedDealerLog::decode_cfg(log.to_vec(), &codec_cfg())
            .map_err(|_| DkgError::Decode("dealer log"))?;
        let (dealer, log) = signed
            .identify(&self.info)
            .ok_or(DkgError::BadLog(self.round))?;
        if self.dealers.position(&dealer).is_none() {
            return Err(DkgError::NotDealer(self.round));
        }
        Ok((dealer, log))
    }

    fn logs(&self, logs: &[Vec<u8>]) -> Result<BTreeMap<PublicKey, DealerLog>, DkgError> {
        let mut out = BTreeMap::new();
        for log in logs {
            let (dealer, log) = self.identified(log)?;
            out.insert(dealer, log);
        }
        Ok(out)
    }

    fn finish(&self, output: &Output<PublicKey>) -> Result<RoundOutput, DkgError> {
        if let Some(previous) = &self.previous
            && previous.public().public() != output.public().public()
        {
            return Err(DkgError::GroupKeyChanged(self.round));
        }
        Ok(RoundOutput::new(self.round, output))
    }

    /// The public output from an agreed set of signed dealer logs (each must
    /// [`identify`](Self::identify)). `seed` (from chain data) drives batch verification only.
    pub fn observe(&self, logs: &[Vec<u8>], seed: [u8; 32]) -> Result<RoundOutput, DkgError> {
        let logs = self.logs(logs)?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let output = golden::observe(&mut rng, setup(), &self.info, logs, &Sequential)
            .map_err(|e| self.map_finish_error(e))?;
        self.finish(&output)
    }

    /// [`Self::observe`] through a small process-wide memo keyed by the round's transcript
    /// summary, the seed and the logs. `observe` is a pure function of these, so the memo never
    /// changes a result; it lets a node compute an output off the consensus path (after
    /// committing the block that completed a round's logs) so that executing the block that
    /// puts the output in force costs a lookup instead of seconds of proof checking.
    pub fn observe_memo(&self, logs: &[Vec<u8>], seed: [u8; 32]) -> Result<RoundOutput, DkgError> {
        type Memo = Mutex<BTreeMap<[u8; 32], Result<RoundOutput, DkgError>>>;
        static MEMO: OnceLock<Memo> = OnceLock::new();
        const MEMO_ENTRIES: usize = 8;
        let mut key = self.info.summary().encode().to_vec();
        key.extend_from_slice(&seed);
        for log in logs {
            key.extend_from_slice(&(log.len() as u64).to_le_bytes());
            key.extend_from_slice(log);
        }
        let key = Suite::Ed25519.hash(&key).0;
        let memo = MEMO.get_or_init(|| Mutex::new(BTreeMap::new()));
        if let Some(hit) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return hit.clone();
        }
        let result = self.observe(logs, seed);
        let mut memo = memo.lock().unwrap_or_else(|e| e.into_inner());
        while memo.len() >= MEMO_ENTRIES {
            memo.pop_first();
        }
        memo.insert(key, result.clone());
        result
    }

    /// As [`Self::observe`], and recover `me`'s share (codec bytes, as a trusted dealer's).
    pub fn play(
        &self,
        logs: &[Vec<u8>],
        me: &DkgKey,
        seed: [u8; 32],
    ) -> Result<(RoundOutput, Vec<u8>), DkgError> {
        let logs = self.logs(logs)?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let (output, share) = golden::play(&mut rng, setup(), &self.info, logs, &me.0, &Sequential)
            .map_err(|e| self.map_finish_error(e))?;
        Ok((self.finish(&output)?, share.encode().to_vec()))
    }

    fn map_finish_error(&self, e: golden::Error) -> DkgError {
        match e {
            golden::Error::DkgFailed => DkgError::Failed(self.round),
            golden::Error::UnknownPlayer => DkgError::NotPlayer(self.round),
            e => DkgError::Config(format!("{e:?}")),
        }
    }
}

/// **Trusted setup, devnet only.** Run round 0 (a fresh DKG) among `keys` in one process:
/// every key deals, the output is observed and every key plays. Whoever runs this holds every
/// DKG key, hence every share; a production chain runs round 0 with each validator dealing
/// from its own machine. Returns the output and each key's share, in `keys` order.
pub fn round_zero_trusted_setup_devnet_only(
    chain_id: &str,
    keys: &[DkgKey],
    seed: [u8; 32],
) -> Result<(RoundOutput, Vec<Vec<u8>>), DkgError> {
    let publics: Vec<Vec<u8>> = keys.iter().map(DkgKey::public).collect();
    let round = Round::new(chain_id, 0, None, &publics, &publics)?;
    let mut logs = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let mut s = seed;
        s[0] ^= 0x5a;
        s[24..28].copy_from_slice(&(i as u32).to_le_bytes());
        logs.push(round.deal(k, None, s)?);
    }
    let output = round.observe(&logs, seed)?;
    let mut shares = Vec::with_capacity(keys.len());
    for k in keys {
        let (o, share) = round.play(&logs, k, seed)?;
        if o != output {
            return Err(DkgError::Failed(0));
        }
        shares.push(share);
    }
    Ok((output, shares))
}
