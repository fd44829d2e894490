//! Criterion-free micro benchmark: `cargo run --release -p xa-crypto --example bench`.

use std::time::Instant;

use xa_crypto::{KeyPair, PublicKey, Signature, Suite, verify, verify_batch};

fn time<F: FnMut()>(label: &str, iterations: u32, mut f: F) {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per_op = start.elapsed() / iterations;
    println!("{label:<32} {per_op:>12.2?} / op");
}

fn main() {
    let msg = [0x5au8; 256];
    for suite in Suite::ALL {
        let kp = KeyPair::generate(suite);
        let pk = kp.public_key();
        let sig = kp.sign(&msg);
        time(&format!("{suite} hash 1 KiB"), 10_000, || {
            std::hint::black_box(suite.hash(&[0u8; 1024]));
        });
        time(&format!("{suite} sign"), 200, || {
            std::hint::black_box(kp.sign(&msg));
        });
        time(&format!("{suite} verify"), 200, || {
            assert!(verify(&pk, &msg, &sig).is_ok());
        });
        let items: Vec<(PublicKey, Signature)> = (0..64)
            .map(|_| {
                let kp = KeyPair::generate(suite);
                let sig = kp.sign(&msg);
                (kp.public_key(), sig)
            })
            .collect();
        let refs: Vec<(&PublicKey, &[u8], &Signature)> =
            items.iter().map(|(pk, sig)| (pk, &msg[..], sig)).collect();
        time(&format!("{suite} verify_batch(64 items)"), 20, || {
            assert!(verify_batch(&refs).iter().all(|ok| *ok));
        });
    }
}
