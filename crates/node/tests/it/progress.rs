//! Four validators make steady progress, commit every submitted transaction, and agree.

use crate::common::{Net, VALIDATORS, anchor, clerk, operator, runner};
use commonware_runtime::{Runner as _, Supervisor as _};
use std::time::Duration;
use xa_types::Hash;

/// The seed of the steady-progress scenario.
pub const SEED: u64 = 0x5eed_0001;

/// Height every validator must reach.
pub const TARGET: u64 = 20;

/// Run the steady-progress scenario: returns every validator's block hashes up to [`TARGET`]
/// and the runtime's audit state at the end.
pub fn scenario(seed: u64) -> (Vec<Vec<[u8; 32]>>, String) {
    runner(seed).start(|context| async move {
        let net = Net::start(context.child("net")).await;
        let all: Vec<usize> = (0..VALIDATORS).collect();
        net.wait_for_height(&all, 2, Duration::from_secs(30)).await;

        // Two senders, each through a different validator (a sender's nonces stay on one
        // validator so they are proposed in order).
        let op = operator();
        let mut txs: Vec<Hash> = net.submit(0, (0..8).map(|n| anchor(&op, n, n)).collect());
        let cl = clerk();
        txs.extend(net.submit(2, (0..8).map(|n| anchor(&cl, n, 100 + n)).collect()));
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;

        // A second wave from the operator through another validator, once the first committed.
        txs.extend(net.submit(3, (8..12).map(|n| anchor(&op, n, n)).collect()));
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;

        net.wait_for_height(&all, TARGET, Duration::from_secs(120))
            .await;
        let upto = net.assert_agree(&all);
        assert!(upto >= TARGET);
        for i in &all {
            let chain = net.chain(*i);
            assert_eq!(
                chain.next_nonce(&xa_types::address_of(&op.public_key())),
                12
            );
            assert_eq!(chain.next_nonce(&xa_types::address_of(&cl.public_key())), 8);
        }
        let hashes = all
            .iter()
            .map(|i| {
                (0..=TARGET)
                    .map(|h| {
                        net.chain(*i)
                            .store
                            .block_hash(h)
                            .expect("read")
                            .expect("committed")
                    })
                    .collect()
            })
            .collect();
        (hashes, context.auditor().state())
    })
}

#[test]
fn four_validators_progress_commit_and_agree() {
    let (hashes, _) = scenario(SEED);
    assert!(hashes.iter().all(|h| *h == hashes[0]));
}
