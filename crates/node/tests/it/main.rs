//! Seeded deterministic-runtime tests of a 4-validator network: steady progress, crash and
//! restart, partition and heal, and run-to-run determinism.
//!
//! Everything runs in simulated time on `commonware_runtime::deterministic` with
//! `commonware_p2p::simulated`; deadlines are simulated, never wall-clock. `history` drives one
//! proposer's and one voter's `Chain` directly (no network).

mod common;
mod crash;
mod determinism;
mod epochs;
mod history;
mod partition;
mod progress;
