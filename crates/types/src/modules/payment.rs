//! Construction contracts, milestones and penetrating payment (资金穿透支付), applications
//! spec §4.6 and §5.
//!
//! # Money model
//! Contracts form a tree: the root comes from an awarded tender (owner → general contractor),
//! each child is let by its parent's payee (general contractor → subcontractor → supplier).
//! Every contract ring-fences a wage share: of each payment *into* a contract, the fraction
//! `wage_share / amount` (rounded up) is credited to the contract's wage funds, the rest to its
//! general funds. General funds pay only child contracts; wage funds pay only payroll lines,
//! straight to the workers listed. No call moves wage funds anywhere else, so a contractor has
//! query-only rights over its wage account.
//!
//! # Payment requests
//! `request` (the contract's payee) → `review` (a `supervisor` of the contract's supervisory
//! department) → `approve` (the contract's payer; checks and commits the funds) → the bank posts
//! one transfer per line (`post_transfer`, role `bank`): all paid → PAID; any failed →
//! PARTIALLY_PAID until a retry succeeds. A bank reference is recorded once: a transfer posted
//! as paid is never paid again under any reference, and a reference never pays twice. A PAID
//! request becomes SETTLED when the payee side confirms receipt (`settle`, the contract's
//! payee: for a payroll, the contractor that filed it, once every worker's line is paid).
//!
//! # State layout
//! - `payment/contract/{id:020}`: [`Contract`].
//! - `payment/request/{id:020}`: [`PaymentRequest`], a summary (line count, lines paid, lines
//!   failed and unpaid, amount paid, status); it never holds the lines.
//! - `payment/request/{id:020}/line/{n:010}`: [`Transfer`], line `n` of request `id`, written
//!   when the request is made and by each bank posting on that line. A posting therefore writes
//!   one line, the bank reference, the contract (and its parent for a payment into a
//!   subcontract) and the small summary, whatever the payroll's size.
//! - `payment/bank_ref/{ref}`: `(request, line, success)` of the reference's posting.
//!
//! Zero-padded decimal ids keep byte order equal to numeric order, so a request's lines sort
//! in line order right after the request. Both record kinds lie under the tracked prefix
//! `payment/request/` (`history::TRACKED`): every line keeps its own provable history.
//! Invariants per contract: `committed_in ≤ amount` (total paid never exceeds the price);
//! general outflow ≤ general inflow; wage outflow ≤ wage inflow.

use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "payment";
/// Method: create the root contract from an awarded tender (its owner).
pub const CONTRACT_FROM_AWARD: &str = "contract_from_award";
/// Method: let a child contract (the parent's payee).
pub const SUBCONTRACT: &str = "subcontract";
/// Method: accept a milestone, co-signed by a supervisor and the contract's payer.
pub const ACCEPT_MILESTONE: &str = "accept_milestone";
/// Method: request a payment (the contract's payee).
pub const REQUEST: &str = "request";
/// Method: review a request (a supervisor of the contract's department).
pub const REVIEW: &str = "review";
/// Method: approve a reviewed request (the contract's payer).
pub const APPROVE: &str = "approve";
/// Method: reject a request (the payer or a supervisor).
pub const REJECT: &str = "reject";
/// Method: a bank posts the outcome of one transfer.
pub const POST_TRANSFER: &str = "post_transfer";
/// Method: the payee side confirms receipt of a PAID request (the contract's payee).
pub const SETTLE: &str = "settle";
/// All methods.
pub const METHODS: &[&str] = &[
    CONTRACT_FROM_AWARD,
    SUBCONTRACT,
    ACCEPT_MILESTONE,
    REQUEST,
    REVIEW,
    APPROVE,
    REJECT,
    POST_TRANSFER,
    SETTLE,
];

/// Most milestones per contract.
pub const MAX_MILESTONES: usize = 64;
/// Most payroll lines per request.
pub const MAX_LINES: usize = 2_000;
/// Longest name, period, account or bank reference, in bytes.
pub const MAX_TEXT: usize = 128;
/// Next contract id.
pub const NEXT_CONTRACT_KEY: &[u8] = b"payment/next_contract";
/// Next request id.
pub const NEXT_REQUEST_KEY: &[u8] = b"payment/next_request";

