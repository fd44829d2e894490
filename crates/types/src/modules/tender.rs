//! Sealed-bid tendering (招投标): tenders, sealed bids, threshold opening, scores, publicity,
//! objections and award (applications spec §4).
//!
//! # Life of a tender
//! `publish` (a `tender_agency`) creates a [`Tender`] in [`TenderStatus::Bidding`]. Until its
//! `deadline_ms` (consensus time of the executing block, strictly before) companies
//! `submit_bid` (a later bid of the same bidder replaces the earlier) and `withdraw_bid`. A bid
//! holds only a [`SealedBid`]: the payload encrypted under a fresh key, that key timelock-
//! encrypted to the tender's opening target ([`open_target`]) under the validators' threshold
//! group key, and a commitment. After the deadline the agency `close`s it ([`TenderStatus::Closed`],
//! or [`TenderStatus::Failed`] with fewer than `min_bidders` bids). From `opening_ms` validators
//! post partial signatures on the target (`open_share`); the share that reaches the threshold
//! recovers the group signature and every bid opens in that same transaction
//! ([`Opening`], status [`TenderStatus::Evaluating`], or `Failed` with fewer than
//! `min_bidders` valid bids). Experts `score`; the agency `publicize`s a candidate for at least
//! [`MIN_PUBLICITY_MS`]; any company may `object` ([`TenderStatus::Suspended`], the publicity
//! clock stops) until the supervisory department `answer`s every objection; the agency `award`s
//! once publicity has run its full length with no objection open.

use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "tender";
/// Method: publish a tender.
pub const PUBLISH: &str = "publish";
/// Method: submit (or replace) a sealed bid.
pub const SUBMIT_BID: &str = "submit_bid";
/// Method: withdraw one's bid.
pub const WITHDRAW_BID: &str = "withdraw_bid";
/// Method: close bidding after the deadline.
pub const CLOSE: &str = "close";
/// Method: a validator's partial signature on the opening target.
pub const OPEN_SHARE: &str = "open_share";
/// Method: an expert's score of one bid.
pub const SCORE: &str = "score";
/// Method: publicize the winning candidate.
pub const PUBLICIZE: &str = "publicize";
/// Method: object during publicity.
pub const OBJECT: &str = "object";
/// Method: answer an objection.
pub const ANSWER: &str = "answer";
/// Method: award the tender.
pub const AWARD: &str = "award";
/// All methods.
pub const METHODS: &[&str] = &[
    PUBLISH,
    SUBMIT_BID,
    WITHDRAW_BID,
    CLOSE,
    OPEN_SHARE,
    SCORE,
    PUBLICIZE,
    OBJECT,
    ANSWER,
    AWARD,
];

/// Role: a tendering agency, which publishes and runs tenders.
pub const TENDER_AGENCY: &str = "tender_agency";
/// Role: the project owner (建设单位) a tender and its contract are for.
pub const OWNER: &str = "owner";
/// Role: an evaluation expert.
pub const EXPERT: &str = "expert";
/// Role: a supervisory department officer, who answers objections.
pub const SUPERVISOR: &str = "supervisor";
/// Role of bidders and objectors (the built-in `company`).
pub const COMPANY: &str = "company";

/// The legal minimum of bidders.
pub const MIN_BIDDERS: u32 = 3;
/// Most bidders one tender holds.
pub const MAX_BIDDERS: usize = 256;
/// Most experts on a committee.
pub const MAX_EXPERTS: usize = 32;
/// Shortest publicity period: 3 days of consensus time.
pub const MIN_PUBLICITY_MS: u64 = 3 * 24 * 60 * 60 * 1000;
/// Largest bid ciphertext, in bytes.
pub const MAX_CIPHERTEXT: usize = 16 * 1024;
/// Largest timelock-encrypted key, in bytes.
pub const MAX_SEALED_KEY: usize = 512;
/// Longest title, reason or score item name, in bytes.
pub const MAX_TEXT: usize = 256;
/// Most score items.
pub const MAX_ITEMS: usize = 32;
/// Namespace of the opening target every bid key is timelock-encrypted to.
pub const OPEN_NAMESPACE: &[u8] = b"XA-TENDER-OPEN-V1";
/// Domain of a bid commitment.
pub const COMMIT_DOMAIN: &[u8] = b"XA-TENDER-BID-V1";
/// State key of the validators' threshold key (trusted dealer, devnet only).
pub const THRESHOLD_KEY: &[u8] = b"tender/threshold";
/// State key of the DKG round whose output is the threshold key in force (`u64`; absent: the
/// genesis key). Partials posted under an earlier key do not count after a reshare.
pub const THRESHOLD_ROUND_KEY: &[u8] = b"tender/threshold_round";
/// State key of the ids of closed tenders waiting for their opening (sorted), which
/// validators' nodes watch to post their partial signatures.
pub const AWAITING_OPEN_KEY: &[u8] = b"tender/awaiting_open";
/// State key of a devnet's shorter minimum publicity (genesis
/// `tender_min_publicity_ms_devnet_only`); absent on real chains: 3 days.
pub const MIN_PUBLICITY_KEY: &[u8] = b"tender/min_publicity_ms";
/// State key of the next tender id.
pub const NEXT_ID_KEY: &[u8] = b"tender/next_id";

