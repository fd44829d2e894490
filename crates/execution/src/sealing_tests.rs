//! Sealing: the payload cipher follows the suite; tampering and a foreign suite fail.

use super::sealing::*;
use commonware_cryptography::bls12381::primitives::variant::{MinPk, PartialSignature, Variant};
use xa_types::{
    Address, Hash, Suite,
    modules::tender::{BidContent, SealedBid},
};

const CHAIN: &str = "test";
const TENDER: u64 = 7;

fn content() -> BidContent {
    BidContent {
        price: 1_234_567,
        proposal_digest: Hash([9; 32]),
        salt: [3; 32],
    }
}

/// A bid sealed under `suite` to a 4-validator devnet key, and the group signature opening it.
fn sealed(suite: Suite) -> (SealedBid, <MinPk as Variant>::Signature, Address) {
    let (key, shares) = deal_trusted_dealer_devnet_only([1; 32], 4).expect("deal");
    let bidder = Hash([5; 32]);
    let bid = seal_bid(&key, suite, CHAIN, TENDER, &bidder, &content(), [2; 32]).expect("seal");
    let sharing = sharing(&key).expect("sharing");
    let partials: Vec<PartialSignature<MinPk>> = shares[..3]
        .iter()
        .map(|s| {
            let p = partial_sign(s, CHAIN, TENDER).expect("sign");
            verify_partial(&sharing, CHAIN, TENDER, &p)
                .expect("verify")
                .1
        })
        .collect();
    let sig = recover(&sharing, &partials).expect("recover");
    (bid, sig, bidder)
}

#[test]
fn bids_round_trip_on_both_suites() {
    for suite in Suite::ALL {
        let (bid, sig, bidder) = sealed(suite);
        let opened = open_bid(&sig, suite, CHAIN, TENDER, &bidder, &bid).expect("open");
        assert_eq!(opened, content(), "{suite:?}");
        // The ciphertext is the encoded content plus a 16-byte tag, and hides the price.
        let plain = xa_types::encode(&content());
        assert_eq!(bid.ciphertext.len(), plain.len() + 16, "{suite:?}");
        assert!(
            !bid.ciphertext
                .windows(8)
                .any(|w| w == 1_234_567u64.to_le_bytes())
        );
    }
}

#[test]
fn the_two_suites_use_different_ciphers() {
    let (ed, _, _) = sealed(Suite::Ed25519);
    let (sm, _, _) = sealed(Suite::Sm2);
    // Same seed, same key block, same content: only the cipher differs.
    assert_eq!(ed.sealed_key, sm.sealed_key);
    assert_ne!(ed.ciphertext, sm.ciphertext);
}

#[test]
fn tampered_bids_do_not_open() {
    for suite in Suite::ALL {
        let (bid, sig, bidder) = sealed(suite);
        for i in [0, bid.ciphertext.len() / 2, bid.ciphertext.len() - 1] {
            let mut t = bid.clone();
            t.ciphertext[i] ^= 1;
            assert_eq!(
                open_bid(&sig, suite, CHAIN, TENDER, &bidder, &t),
                Err(SealError::Undecryptable),
                "{suite:?} byte {i}"
            );
        }
        let mut t = bid.clone();
        let last = t.sealed_key.len() - 1;
        t.sealed_key[last] ^= 1;
        assert_eq!(
            open_bid(&sig, suite, CHAIN, TENDER, &bidder, &t),
            Err(SealError::Undecryptable)
        );
        // Another bidder's associated data.
        assert_eq!(
            open_bid(&sig, suite, CHAIN, TENDER, &Hash([6; 32]), &bid),
            Err(SealError::Undecryptable)
        );
    }
}

#[test]
fn a_bid_sealed_for_one_suite_does_not_open_under_the_other() {
    let (ed, sig, bidder) = sealed(Suite::Ed25519);
    assert_eq!(
        open_bid(&sig, Suite::Sm2, CHAIN, TENDER, &bidder, &ed),
        Err(SealError::Undecryptable)
    );
    let (sm, sig, bidder) = sealed(Suite::Sm2);
    assert_eq!(
        open_bid(&sig, Suite::Ed25519, CHAIN, TENDER, &bidder, &sm),
        Err(SealError::Undecryptable)
    );
}
