//! Size and offline verification time of typical evidence packages for a 4-validator chain
//! (the frozen vectors in docs/vectors: a notary record finalized through a descendant, with one
//! validator-set change): `cargo bench -p xa-light`.

use std::time::Instant;
use xa_types::Genesis;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors");
    for suite in ["ed25519", "sm2"] {
        let package = std::fs::read(dir.join(format!("notary-{suite}.json"))).expect("package");
        let genesis: Genesis = serde_json::from_slice(
            &std::fs::read(dir.join(format!("genesis-{suite}.json"))).expect("genesis"),
        )
        .expect("genesis json");
        let mut us = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            xa_light::verify_bytes(&package, Some(&genesis)).expect("verifies");
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        us.sort_by(f64::total_cmp);
        println!(
            "{suite}: package {} bytes; full offline verification (2 certificates, 1 set change, 1 history link, tx + receipt + state proofs) median {:.0} us p99 {:.0} us",
            package.len(),
            us[us.len() / 2],
            us[us.len() * 99 / 100],
        );
    }
}
