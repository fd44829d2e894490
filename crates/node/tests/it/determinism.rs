//! The same seed gives the same chain and the same runtime trace.

use crate::progress::{SEED, TARGET, scenario};

#[test]
fn same_seed_same_chain() {
    let (first, audit_first) = scenario(SEED);
    let (second, audit_second) = scenario(SEED);
    assert_eq!(
        first[0][TARGET as usize], second[0][TARGET as usize],
        "block hash at height {TARGET} differs between two runs with seed {SEED:#x}"
    );
    assert_eq!(first, second, "block hashes differ between two runs");
    assert_eq!(
        audit_first, audit_second,
        "runtime audit differs between two runs"
    );
}
