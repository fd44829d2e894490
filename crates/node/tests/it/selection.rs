//! A proposal takes only transactions a block can include: transactions waiting behind a
//! sender's missing nonce take no place in it, however many arrived first.

use crate::solo::{key, open_with, propose, tx};
use xa_types::{ChainParams, Suite, TxStatus, modules::governance};

#[test]
fn transactions_behind_a_missing_nonce_do_not_crowd_out_the_next_block() {
    let dir = tempfile::tempdir().expect("dir");
    // Blocks of at most four transactions; administrator 2 first queues five transactions
    // with nonces 5..=9 (0..=4 never arrive), then administrator 1 one it can use now.
    let chain = open_with(
        dir.path(),
        ChainParams {
            max_block_txs: 4,
            ..ChainParams::default()
        },
    );
    let gapped: Vec<_> = (5..10)
        .map(|n| {
            tx(
                2,
                n,
                governance::APPROVE,
                &governance::ProposalIdArgs { id: 1 },
            )
        })
        .collect();
    for r in chain.submit(gapped) {
        r.expect("admitted: within the nonce window");
    }
    let genesis = chain.tip_block().expect("genesis");
    assert!(
        !chain.has_includable(&genesis),
        "only gapped transactions are pending"
    );
    let ready = propose(0, 400);
    let ready_hash = ready.hash(Suite::Ed25519);
    for r in chain.submit(vec![ready]) {
        r.expect("admitted");
    }
    assert!(chain.has_includable(&genesis));

    let proposer = key(100).public_key().as_bytes().to_vec();
    let block = chain
        .build(&genesis, 0, 1, 0, proposer, 1_000)
        .expect("build")
        .expect("a block");
    assert_eq!(block.tx_hashes(), &[ready_hash], "the usable one, alone");
    let executed = chain.executed(&block.hash()).expect("executed");
    assert_eq!(executed.receipts[0].status, TxStatus::Success);
    chain.commit(&block, Vec::new()).expect("commit");
    assert_eq!(chain.mempool.len(), 5, "the gapped ones still wait");
    let tip = chain.tip_block().expect("tip");
    assert!(!chain.has_includable(&tip));
}