/// The target a tender's bid keys are timelock-encrypted to: the group signature over
/// (`OPEN_NAMESPACE`, this) decrypts them. Names chain and tender, so a signature opening one
/// tender opens no other.
pub fn open_target(chain_id: &str, tender: u64) -> Vec<u8> {
    let mut t = chain_id.as_bytes().to_vec();
    t.push(0);
    t.extend_from_slice(&tender.to_be_bytes());
    t
}

/// The state of a tender.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenderStatus {
    /// Published, accepting bids until the deadline.
    Bidding,
    /// Bidding closed; waiting for the opening.
    Closed,
    /// Bids opened; experts are scoring.
    Evaluating,
    /// The candidate is publicized.
    Publicity,
    /// An objection is open; the process is paused.
    Suspended,
    /// Awarded.
    Awarded,
    /// A contract was signed from the award (`payment.contract_from_award`).
    Contracted,
    /// Failed: fewer than `min_bidders` (valid) bids.
    Failed,
}

impl TenderStatus {
    /// The stable string form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Bidding => "BIDDING",
            Self::Closed => "CLOSED",
            Self::Evaluating => "EVALUATING",
            Self::Publicity => "PUBLICITY",
            Self::Suspended => "SUSPENDED",
            Self::Awarded => "AWARDED",
            Self::Contracted => "CONTRACTED",
            Self::Failed => "FAILED",
        }
    }
}

/// Arguments of `tender.publish`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PublishArgs {
    /// Title.
    pub title: String,
    /// Digest of the tender documents (kept off chain).
    pub documents_digest: Hash,
    /// The tenderer (project owner) account.
    pub owner: Address,
    /// Bidding deadline, consensus ms: a bid must be in a block whose time is before it.
    pub deadline_ms: u64,
    /// Opening time, consensus ms, not before the deadline.
    pub opening_ms: u64,
    /// Minimum valid bids (at least [`MIN_BIDDERS`]).
    pub min_bidders: u32,
    /// Evaluation committee: accounts holding the `expert` role.
    pub experts: Vec<Address>,
    /// The supervisory department's organization (its `supervisor`s answer objections).
    pub supervisor_org: String,
}

/// Arguments of `tender.submit_bid`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SubmitBidArgs {
    /// The tender.
    pub tender: u64,
    /// The sealed bid.
    pub bid: SealedBid,
}

/// A sealed bid: nothing in it reveals the content before the opening.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SealedBid {
    /// The borsh [`BidContent`], ChaCha20-Poly1305-encrypted under a fresh 32-byte key (zero
    /// nonce: the key is used once), with associated data `tender id || bidder`.
    #[serde(with = "crate::hexser")]
    pub ciphertext: Vec<u8>,
    /// That key, timelock-encrypted (`bls12381::tle`, MinPk) to [`open_target`] under the
    /// validators' threshold group key; commonware codec bytes.
    #[serde(with = "crate::hexser")]
    pub sealed_key: Vec<u8>,
    /// [`bid_commitment`] of the content.
    pub commitment: Hash,
}

/// What a bid says, revealed at the opening. The salt makes the commitment unguessable.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BidContent {
    /// Price in fen (0.01 yuan).
    pub price: u64,
    /// Digest of the technical proposal (off chain).
    pub proposal_digest: Hash,
    /// Random salt.
    pub salt: [u8; 32],
}

