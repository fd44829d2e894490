//! A partition into two halves stops finalization (no quorum on either side); healing it resumes
//! progress and all validators agree.

use crate::common::{Net, VALIDATORS, anchor, clerk, operator, runner};
use commonware_runtime::Runner as _;
use std::time::Duration;

const SEED: u64 = 0x5eed_0003;

#[test]
fn partition_halts_then_heals() {
    runner(SEED).start(|context| async move {
        let net = Net::start(context).await;
        let all: Vec<usize> = (0..VALIDATORS).collect();
        net.wait_for_height(&all, 5, Duration::from_secs(60)).await;

        let (left, right) = ([0, 1], [2, 3]);
        net.cut(&left, &right).await;
        // Let anything already certified before the cut land.
        net.sleep(Duration::from_secs(3)).await;
        let frozen = net.tips();
        // Transactions submitted during the partition wait on both sides.
        let op = operator();
        let cl = clerk();
        let mut txs = net.submit(0, (0..3).map(|n| anchor(&op, n, n)).collect());
        txs.extend(net.submit(3, (0..3).map(|n| anchor(&cl, n, 50 + n)).collect()));
        net.sleep(Duration::from_secs(20)).await;
        assert_eq!(
            net.tips(),
            frozen,
            "a side without quorum finalized a block during the partition"
        );
        for i in &all {
            assert!(
                txs.iter()
                    .all(|h| net.chain(*i).store.tx_location(&h.0).unwrap().is_none()),
                "validator {i} committed a transaction during the partition"
            );
        }

        net.heal(&left, &right).await;
        let resume = frozen.iter().flatten().copied().max().unwrap_or(0);
        net.wait_for_height(&all, resume + 5, Duration::from_secs(120))
            .await;
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;
        net.assert_agree(&all);
    });
}
