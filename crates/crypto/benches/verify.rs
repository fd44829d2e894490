//! Signature verification cost per suite: `cargo bench -p xa-crypto --bench verify`.
//!
//! Times, on one thread, single verification through [`xa_crypto::verify`] for Ed25519 and
//! SM2, Ed25519 batch verification of 64 signatures, and parsing an SM2 key (the part of an SM2
//! verification a key cache could save). Plain `Instant` timing over many rounds after a warm-up;
//! prints microseconds per signature.

use std::time::Instant;
use xa_crypto::{KeyPair, Signature, Suite, verify, verify_batch};

const KEYS: usize = 64;
const ROUNDS: usize = 20;

fn signed(suite: Suite) -> Vec<(KeyPair, Vec<u8>, Signature)> {
    (0..KEYS)
        .map(|i| {
            let kp = KeyPair::from_seed(suite, &[i as u8 + 1; 32]).expect("seed");
            let msg = format!("xa-crypto bench message {i}").into_bytes();
            let sig = kp.sign(&msg);
            (kp, msg, sig)
        })
        .collect()
}

/// Microseconds per call of `f` over every item, `ROUNDS` times.
fn time(label: &str, items: usize, mut f: impl FnMut()) {
    f(); // warm-up (tables, caches)
    let start = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / (ROUNDS * items) as f64;
    println!("{label:<44} {us:>8.1} µs per signature");
}

fn main() {
    let ed = signed(Suite::Ed25519);
    let sm = signed(Suite::Sm2);

    time("ed25519 single (xa_crypto::verify)", KEYS, || {
        for (kp, msg, sig) in &ed {
            assert!(verify(&kp.public_key(), msg, sig).is_ok());
        }
    });
    time(
        "ed25519 batch of 64 (xa_crypto::verify_batch)",
        KEYS,
        || {
            let pks: Vec<_> = ed.iter().map(|(kp, _, _)| kp.public_key()).collect();
            let items: Vec<_> = ed
                .iter()
                .zip(&pks)
                .map(|((_, msg, sig), pk)| (pk, msg.as_slice(), sig))
                .collect();
            assert!(verify_batch(&items).into_iter().all(|ok| ok));
        },
    );
    time("sm2 single (xa_crypto::verify)", KEYS, || {
        for (kp, msg, sig) in &sm {
            assert!(verify(&kp.public_key(), msg, sig).is_ok());
        }
    });
    time("sm2 key parse (PublicKey::from_bytes)", KEYS, || {
        for (kp, _, _) in &sm {
            let pk = kp.public_key();
            assert!(xa_crypto::PublicKey::from_bytes(Suite::Sm2, pk.as_bytes()).is_ok());
        }
    });
}
