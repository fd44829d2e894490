//! Run a Xiong'an Chain validator: consensus, block dissemination, execution and storage.
//!
//! # Terminology
//! - **Chain** ([`chain::Chain`]): committed storage, speculative execution of unfinalized
//!   blocks, the mempool.
//! - **App** ([`app::App`]): what consensus calls to propose and verify blocks.
//! - **Engine** ([`engine::start`]): marshal, block broadcast and backfill, and the
//!   orchestrator, wired over any p2p network and any `commonware-runtime`.
//! - **Orchestrator** ([`orchestrator`]): one simplex engine per epoch, started from committed
//!   state at each epoch boundary (validator-set changes).
//! - **Service** ([`service`]): the production wiring on the tokio runtime with authenticated
//!   TCP p2p.
//!
//! # Invariants
//! - Protocol code here never calls tokio: time, tasks, storage and network go through the
//!   `commonware-runtime` traits, so tests run whole validator sets on the deterministic runtime.
//! - A block is committed only after marshal delivers it as finalized, in height order; it is
//!   acknowledged only after the commit is durable, so a crash redelivers it.

pub mod app;
pub mod block;
pub mod chain;
pub mod config;
pub mod dkg_participant;
pub mod engine;
pub mod node_account;
pub mod orchestrator;
pub mod service;
pub mod tender_opener;

pub use chain::{Chain, ChainError, Committed};
pub use config::{NodeConfig, StorageSettings};