/// A milestone as proposed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MilestoneSpec {
    /// Name.
    pub name: String,
    /// Amount payable on acceptance, in fen.
    pub amount: u64,
}

/// Arguments of `payment.contract_from_award`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ContractFromAwardArgs {
    /// The awarded tender.
    pub tender: u64,
    /// Ring-fenced wage share of the price, in fen.
    pub wage_share: u64,
    /// Milestones; their amounts sum to the award price.
    pub milestones: Vec<MilestoneSpec>,
    /// The supervisory department (its `supervisor`s review and accept).
    pub supervisor_org: String,
}

/// Arguments of `payment.subcontract`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SubcontractArgs {
    /// The parent contract (the sender is its payee).
    pub parent: u64,
    /// The subcontractor or supplier.
    pub payee: Address,
    /// Price, in fen, out of the parent's general (non-wage) share.
    pub amount: u64,
    /// Ring-fenced wage share, in fen.
    pub wage_share: u64,
    /// Milestones (may be empty: then payments need no acceptance).
    pub milestones: Vec<MilestoneSpec>,
}

/// Arguments of `payment.accept_milestone`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AcceptMilestoneArgs {
    /// The contract.
    pub contract: u64,
    /// The milestone's index.
    pub milestone: u32,
    /// Digest of the acceptance report.
    pub report_digest: Hash,
}

/// What a payment request is for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub enum RequestKind {
    /// Progress payment of an accepted milestone, payer → payee.
    Progress {
        /// The milestone's index.
        milestone: u32,
    },
    /// Material payment (contracts without milestones), payer → payee.
    Material,
    /// Payroll from the contract's wage funds, straight to the workers.
    Payroll {
        /// The period, e.g. `2026-10`.
        period: String,
    },
}

/// One payroll line.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PayrollLine {
    /// The worker (registered account, or the digest of their identity).
    pub worker: Address,
    /// The worker's bank account number.
    pub account: String,
    /// Wage, in fen.
    pub amount: u64,
}

/// Arguments of `payment.request`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RequestArgs {
    /// The contract.
    pub contract: u64,
    /// What for.
    pub kind: RequestKind,
    /// Amount (for payroll: the sum of the lines).
    pub amount: u64,
    /// Digest of the supporting evidence.
    pub evidence: Hash,
    /// Payroll lines (empty for other kinds).
    pub lines: Vec<PayrollLine>,
}

/// Arguments naming a request (`review`, `approve`, `reject`, `settle`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RequestIdArgs {
    /// The request.
    pub request: u64,
}

/// Arguments of `payment.post_transfer`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PostTransferArgs {
    /// The request.
    pub request: u64,
    /// The line (0 for progress and material payments).
    pub line: u32,
    /// The bank's transfer reference.
    pub bank_ref: String,
    /// Whether the transfer succeeded.
    pub success: bool,
}

/// Contract status.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    /// Signed, no milestone accepted yet.
    Contracted,
    /// Work under way.
    InProgress,
    /// Paid in full.
    Completed,
}

/// A milestone.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Milestone {
    /// Name.
    pub name: String,
    /// Amount.
    pub amount: u64,
    /// When accepted (consensus ms).
    pub accepted_ms: Option<u64>,
    /// Who signed the acceptance (supervisor and payer).
    pub accepted_by: Vec<Address>,
    /// Digest of the acceptance report.
    pub report_digest: Option<Hash>,
    /// Approved payments against it.
    pub committed: u64,
}

