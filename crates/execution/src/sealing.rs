//! Bid sealing: the bid's content under a fresh symmetric key, the key timelock-encrypted
//! (`commonware_cryptography::bls12381::tle`, MinPk) to a tender's opening target under the
//! validators' threshold group key. No single party holds the group secret: it exists only as
//! shares, and a threshold of validators' partial signatures on the target is needed to open.
//!
//! The payload cipher follows the chain's suite: SM4-GCM (GB/T 32907 block cipher in GCM,
//! 96-bit nonce, 128-bit tag; the key is the first 16 bytes of the fresh 32-byte block) on
//! SM2/SM3 chains, ChaCha20-Poly1305 (the whole 32-byte block as key) on Ed25519 chains.
//! Both use a zero nonce: each key seals exactly one message. Sealing and opening dispatch on
//! the same suite, so a bid sealed under one suite does not open under the other.

use aes_gcm::AesGcm;
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit,
    aead::{Aead, Payload, array::Array, consts::U12},
};
use commonware_codec::{Decode, DecodeExt, Encode};
use commonware_cryptography::bls12381::{
    dkg,
    primitives::{
        group::Share,
        ops::threshold,
        sharing::{Mode, ModeVersion, Sharing},
        variant::{MinPk, PartialSignature, Variant},
    },
    tle,
};
use commonware_utils::{N3f1, TryCollect, ordered::Set};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sm4::Sm4;
use std::num::NonZeroU32;
use xa_types::{
    Address, Suite,
    modules::tender::{
        BidContent, OPEN_NAMESPACE, SealedBid, ThresholdKey, bid_aad, bid_commitment, open_target,
    },
};

/// Most shares a threshold key may have.
pub const MAX_PLAYERS: u32 = 1024;

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The threshold key's sharing does not decode.
    #[error("threshold key: {0}")]
    BadKey(String),
    /// A partial signature does not decode.
    #[error("partial signature: does not decode")]
    BadPartial,
    /// A partial signature does not verify against its share's public key.
    #[error("partial signature: does not verify for share {0}")]
    InvalidPartial(u32),
    /// Too few partial signatures.
    #[error("need {need} partial signatures, have {have}")]
    NotEnough {
        /// Needed.
        need: u32,
        /// Present.
        have: u32,
    },
    /// The sealed key or ciphertext does not open.
    #[error("bid does not decrypt")]
    Undecryptable,
    /// The revealed content does not match the commitment.
    #[error("revealed bid does not match its commitment")]
    CommitmentMismatch,
    /// Encryption failed.
    #[error("encryption failed")]
    Encrypt,
}

/// Decode the public sharing of a threshold key.
pub fn sharing(key: &ThresholdKey) -> Result<Sharing<MinPk>, SealError> {
    let max = NonZeroU32::new(MAX_PLAYERS).ok_or_else(|| SealError::BadKey("bound".into()))?;
    Sharing::<MinPk>::decode_cfg(key.sharing.clone(), &(max, ModeVersion::v0()))
        .map_err(|e| SealError::BadKey(e.to_string()))
}

/// **Trusted dealer, devnet only.** Deal a threshold key to `n` validators (threshold
/// `2f+1` of `3f+1`) from `seed`: returns the public key and each validator's secret share
/// (codec bytes). Whoever runs this knows every share; production uses a DKG.
pub fn deal_trusted_dealer_devnet_only(
    seed: [u8; 32],
    n: u32,
) -> Result<(ThresholdKey, Vec<Vec<u8>>), SealError> {
    let n = NonZeroU32::new(n).ok_or_else(|| SealError::BadKey("no players".into()))?;
    let rng = ChaCha20Rng::from_seed(seed);
    let players: Set<u32> = (0..n.get())
        .try_collect()
        .map_err(|_| SealError::BadKey("players".into()))?;
    let (output, shares) =
        dkg::feldman_desmedt::deal::<MinPk, u32, N3f1>(rng, Mode::NonZeroCounter, players)
            .map_err(|e| SealError::BadKey(e.to_string()))?;
    Ok((
        ThresholdKey {
            sharing: output.public().encode().to_vec(),
            players: n.get(),
        },
        shares
            .values()
            .iter()
            .map(|s| s.encode().to_vec())
            .collect(),
    ))
}

/// The index of a secret share (codec bytes).
pub fn share_index(share: &[u8]) -> Result<u32, SealError> {
    let share = Share::decode(share.to_vec()).map_err(|e| SealError::BadKey(e.to_string()))?;
    Ok(share.index.get())
}

/// A validator's partial signature on `tender`'s opening target, from its share (codec bytes).
pub fn partial_sign(share: &[u8], chain_id: &str, tender: u64) -> Result<Vec<u8>, SealError> {
    let share = Share::decode(share.to_vec()).map_err(|e| SealError::BadKey(e.to_string()))?;
    let p =
        threshold::sign_message::<MinPk>(&share, OPEN_NAMESPACE, &open_target(chain_id, tender));
    Ok(p.encode().to_vec())
}

/// Decode and verify a partial signature on `tender`'s target; returns its share index.
pub fn verify_partial(
    sharing: &Sharing<MinPk>,
    chain_id: &str,
    tender: u64,
    partial: &[u8],
) -> Result<(u32, PartialSignature<MinPk>), SealError> {
    let p =
        PartialSignature::<MinPk>::decode(partial.to_vec()).map_err(|_| SealError::BadPartial)?;
    let index = p.index.get();
    threshold::verify_message::<MinPk>(sharing, OPEN_NAMESPACE, &open_target(chain_id, tender), &p)
        .map_err(|_| SealError::InvalidPartial(index))?;
    Ok((index, p))
}