/// The parts of a bid commitment: hash them with the chain's suite under [`COMMIT_DOMAIN`].
pub fn commitment_parts(
    chain_id: &str,
    tender: u64,
    bidder: &Address,
    content: &BidContent,
) -> Vec<u8> {
    let mut v = chain_id.as_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(&tender.to_be_bytes());
    v.extend_from_slice(&bidder.0);
    v.extend_from_slice(&crate::encode(content));
    v
}

/// The commitment of `content`, bid by `bidder` on `tender`.
pub fn bid_commitment(
    suite: crate::Suite,
    chain_id: &str,
    tender: u64,
    bidder: &Address,
    content: &BidContent,
) -> Hash {
    suite.hash_parts(&[
        COMMIT_DOMAIN,
        &commitment_parts(chain_id, tender, bidder, content),
    ])
}

/// The associated data a bid ciphertext is bound to.
pub fn bid_aad(tender: u64, bidder: &Address) -> Vec<u8> {
    let mut v = tender.to_be_bytes().to_vec();
    v.extend_from_slice(&bidder.0);
    v
}

/// Arguments naming a tender (`withdraw_bid`, `close`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TenderIdArgs {
    /// The tender.
    pub tender: u64,
}

/// Arguments of `tender.open_share`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct OpenShareArgs {
    /// The tender.
    pub tender: u64,
    /// A partial signature (commonware codec bytes of `PartialSignature<MinPk>`: share index
    /// and G2 point) over (`OPEN_NAMESPACE`, [`open_target`]).
    #[serde(with = "crate::hexser")]
    pub partial: Vec<u8>,
}

/// Arguments of `tender.score`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ScoreArgs {
    /// The tender.
    pub tender: u64,
    /// The scored bidder.
    pub bidder: Address,
    /// Score items and points.
    pub items: Vec<(String, u32)>,
}

/// Arguments of `tender.publicize`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PublicizeArgs {
    /// The tender.
    pub tender: u64,
    /// The winning candidate (a valid bidder every expert scored).
    pub candidate: Address,
    /// Length of the publicity period, at least [`MIN_PUBLICITY_MS`] (or a devnet's override).
    pub duration_ms: u64,
}

/// Arguments of `tender.object`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ObjectArgs {
    /// The tender.
    pub tender: u64,
    /// The grounds, in short.
    pub reason: String,
    /// Digest of the full objection document.
    pub document_digest: Hash,
}

/// Arguments of `tender.answer`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AnswerArgs {
    /// The tender.
    pub tender: u64,
    /// The objection's number (from 0).
    pub objection: u32,
    /// Digest of the answer document.
    pub answer_digest: Hash,
}

/// A tender, stored under [`tender_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Tender {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Digest of the tender documents.
    pub documents_digest: Hash,
    /// The tenderer.
    pub owner: Address,
    /// The publishing agency account.
    pub agency: Address,
    /// Its organization (`own` for the agency's calls).
    pub agency_org: String,
    /// Bidding deadline, consensus ms.
    pub deadline_ms: u64,
    /// Opening time, consensus ms.
    pub opening_ms: u64,
    /// Minimum valid bids.
    pub min_bidders: u32,
    /// Evaluation committee.
    pub experts: Vec<Address>,
    /// Supervisory department organization.
    pub supervisor_org: String,
    /// State.
    pub status: TenderStatus,
    /// Current bidders (sorted), each with one bid under [`bid_key`].
    pub bidders: Vec<Address>,
    /// Publication time.
    pub published_ms: u64,
    /// The publicized candidate.
    pub candidate: Option<Address>,
    /// Publicity period.
    pub publicity: Option<Publicity>,
    /// Objections filed so far.
    pub objections: u32,
    /// Objections not answered yet.
    pub open_objections: u32,
    /// When the current suspension began.
    pub suspended_since_ms: Option<u64>,
    /// The award, once made.
    pub award: Option<Award>,
}

/// The publicity period.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Publicity {
    /// Start, consensus ms.
    pub start_ms: u64,
    /// End, consensus ms; pushed back by the time the tender spent suspended.
    pub end_ms: u64,
}

/// The award.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Award {
    /// The winning bidder.
    pub winner: Address,
    /// Its price, in fen.
    pub price: u64,
    /// Consensus time of the award.
    pub awarded_ms: u64,
}

