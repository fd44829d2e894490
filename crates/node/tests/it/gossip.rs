//! Transaction gossip: what a client submits one transaction at a time reaches the other
//! validators in a few messages, not one message per transaction, and all of it commits.

use crate::common::{Net, VALIDATORS, anchor, operator, runner};
use commonware_runtime::{Runner as _, Supervisor as _};
use std::time::Duration;
use xa_node::engine::GOSSIP_LINGER;

#[test]
fn transactions_submitted_one_by_one_are_gossiped_together() {
    runner(0x5eed_0605).start(|context| async move {
        let net = Net::start(context.child("net")).await;
        let all: Vec<usize> = (0..VALIDATORS).collect();
        net.wait_for_height(&all, 2, Duration::from_secs(30)).await;
        let before: Vec<(u64, u64)> = all
            .iter()
            .map(|i| net.chain(*i).gossip_received())
            .collect();

        // 20 single-transaction submissions to validator 0, spread over 8 ms (less than one
        // linger): each reaches the gossip task on its own.
        assert!(GOSSIP_LINGER > Duration::from_millis(8));
        let op = operator();
        let mut txs = Vec::new();
        for n in 0..20 {
            txs.extend(net.submit(0, vec![anchor(&op, n, n)]));
            net.sleep(Duration::from_micros(400)).await;
        }
        net.wait_for_txs(&txs, Duration::from_secs(60)).await;

        for (i, (messages_before, received_before)) in before.iter().enumerate().skip(1) {
            let (messages, received) = net.chain(i).gossip_received();
            let (messages, received) = (messages - messages_before, received - received_before);
            assert_eq!(
                received, 20,
                "validator {i} received every transaction once"
            );
            assert!(
                messages <= 3,
                "validator {i} received the 20 transactions in {messages} messages"
            );
        }
        // Validator 0 gossips; it receives nothing back.
        assert_eq!(net.chain(0).gossip_received(), before[0]);
        net.assert_agree(&all);
    });
}
