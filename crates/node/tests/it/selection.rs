//! A proposal takes only transactions a block can include: transactions waiting behind a
//! sender's missing nonce take no place in it, however many arrived first.

use crate::solo::{key, open_with, open_with_pool, propose, tx};
use xa_types::{ChainParams, Suite, Transaction, TxStatus, modules::governance};

/// Administrator 2 approving proposal 1 with `nonce` (0..=4 never arrive in these tests).
fn approval(nonce: u64) -> Transaction {
    tx(
        2,
        nonce,
        governance::APPROVE,
        &governance::ProposalIdArgs { id: 1 },
    )
}

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
    let gapped: Vec<_> = (5..10).map(approval).collect();
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

#[test]
fn a_pool_full_of_gapped_transactions_still_takes_and_commits_a_usable_one() {
    // The wedge a 10-minute overload run ended in: every place in the pool held by
    // transactions behind a missing nonce, so the pool refused everything and blocks were empty.
    let dir = tempfile::tempdir().expect("dir");
    let chain = open_with_pool(
        dir.path(),
        ChainParams::default(),
        xa_mempool::Config {
            max_txs: 5,
            max_bytes: usize::MAX,
            max_nonce_ahead: 100,
        },
    );
    let gapped: Vec<_> = (5..10).map(approval).collect();
    for r in chain.submit(gapped) {
        r.expect("admitted: the pool has room");
    }
    assert_eq!((chain.mempool.len(), chain.mempool.gapped_len()), (5, 5));
    // Full: another gapped transaction is refused, naming the nonce it waits for.
    let refused = chain.submit(vec![approval(10)]);
    let err = refused[0].as_ref().expect_err("full");
    assert!(err.message.contains("missing nonce 0"), "{}", err.message);
    // A transaction a block can include now takes the newest gapped one's place.
    let ready = propose(0, 400);
    let ready_hash = ready.hash(Suite::Ed25519);
    for r in chain.submit(vec![ready]) {
        r.expect("admitted in a full pool of gapped transactions");
    }
    assert_eq!(chain.mempool.evicted(), 1);
    let genesis = chain.tip_block().expect("genesis");
    let proposer = key(100).public_key().as_bytes().to_vec();
    let block = chain
        .build(&genesis, 0, 1, 0, proposer, 1_000)
        .expect("build")
        .expect("a block");
    assert_eq!(block.tx_hashes(), &[ready_hash]);
    chain.commit(&block, Vec::new()).expect("commit");
    assert_eq!((chain.mempool.len(), chain.mempool.gapped_len()), (4, 4));
}