/// A contract, stored under [`contract_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Contract {
    /// Id.
    pub id: u64,
    /// Parent contract (`None` for the root).
    pub parent: Option<u64>,
    /// The tender it comes from (root only).
    pub tender: Option<u64>,
    /// Who pays.
    pub payer: Address,
    /// Who is paid.
    pub payee: Address,
    /// Price, in fen.
    pub amount: u64,
    /// Ring-fenced wage share, in fen.
    pub wage_share: u64,
    /// Supervisory department.
    pub supervisor_org: String,
    /// Milestones.
    pub milestones: Vec<Milestone>,
    /// Child contracts.
    pub children: Vec<u64>,
    /// Sum of the children's prices.
    pub children_amount: u64,
    /// Approved payments into this contract (never above `amount`).
    pub committed_in: u64,
    /// Paid into it (bank-confirmed).
    pub received: u64,
    /// Of which credited to its wage funds.
    pub wage_received: u64,
    /// Approved payments out of its general funds (to children).
    pub committed_general_out: u64,
    /// Of which bank-confirmed.
    pub paid_general_out: u64,
    /// Approved payroll out of its wage funds.
    pub committed_wage_out: u64,
    /// Of which bank-confirmed.
    pub paid_wage_out: u64,
    /// Status.
    pub status: ContractStatus,
    /// Creation time.
    pub created_ms: u64,
    /// Payment requests made under it, in order (for the audit trail).
    pub requests: Vec<u64>,
}

/// Request status.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    /// Submitted by the payee.
    Submitted,
    /// Reviewed by a supervisor.
    Reviewed,
    /// Approved by the payer; funds committed.
    Approved,
    /// Every line paid.
    Paid,
    /// Some line failed at the bank.
    PartiallyPaid,
    /// Rejected.
    Rejected,
    /// Paid, and receipt confirmed by the payee side.
    Settled,
}

impl RequestStatus {
    /// The stable string form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Reviewed => "REVIEWED",
            Self::Approved => "APPROVED",
            Self::Paid => "PAID",
            Self::PartiallyPaid => "PARTIALLY_PAID",
            Self::Rejected => "REJECTED",
            Self::Settled => "SETTLED",
        }
    }
}

/// A transfer line of a request: one credit to one account, stored under [`line_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transfer {
    /// The request.
    pub request: u64,
    /// The line's index in the request (0 for progress and material payments).
    pub line: u32,
    /// Paying account (the contract's payer, or for payroll the contract's payee).
    pub from: Address,
    /// Credited party (the payee, or the worker).
    pub to: Address,
    /// Bank account number credited (payroll), empty otherwise.
    pub account: String,
    /// Amount.
    pub amount: u64,
    /// The bank reference of the successful transfer.
    pub bank_ref: Option<String>,
    /// References of failed attempts.
    pub failed_refs: Vec<String>,
    /// When paid.
    pub paid_ms: Option<u64>,
}

impl Transfer {
    /// Paid (a successful bank posting recorded).
    pub fn is_paid(&self) -> bool {
        self.bank_ref.is_some()
    }

    /// Failed at the bank and not paid since.
    pub fn is_failed_unpaid(&self) -> bool {
        self.bank_ref.is_none() && !self.failed_refs.is_empty()
    }
}

/// A payment request, stored under [`request_key`]: a summary. Its lines are [`Transfer`]
/// records under [`line_key`]`(id, 0..lines)`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// Id.
    pub id: u64,
    /// The contract.
    pub contract: u64,
    /// What for.
    pub kind: RequestKind,
    /// Amount.
    pub amount: u64,
    /// Evidence digest.
    pub evidence: Hash,
    /// Status.
    pub status: RequestStatus,
    /// Who requested.
    pub requester: Address,
    /// Who reviewed.
    pub reviewed_by: Option<Address>,
    /// Who approved.
    pub approved_by: Option<Address>,
    /// Number of transfer lines (1 for progress and material payments).
    pub lines: u32,
    /// Lines paid.
    pub lines_paid: u32,
    /// Lines whose last bank posting failed and that are not paid yet.
    pub lines_failed: u32,
    /// Sum of the lines paid, in fen.
    pub amount_paid: u64,
    /// Creation time.
    pub created_ms: u64,
    /// Who confirmed receipt (SETTLED).
    pub settled_by: Option<Address>,
    /// When settled.
    pub settled_ms: Option<u64>,
}

