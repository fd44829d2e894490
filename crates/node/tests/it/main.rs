//! Seeded deterministic-runtime tests of a 4-validator network: steady progress, crash and
//! restart, partition and heal, run-to-run determinism, validator-set changes, and resharing the
//! tender key to a new set.
//!
//! Everything runs in simulated time on `commonware_runtime::deterministic` with
//! `commonware_p2p::simulated`; deadlines are simulated, never wall-clock. `history` and
//! `selection` drive `Chain`s directly (no network) through the `solo` fixture.

mod common;
mod crash;
mod determinism;
mod epochs;
mod gossip;
mod history;
mod partition;
mod progress;
mod reshare;
mod selection;
mod solo;
