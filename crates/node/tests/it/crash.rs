//! A crashed validator does not stop the other three, and after a restart on the same storage it
//! catches up through marshal's backfill and agrees with them.

use crate::common::{Net, VALIDATORS, anchor, operator, runner, wait_until};
use commonware_cryptography::Signer as _;
use commonware_runtime::Runner as _;
use std::time::Duration;

const SEED: u64 = 0x5eed_0002;

#[test]
fn crashed_validator_restarts_and_catches_up() {
    runner(SEED).start(|context| async move {
        let mut net = Net::start(context).await;
        let all: Vec<usize> = (0..VALIDATORS).collect();
        let op = operator();
        let mut txs = net.submit(1, (0..4).map(|n| anchor(&op, n, n)).collect());
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;
        net.wait_for_height(&all, 5, Duration::from_secs(60)).await;

        // Crash validator 3; the others keep finalizing, with transactions.
        let committed_before_crash = net.chain(3).tip().0;
        net.crash(3).await;
        let survivors = [0, 1, 2];
        let before = net.min_tip(&survivors);
        txs.extend(net.submit(0, (4..10).map(|n| anchor(&op, n, n)).collect()));
        net.wait_for_txs(&txs, Duration::from_secs(120)).await;
        net.wait_for_height(&survivors, before + 10, Duration::from_secs(180))
            .await;

        // Restart it on the same fjall directory and runtime partitions.
        net.start_validator(3);
        let restarted_at = net.chain(3).tip().0;
        // Every commit was durable: it reopens exactly where it stopped.
        assert_eq!(restarted_at, committed_before_crash);
        let target = net.min_tip(&survivors);
        assert!(target > restarted_at + 5, "nothing to catch up on");
        net.wait_for_height(&all, target, Duration::from_secs(120))
            .await;
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;
        // And it takes part again: a block it proposes after catching up is finalized.
        let me = net.keys[3].public_key();
        let proposed = wait_until(&net.context, Duration::from_secs(60), || {
            let chain = net.chain(3);
            (target + 1..=chain.tip().0).any(|h| {
                chain
                    .block_at(h)
                    .expect("read")
                    .is_some_and(|b| b.block().header.proposer.as_slice() == me.as_ref())
            })
        })
        .await;
        assert!(
            proposed,
            "the restarted validator never had a proposal finalized"
        );
        net.assert_agree(&all);
    });
}
