//! Governance (治理): proposals that founding organizations approve, executed exactly once.
//!
//! # Life of a proposal
//! 1. `propose { action, expires_at_ms }` stores a [`Proposal`] under [`proposal_key`] with the
//!    next id from [`NEXT_ID_KEY`]; the proposer's signature is its first approval.
//! 2. `approve { id }` adds the sender's approval. Each approver must qualify under the action's
//!    policy by role and organization (else `PERMISSION_DENIED`, nothing recorded); approving
//!    twice is `ALREADY_APPROVED`.
//! 3. In the transaction whose approval meets the policy (possibly `propose` itself), the action
//!    executes and the proposal becomes [`ProposalStatus::Executed`]. If the action fails
//!    (e.g. the organization already exists) that approval fails with the action's error and
//!    nothing is recorded.
//! 4. Approving after `expires_at_ms` (consensus time) fails with `PROPOSAL_EXPIRED` and the
//!    proposal is recorded as [`ProposalStatus::Expired`]; acting on an executed, expired or
//!    cancelled proposal is `PROPOSAL_CLOSED`; `cancel { id }` is for the proposer only.
//!
//! # Which policy
//! An action of kind `k` ([`ProposalAction::kind`]) is governed by the policy at
//! `policy/governance/{k}`, by default `2 of org_admin @ founding, distinct orgs` (the threshold
//! lowered to the number of active founding organizations when there is only one). A
//! [`ProposalAction::Call`] is governed by the policy of the call it wraps, and executes with
//! the approvers as its authorizers.

use crate::{
    Address, Call, Hash, modules::identity::NewAccount, modules::validators::ValidatorInfo,
    policy::Policy,
};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "governance";
/// Method: create a proposal (and approve it).
pub const PROPOSE: &str = "propose";
/// Method: approve a proposal.
pub const APPROVE: &str = "approve";
/// Method: cancel one's own open proposal.
pub const CANCEL: &str = "cancel";
/// All methods.
pub const METHODS: &[&str] = &[PROPOSE, APPROVE, CANCEL];

/// Action kind of [`ProposalAction::AddOrg`].
pub const ADD_ORG: &str = "add_org";
/// Action kind of [`ProposalAction::RemoveOrg`].
pub const REMOVE_ORG: &str = "remove_org";
/// Action kind of [`ProposalAction::AddValidator`].
pub const ADD_VALIDATOR: &str = "add_validator";
/// Action kind of [`ProposalAction::RemoveValidator`].
pub const REMOVE_VALIDATOR: &str = "remove_validator";
/// Action kind of [`ProposalAction::SetPolicy`].
pub const SET_POLICY: &str = "set_policy";
/// Action kind of [`ProposalAction::SetParam`].
pub const SET_PARAM: &str = "set_param";
/// Action kind of [`ProposalAction::Call`].
pub const CALL: &str = "call";
/// The action kinds whose policies live at `policy/governance/{kind}`.
pub const ACTION_KINDS: &[&str] = &[
    ADD_ORG,
    REMOVE_ORG,
    ADD_VALIDATOR,
    REMOVE_VALIDATOR,
    SET_POLICY,
    SET_PARAM,
];

/// Parameter settable by [`ProposalAction::SetParam`]: most transactions per block.
pub const PARAM_MAX_BLOCK_TXS: &str = "max_block_txs";
/// The settable parameters.
pub const PARAMS: &[&str] = &[PARAM_MAX_BLOCK_TXS];
/// State key of the chain parameters in force ([`crate::ChainParams`], written at genesis).
pub const PARAMS_KEY: &[u8] = b"chain/params";
/// State key of the next proposal id (`u64`, borsh); absent means 1.
pub const NEXT_ID_KEY: &[u8] = b"governance/next_id";
/// Longest time a proposal may stay open, in ms (30 days).
pub const MAX_OPEN_MS: u64 = 30 * 24 * 3600 * 1000;

/// What a proposal does when approved.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalAction {
    /// Create an organization and its administrator accounts.
    AddOrg {
        /// Organization id (lowercase slug).
        id: String,
        /// Display name.
        name: String,
        /// Whether it is a founding organization.
        founding: bool,
        /// Accounts created in it (at least one, usually with `org_admin`).
        admins: Vec<NewAccount>,
    },
    /// Mark an organization removed: its accounts count for no policy.
    RemoveOrg {
        /// Organization id.
        id: String,
    },
    /// Add a validator to the next validator set (in force from the next epoch).
    AddValidator {
        /// The validator.
        validator: ValidatorInfo,
    },
    /// Remove a validator from the next validator set.
    RemoveValidator {
        /// Its Ed25519 consensus key (hex in JSON).
        #[serde(with = "crate::hexser")]
        consensus_key: Vec<u8>,
    },
    /// Set the policy of `module.method` (or of governance action kind `method`).
    SetPolicy {
        /// Module name.
        module: String,
        /// Method name, or action kind for `governance`.
        method: String,
        /// The new policy.
        policy: Policy,
    },
    /// Set a chain parameter ([`PARAMS`]).
    SetParam {
        /// Parameter name.
        name: String,
        /// New value.
        value: u64,
    },
    /// Execute a module call that needs several signatures, with the approvers as signers.
    Call(Call),
}

impl ProposalAction {
    /// The action's kind: one of [`ACTION_KINDS`] or [`CALL`].
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AddOrg { .. } => ADD_ORG,
            Self::RemoveOrg { .. } => REMOVE_ORG,
            Self::AddValidator { .. } => ADD_VALIDATOR,
            Self::RemoveValidator { .. } => REMOVE_VALIDATOR,
            Self::SetPolicy { .. } => SET_POLICY,
            Self::SetParam { .. } => SET_PARAM,
            Self::Call(_) => CALL,
        }
    }
}

/// Where a proposal stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Collecting approvals.
    Open,
    /// The action ran.
    Executed,
    /// An approval came after `expires_at_ms`.
    Expired,
    /// The proposer cancelled it.
    Cancelled,
}

/// A proposal, stored under [`proposal_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proposal {
    /// Sequential id, from 1.
    pub id: u64,
    /// The proposing account (also the first approver).
    pub proposer: Address,
    /// What it does.
    pub action: ProposalAction,
    /// Height of the block that created it.
    pub created_height: u64,
    /// Consensus time after which it can no longer be approved, ms since the Unix epoch.
    pub expires_at_ms: u64,
    /// Approving accounts, in order (the proposer first).
    pub approvals: Vec<Address>,
    /// Where it stands.
    pub status: ProposalStatus,
    /// Height at which it executed.
    pub executed_height: Option<u64>,
    /// Hashes of the transactions that acted on it (propose, approvals, cancel), in order.
    pub tx_hashes: Vec<Hash>,
}

/// Arguments of `governance.propose`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ProposeArgs {
    /// What to do.
    pub action: ProposalAction,
    /// Consensus time after which approvals are refused; at most [`MAX_OPEN_MS`] ahead.
    pub expires_at_ms: u64,
}

/// Arguments of `governance.approve` and `governance.cancel`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ProposalIdArgs {
    /// The proposal id.
    pub id: u64,
}

/// State key of proposal `id`: `governance/proposal/{id:020}`, so keys sort by id.
pub fn proposal_key(id: u64) -> Vec<u8> {
    format!("governance/proposal/{id:020}").into_bytes()
}
