//! Resharing the tender key under consensus, seeded: four genesis validators hold golden round 0
//! (devnet trusted setup); governance adds a fifth node and registers its DKG key; every node's
//! [`Participant`] deals, finishes and plays by itself (driven here by one task per node in
//! simulated time, in place of the node's DKG thread), posting through its node account; all
//! five end with shares of round 1, whose key is the old group key, and a quorum of the new
//! shares signs under it. A failure replays from the seed: dealing and observing are seeded
//! from keys and round numbers, and their seconds of CPU pass in no simulated time.

use crate::common::{CHAIN_ID, Change, Net, NetConfig, change_validators, clerk, operator, runner};
use commonware_runtime::{Clock as _, Runner as _, Spawner as _, Supervisor as _};
use std::{sync::Arc, time::Duration};
use xa_execution::{reshare, sealing};
use xa_node::{
    Chain,
    dkg_participant::{Participant, ShareStore, key_round},
    node_account::NodeAccount,
};
use xa_types::{
    Call, GenesisAccount, KeyPair, Suite, TxBody, address_of,
    modules::dkg::{DkgGenesis, MODULE, REGISTER_KEY, RegisterKeyArgs},
};

/// Seed of the scenario.
pub const RESHARE_SEED: u64 = 0x5eed_0020;

/// Heights per epoch.
const EPOCH_LENGTH: u64 = 10;

/// Node `i`'s account key (role `validator`), which posts its DKG transactions.
fn node_account_key(i: usize) -> KeyPair {
    KeyPair::from_seed(Suite::Ed25519, &[40 + i as u8; 32]).expect("key")
}

/// Node `i`'s DKG key.
fn dkg_key(i: usize) -> reshare::DkgKey {
    reshare::DkgKey::from_seed([60 + i as u8; 32])
}

/// Drive `participant` after every commit of `chain`, as the node's DKG thread does.
fn drive(net: &Net, chain: Arc<Chain>, mut participant: Participant, account: NodeAccount) {
    net.context.child("dkg").spawn(move |context| async move {
        let mut seen = 0;
        loop {
            let height = chain.tip().0;
            if height != seen {
                seen = height;
                account.post(participant.step(&chain, height));
            }
            context.sleep(Duration::from_millis(50)).await;
        }
    });
}

#[test]
fn validators_reshare_the_tender_key_to_a_new_set_under_consensus() {
    let dkg_keys: Vec<reshare::DkgKey> = (0..5).map(dkg_key).collect();
    let (out0, shares0) =
        reshare::round_zero_trusted_setup_devnet_only(CHAIN_ID, &dkg_keys[..4], [5; 32])
            .expect("round 0");
    let (out0, shares0) = (&out0, &shares0);
    let share_dirs: Vec<tempfile::TempDir> =
        (0..5).map(|_| tempfile::tempdir().expect("dir")).collect();
    let stores = move || -> Vec<ShareStore> {
        share_dirs
            .iter()
            .enumerate()
            .map(|(i, d)| ShareStore::open(d.path().to_path_buf(), shares0.get(i).cloned()))
            .collect::<Result<_, _>>()
            .expect("share stores")
    };
    runner(RESHARE_SEED).start(|context| async move {
        let net = Net::start_custom(
            context,
            NetConfig {
                nodes: 5,
                genesis_validators: 4,
                epoch_length: EPOCH_LENGTH,
            },
            |g, pks| {
                // Dealer logs for five players are tens of kilobytes.
                g.params.max_tx_bytes = 64 * 1024;
                g.tender_threshold_trusted_dealer_devnet_only = Some(out0.key.clone());
                g.tender_dkg_trusted_setup_devnet_only = Some(DkgGenesis {
                    output: out0.output.clone(),
                    keys: pks[..4]
                        .iter()
                        .zip(&dkg_keys)
                        .map(|(pk, k)| RegisterKeyArgs {
                            consensus_key: pk.as_ref().to_vec(),
                            dkg_key: k.public(),
                        })
                        .collect(),
                });
                for i in 0..5 {
                    g.accounts.push(GenesisAccount {
                        name: format!("validator-{i} node"),
                        public_key: node_account_key(i).public_key(),
                        org: "committee".into(),
                        roles: vec!["validator".into()],
                    });
                }
            },
        )
        .await;
        for (i, store) in stores().into_iter().enumerate() {
            let chain = net.chain(i).clone();
            let account = NodeAccount::new(chain.clone(), node_account_key(i)).expect("account");
            drive(&net, chain, Participant::new(dkg_key(i), store), account);
        }
        let originals = [0, 1, 2, 3];
        net.wait_for_height(&originals, 3, Duration::from_secs(60))
            .await;

        // Governance adds node 4; the administrator registers its DKG key: round 1 opens.
        net.submit(
            1,
            vec![change_validators(&clerk(), 0, &net, Change::Add(4))],
        );
        let op = operator();
        let register = TxBody {
            chain_id: CHAIN_ID.into(),
            sender: address_of(&op.public_key()),
            nonce: 0,
            expiry_height: 1_000_000,
            call: Call::new(
                MODULE,
                REGISTER_KEY,
                &RegisterKeyArgs {
                    consensus_key: net.validator_info(4).consensus_key,
                    dkg_key: dkg_keys[4].public(),
                },
            ),
        }
        .sign(&op);
        let hashes = net.submit(1, vec![register]);
        net.wait_for_txs(&hashes, Duration::from_secs(60)).await;

        // Every node, the newcomer included, ends with round 1 in force and its share stored.
        let all = [0, 1, 2, 3, 4];
        let stores = stores();
        let done = crate::common::wait_until(&net.context, Duration::from_secs(300), || {
            all.iter()
                .all(|i| key_round(&net.chain(*i).committed_view()) == 1)
                && stores.iter().all(|s| s.get(1).is_some())
        })
        .await;
        assert!(
            done,
            "the reshare did not finish: key rounds {:?}, tips {:?}",
            all.map(|i| key_round(&net.chain(i).committed_view())),
            net.tips()
        );
        net.assert_agree(&all);

        // Same group key; four of the five new shares sign under it, and the old shares don't.
        let in_force: xa_types::modules::dkg::DkgOutput = xa_types::decode(
            &net.chain(0)
                .store
                .get_latest(xa_types::modules::dkg::OUTPUT_KEY)
                .expect("read")
                .expect("output"),
        )
        .expect("decode");
        let out1 = reshare::RoundOutput::decode(1, &in_force.output).expect("output");
        assert_eq!(out1.group_key(), out0.group_key());
        assert_eq!((out1.players.len(), out1.quorum), (5, 4));
        let sharing = sealing::sharing(&out1.key).expect("sharing");
        let partials: Vec<_> = stores[1..]
            .iter()
            .map(|s| {
                let p =
                    sealing::partial_sign(&s.get(1).expect("share"), CHAIN_ID, 9).expect("sign");
                sealing::verify_partial(&sharing, CHAIN_ID, 9, &p)
                    .expect("a new share's partial verifies")
                    .1
            })
            .collect();
        sealing::recover(&sharing, &partials).expect("a quorum of new shares recovers");
        let old = sealing::partial_sign(&shares0[0], CHAIN_ID, 9).expect("sign");
        assert!(sealing::verify_partial(&sharing, CHAIN_ID, 9, &old).is_err());
    });
}
