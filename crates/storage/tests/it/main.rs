//! Integration tests for xa-storage (one binary, see STYLE: one integration-test binary per crate).

mod blocks;
mod common;
mod crash;
mod proofs;
mod state;