impl PaymentRequest {
    /// The status its line counts give an approved request: every line paid → PAID, some line
    /// failed and unpaid → PARTIALLY_PAID, otherwise still APPROVED.
    pub fn payment_status(&self) -> RequestStatus {
        if self.lines_paid == self.lines {
            RequestStatus::Paid
        } else if self.lines_failed > 0 {
            RequestStatus::PartiallyPaid
        } else {
            RequestStatus::Approved
        }
    }
}

/// State key of contract `id`.
pub fn contract_key(id: u64) -> Vec<u8> {
    format!("payment/contract/{id:020}").into_bytes()
}

/// Prefix of request records and their lines.
pub const REQUEST_PREFIX: &str = "payment/request/";

/// State key of request `id`.
pub fn request_key(id: u64) -> Vec<u8> {
    format!("{REQUEST_PREFIX}{id:020}").into_bytes()
}

/// State key of line `n` of request `id`.
pub fn line_key(id: u64, n: u32) -> Vec<u8> {
    format!("{REQUEST_PREFIX}{id:020}/line/{n:010}").into_bytes()
}

/// What a key under [`REQUEST_PREFIX`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestRecordKey {
    /// A request's summary, [`request_key`].
    Request(u64),
    /// A transfer line, [`line_key`].
    Line(u64, u32),
}

/// Parse a request or line key in exactly the form [`request_key`] and [`line_key`] write;
/// `None` for anything else.
pub fn parse_request_record_key(key: &[u8]) -> Option<RequestRecordKey> {
    fn digits(s: &str, n: usize) -> bool {
        s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
    }
    let rest = std::str::from_utf8(key)
        .ok()?
        .strip_prefix(REQUEST_PREFIX)?;
    let (id, line) = match rest.split_once("/line/") {
        None => (rest, None),
        Some((id, n)) => (id, Some(n)),
    };
    if !digits(id, 20) {
        return None;
    }
    let id: u64 = id.parse().ok()?;
    match line {
        None => Some(RequestRecordKey::Request(id)),
        Some(n) if digits(n, 10) => Some(RequestRecordKey::Line(id, n.parse().ok()?)),
        Some(_) => None,
    }
}

/// State key recording a bank reference (value: request id and line).
pub fn bank_ref_key(bank_ref: &str) -> Vec<u8> {
    let mut k = b"payment/bank_ref/".to_vec();
    k.extend_from_slice(bank_ref.as_bytes());
    k
}

/// The wage part of a payment of `paid` into a contract of `amount` with `wage_share`:
/// rounded up, so the ring-fence never leaks a fen.
pub fn wage_part(paid: u64, amount: u64, wage_share: u64) -> u64 {
    if amount == 0 {
        return 0;
    }
    let num = u128::from(paid) * u128::from(wage_share);
    let q = num.div_ceil(u128::from(amount));
    u64::try_from(q).unwrap_or(u64::MAX).min(paid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_line_keys_sort_numerically_and_parse_back() {
        assert_eq!(
            line_key(7, 12),
            b"payment/request/00000000000000000007/line/0000000012".to_vec()
        );
        let keys = [
            request_key(1),
            line_key(1, 0),
            line_key(1, 9),
            line_key(1, 10),
            line_key(1, u32::MAX),
            request_key(2),
            line_key(2, 0),
            request_key(10),
        ];
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "byte order = numeric order"
        );
        assert_eq!(
            parse_request_record_key(&request_key(u64::MAX)),
            Some(RequestRecordKey::Request(u64::MAX))
        );
        assert_eq!(
            parse_request_record_key(&line_key(3, u32::MAX)),
            Some(RequestRecordKey::Line(3, u32::MAX))
        );
        for other in [
            &b"payment/request/7"[..],
            b"payment/request/00000000000000000007/line/12",
            b"payment/request/00000000000000000007/lines/0000000012",
            b"payment/request/00000000000000000007/line/0000000012/x",
            b"payment/request/99999999999999999999",
            b"payment/request/00000000000000000007/line/9999999999",
            b"payment/contract/00000000000000000007",
            &[0xff, 0xfe],
        ] {
            assert_eq!(parse_request_record_key(other), None, "{other:?}");
        }
    }
}
