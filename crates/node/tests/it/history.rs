//! Key histories keep one version per writing transaction: a block in which several
//! transactions write one tracked key appends one link each, proposer and voter agree on it, and
//! the committed store lists every version (with its transaction and value) for export.

use crate::solo::{key, open, propose, tx};
use xa_types::{
    Hash, Suite, TxStatus, decode,
    modules::{
        governance::{self, Proposal, ProposalIdArgs, ProposalStatus},
        history::{self, HistoryHead},
    },
};

#[test]
fn every_transaction_writing_a_key_in_one_block_is_its_own_version() {
    let (pdir, vdir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (proposer, voter) = (open(pdir.path()), open(vdir.path()));
    // One block: proposal 1 created by a and approved (so executed) by b; proposal 2 created and
    // cancelled by a. Each proposal record is written by two transactions of the block.
    let txs = vec![
        propose(0, 400),
        tx(2, 0, governance::APPROVE, &ProposalIdArgs { id: 1 }),
        propose(1, 300),
        tx(1, 2, governance::CANCEL, &ProposalIdArgs { id: 2 }),
    ];
    let hashes: Vec<Hash> = txs.iter().map(|t| t.hash(Suite::Ed25519)).collect();
    for r in proposer.submit(txs) {
        r.expect("admitted");
    }
    let parent = proposer.tip_block().expect("genesis");
    let block = proposer
        .build(
            &parent,
            0,
            1,
            0,
            key(100).public_key().as_bytes().to_vec(),
            1_000,
        )
        .expect("build")
        .expect("a block");
    assert_eq!(block.tx_hashes(), hashes.as_slice(), "block order");
    // The voter re-executes and reaches the same state root (history heads included).
    assert!(voter.verify(&block, &parent, 1_000).expect("verify"));
    let executed = proposer.executed(&block.hash()).expect("executed");
    assert!(
        executed
            .receipts
            .iter()
            .all(|r| r.status == TxStatus::Success),
        "{:?}",
        executed.receipts
    );
    proposer.commit(&block, Vec::new()).expect("commit");
    voter.commit(&block, Vec::new()).expect("commit");

    for (chain, who) in [(&proposer, "proposer"), (&voter, "voter")] {
        for (id, writers, statuses) in [
            (
                1,
                [hashes[0], hashes[1]],
                [ProposalStatus::Open, ProposalStatus::Executed],
            ),
            (
                2,
                [hashes[2], hashes[3]],
                [ProposalStatus::Open, ProposalStatus::Cancelled],
            ),
        ] {
            let k = governance::proposal_key(id);
            assert!(history::is_tracked(&k));
            let versions = xa_light::export::versions_of(&chain.store, &k, 1).expect("versions");
            let got: Vec<(u64, Hash, ProposalStatus)> = versions
                .iter()
                .map(|v| {
                    let p: Proposal = decode(v.value.as_deref().expect("set")).expect("proposal");
                    (v.height, v.tx_hash, p.status)
                })
                .collect();
            assert_eq!(
                got,
                vec![(1, writers[0], statuses[0]), (1, writers[1], statuses[1])],
                "{who}: proposal {id}"
            );
            // The versions hash to the head in state, which names the last writer.
            let head: HistoryHead = decode(
                &chain
                    .store
                    .get(&history::head_key(&k), 1)
                    .expect("read")
                    .expect("head"),
            )
            .expect("head");
            assert_eq!(HistoryHead::of(Suite::Ed25519, &versions), head, "{who}");
            assert_eq!((head.count, head.tx_hash), (2, writers[1]));
            // The last version is the state's value; the block's versions are stored beside it.
            assert_eq!(
                versions[1].value,
                chain.store.get(&k, 1).expect("read"),
                "{who}"
            );
            assert_eq!(
                chain
                    .store
                    .block_versions(&k, 1)
                    .expect("read")
                    .map(|v| v.len()),
                Some(2)
            );
        }
    }
    // A key written once in its block stores no block versions: its version comes from the head.
    let org = xa_types::modules::identity::org_key("a");
    assert_eq!(proposer.store.block_versions(&org, 0).expect("read"), None);
    let v = xa_light::export::versions_of(&proposer.store, &org, 1).expect("versions");
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].height, v[0].tx_hash), (0, Hash::default()));
}

/// Storage keeps a key and its history head in one tree leaf by the head's prefix; the prefix
/// it pairs by is the one heads are written under.
#[test]
fn storage_pairs_keys_with_the_history_prefix() {
    assert_eq!(xa_storage::PAIRED_PREFIX, history::PREFIX);
    assert!(
        history::TRACKED
            .iter()
            .all(|p| !p.starts_with(history::PREFIX)),
        "a tracked key under the head prefix would have no head of its own"
    );
}