/// Recover the group signature from verified partials (at least the threshold).
pub fn recover(
    sharing: &Sharing<MinPk>,
    partials: &[PartialSignature<MinPk>],
) -> Result<<MinPk as Variant>::Signature, SealError> {
    let need = sharing.required();
    if (partials.len() as u32) < need {
        return Err(SealError::NotEnough {
            need,
            have: partials.len() as u32,
        });
    }
    threshold::recover::<MinPk, _>(sharing, partials, &commonware_parallel::Sequential).map_err(
        |_| SealError::NotEnough {
            need,
            have: partials.len() as u32,
        },
    )
}

/// Seal `content` as `bidder`'s bid on `tender`. `seed` supplies all randomness (the fresh
/// payload key and the timelock's sigma): take it from the OS.
#[allow(clippy::too_many_arguments)]
pub fn seal_bid(
    key: &ThresholdKey,
    suite: Suite,
    chain_id: &str,
    tender: u64,
    bidder: &Address,
    content: &BidContent,
    seed: [u8; 32],
) -> Result<SealedBid, SealError> {
    let sharing = sharing(key)?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut sym = [0u8; 32];
    rand_core::Rng::fill_bytes(&mut rng, &mut sym);
    let aad = bid_aad(tender, bidder);
    let plaintext = xa_types::encode(content);
    let ciphertext = payload_encrypt(suite, &sym, &aad, &plaintext)?;
    let sealed_key = tle::encrypt::<_, MinPk>(
        &mut rng,
        *sharing.public(),
        (OPEN_NAMESPACE, &open_target(chain_id, tender)),
        &tle::Block::new(sym),
    )
    .map_err(|_| SealError::Encrypt)?;
    Ok(SealedBid {
        ciphertext,
        sealed_key: sealed_key.encode().to_vec(),
        commitment: bid_commitment(suite, chain_id, tender, bidder, content),
    })
}

/// Open a sealed bid with the group signature on its tender's target, and check it against its
/// commitment. Deterministic: every node gets the same result.
pub fn open_bid(
    signature: &<MinPk as Variant>::Signature,
    suite: Suite,
    chain_id: &str,
    tender: u64,
    bidder: &Address,
    bid: &SealedBid,
) -> Result<BidContent, SealError> {
    let ct = tle::Ciphertext::<MinPk>::decode(bid.sealed_key.clone())
        .map_err(|_| SealError::Undecryptable)?;
    let sym = tle::decrypt::<MinPk>(signature, &ct).ok_or(SealError::Undecryptable)?;
    let aad = bid_aad(tender, bidder);
    let plaintext = payload_decrypt(suite, sym.as_ref(), &aad, &bid.ciphertext)?;
    let content: BidContent = xa_types::decode(&plaintext).map_err(|_| SealError::Undecryptable)?;
    if bid_commitment(suite, chain_id, tender, bidder, &content) != bid.commitment {
        return Err(SealError::CommitmentMismatch);
    }
    Ok(content)
}

/// SM4 in GCM mode with a 96-bit nonce (the payload cipher of SM2/SM3 chains).
type Sm4Gcm = AesGcm<Sm4, U12>;

/// Length of the SM4 key (the prefix of the fresh 32-byte block).
const SM4_KEY_LEN: usize = 16;

/// Encrypt a bid's payload with the suite's AEAD under `sym` (a fresh 32-byte block).
fn payload_encrypt(suite: Suite, sym: &[u8], aad: &[u8], msg: &[u8]) -> Result<Vec<u8>, SealError> {
    let nonce = Array::<u8, U12>::default();
    let payload = Payload { msg, aad };
    match suite {
        Suite::Ed25519 => ChaCha20Poly1305::new_from_slice(sym)
            .map_err(|_| SealError::Encrypt)?
            .encrypt(&nonce, payload),
        Suite::Sm2 => Sm4Gcm::new_from_slice(sym.get(..SM4_KEY_LEN).ok_or(SealError::Encrypt)?)
            .map_err(|_| SealError::Encrypt)?
            .encrypt(&nonce, payload),
    }
    .map_err(|_| SealError::Encrypt)
}

/// Decrypt a bid's payload with the suite's AEAD under `sym` (the unsealed 32-byte block).
fn payload_decrypt(suite: Suite, sym: &[u8], aad: &[u8], msg: &[u8]) -> Result<Vec<u8>, SealError> {
    let nonce = Array::<u8, U12>::default();
    let payload = Payload { msg, aad };
    match suite {
        Suite::Ed25519 => ChaCha20Poly1305::new_from_slice(sym)
            .map_err(|_| SealError::Undecryptable)?
            .decrypt(&nonce, payload),
        Suite::Sm2 => {
            Sm4Gcm::new_from_slice(sym.get(..SM4_KEY_LEN).ok_or(SealError::Undecryptable)?)
                .map_err(|_| SealError::Undecryptable)?
                .decrypt(&nonce, payload)
        }
    }
    .map_err(|_| SealError::Undecryptable)
}

/// Encode a group signature (for the opening record).
pub fn signature_bytes(sig: &<MinPk as Variant>::Signature) -> Vec<u8> {
    sig.encode().to_vec()
}
