//! Arbitrary proofs against fixed roots: the Merkle, consistency and state-proof verifiers must
//! return false or an error, never panic, whatever the sizes, indices and paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xa_types::{Hash, Suite, merkle};

fuzz_target!(|data: &[u8]| {
    let suite = if data.first().is_some_and(|b| b & 1 == 1) { Suite::Sm2 } else { Suite::Ed25519 };
    let word = |i: usize| {
        let mut b = [0u8; 8];
        for (j, x) in b.iter_mut().enumerate() {
            *x = data.get(1 + i * 8 + j).copied().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    };
    let path: Vec<Hash> = data
        .get(17..)
        .unwrap_or_default()
        .chunks_exact(32)
        .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
        .collect();
    let root = Hash([7; 32]);
    let _ = merkle::verify(
        suite,
        &root,
        &root,
        &merkle::InclusionProof { index: word(0), size: word(1), path: path.clone() },
    );
    let _ = merkle::verify_consistency(
        suite,
        &root,
        &root,
        &merkle::ConsistencyProof { size1: word(0), size2: word(1), path },
    );
    if let Ok(proof) = serde_json::from_slice::<xa_storage::StateProof>(data) {
        let algo = xa_light::hash_algo(suite);
        let _ = xa_storage::verify_proof(algo, &[7; 32], b"notary/x", Some(b"v"), &proof);
        let _ = xa_storage::verify_proof(algo, &[7; 32], b"notary/x", None, &proof);
        let _ = xa_storage::verify_proof(algo, &[7; 32], b"history/notary/x", Some(b"h"), &proof);
        let _ = xa_storage::verify_proof(algo, &[7; 32], b"history/history/x", None, &proof);
    }
});