/// A bid record, stored under [`bid_key`]: before the opening it holds only the sealed bid.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Bid {
    /// The tender.
    pub tender: u64,
    /// The bidder.
    pub bidder: Address,
    /// The sealed bid.
    pub sealed: SealedBid,
    /// Consensus time of the block that accepted it.
    pub submitted_ms: u64,
    /// Receipt: the accepting transaction.
    pub receipt: Hash,
    /// How many times this bidder replaced its bid.
    pub replaced: u32,
}

/// One bid as opened.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct OpenedBid {
    /// The bidder.
    pub bidder: Address,
    /// The revealed content, if the bid decrypted and matched its commitment.
    pub content: Option<BidContent>,
    /// Why the bid is invalid (counts as withdrawn), empty if valid.
    pub invalid_reason: String,
}

/// The opening, stored under [`opening_key`]: all bids revealed together.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Opening {
    /// The tender.
    pub tender: u64,
    /// The recovered group signature over the target (codec bytes): anyone can re-check every
    /// decryption with it.
    #[serde(with = "crate::hexser")]
    pub signature: Vec<u8>,
    /// Share indices whose partial signatures were used.
    pub shares: Vec<u32>,
    /// Consensus time of the opening.
    pub opened_ms: u64,
    /// Every bid, in bidder order.
    pub bids: Vec<OpenedBid>,
    /// How many are valid.
    pub valid: u32,
}

/// An expert's score, stored under [`score_key`]; the transaction's signature is the expert's.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Score {
    /// The expert.
    pub expert: Address,
    /// The scored bidder.
    pub bidder: Address,
    /// Items and points.
    pub items: Vec<(String, u32)>,
    /// Sum of the points.
    pub total: u64,
    /// The signed transaction carrying it.
    pub tx_hash: Hash,
}

/// An objection, stored under [`objection_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Objection {
    /// Who objected.
    pub objector: Address,
    /// The grounds.
    pub reason: String,
    /// Digest of the objection document.
    pub document_digest: Hash,
    /// Consensus time it was filed.
    pub filed_ms: u64,
    /// Consensus time it was answered.
    pub answered_ms: Option<u64>,
    /// Who answered.
    pub answered_by: Option<Address>,
    /// Digest of the answer.
    pub answer_digest: Option<Hash>,
}

/// The validators' threshold key for sealing bids. At genesis it comes from a **trusted dealer
/// (devnet only)** or a golden round 0 run by one process (also a devnet trusted setup); on a
/// chain with a DKG output the `dkg` module replaces it by each reshare's public sharing, under
/// the same group key ([`crate::modules::dkg`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ThresholdKey {
    /// The public sharing (commonware codec bytes of `Sharing<MinPk>`): group key and every
    /// share's public key.
    #[serde(with = "crate::hexser")]
    pub sharing: Vec<u8>,
    /// Number of shares.
    pub players: u32,
}

fn id_prefix(id: u64) -> String {
    format!("tender/t/{id:020}")
}

/// State key of tender `id`.
pub fn tender_key(id: u64) -> Vec<u8> {
    id_prefix(id).into_bytes()
}

/// State key of `bidder`'s bid on tender `id`.
pub fn bid_key(id: u64, bidder: &Address) -> Vec<u8> {
    format!("{}/bid/{bidder}", id_prefix(id)).into_bytes()
}

/// State key of the DKG round (`u64`) whose key the partials posted for tender `id` were
/// verified under.
pub fn shares_round_key(id: u64) -> Vec<u8> {
    format!("{}/shares_round", id_prefix(id)).into_bytes()
}

/// State key of the partial signatures posted for tender `id`.
pub fn shares_key(id: u64) -> Vec<u8> {
    format!("{}/shares", id_prefix(id)).into_bytes()
}

/// State key of the opening of tender `id`.
pub fn opening_key(id: u64) -> Vec<u8> {
    format!("{}/opening", id_prefix(id)).into_bytes()
}

/// State key of `expert`'s score of `bidder` on tender `id`.
pub fn score_key(id: u64, expert: &Address, bidder: &Address) -> Vec<u8> {
    format!("{}/score/{expert}/{bidder}", id_prefix(id)).into_bytes()
}

/// State key of objection `n` of tender `id`.
pub fn objection_key(id: u64, n: u32) -> Vec<u8> {
    format!("{}/objection/{n:05}", id_prefix(id)).into_bytes()
}
