//! The validator set as chain state, and the epoch arithmetic every node and verifier shares.
//!
//! # Epochs
//! Heights are grouped into epochs of `epoch_length` heights, as Commonware's `FixedEpocher`
//! does: epoch `e` holds heights `e * L ..= e * L + L - 1`, so genesis (height 0) is in epoch 0.
//!
//! # Where the set lives
//! - [`SET_KEY`] holds the [`ValidatorSet`] that governs the epoch *after* the state's height:
//!   in the state after block `h`, it is the set of epoch `epoch_of(h + 1)`. Genesis writes the
//!   genesis validators as epoch 0's set.
//! - [`NEXT_KEY`] holds a set decided by governance and not yet in force. When execution reaches
//!   the last block of an epoch, it moves [`NEXT_KEY`] into [`SET_KEY`] (with the next epoch's
//!   number) and deletes [`NEXT_KEY`]; the change therefore takes effect at the first height of
//!   the next epoch, and a light client proves it by reading [`SET_KEY`] at the last block of the
//!   previous epoch.

use crate::GenesisValidator;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// State key of the set in force for the epoch after the state's height.
pub const SET_KEY: &[u8] = b"validators/set";
/// State key of a set decided by governance, taking effect at the next epoch boundary.
pub const NEXT_KEY: &[u8] = b"validators/next";

/// One validator: its name, Ed25519 consensus key and p2p address.
pub type ValidatorInfo = GenesisValidator;

/// A validator set and the epoch it governs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSet {
    /// The epoch this set governs.
    pub epoch: u64,
    /// The validators, in the order they were decided (consensus sorts keys itself).
    pub validators: Vec<ValidatorInfo>,
}

/// The epoch that holds `height`.
pub fn epoch_of(height: u64, epoch_length: u64) -> u64 {
    height / epoch_length.max(2)
}

/// Whether `height` is the last height of its epoch.
pub fn is_last_in_epoch(height: u64, epoch_length: u64) -> bool {
    let l = epoch_length.max(2);
    height % l == l - 1
}

/// The last height of `epoch`, or `None` on overflow.
pub fn last_height_of(epoch: u64, epoch_length: u64) -> Option<u64> {
    let l = epoch_length.max(2);
    epoch.checked_mul(l)?.checked_add(l - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_match_fixed_epocher_layout() {
        assert_eq!(epoch_of(0, 10), 0);
        assert_eq!(epoch_of(9, 10), 0);
        assert_eq!(epoch_of(10, 10), 1);
        assert!(is_last_in_epoch(9, 10));
        assert!(!is_last_in_epoch(10, 10));
        assert_eq!(last_height_of(0, 10), Some(9));
        assert_eq!(last_height_of(3, 10), Some(39));
        assert_eq!(last_height_of(u64::MAX, 10), None);
        assert_eq!(epoch_of(5, u64::MAX), 0);
        assert!(!is_last_in_epoch(5, u64::MAX));
    }
}
