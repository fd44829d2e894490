//! Resharing: bids sealed under the old key open with the new set's partials, the group key is
//! unchanged, fewer than the threshold decrypt nothing, and old or foreign shares do not count.

use super::{reshare::*, sealing::*};
use commonware_cryptography::bls12381::primitives::variant::{MinPk, PartialSignature};
use std::{sync::OnceLock, time::Instant};
use xa_types::{
    Hash, Suite,
    modules::tender::{BidContent, SealedBid},
};

const CHAIN: &str = "test";
const TENDER: u64 = 3;

pub(super) fn keys(from: u8, n: u8) -> Vec<DkgKey> {
    (from..from + n)
        .map(|i| DkgKey::from_seed([i; 32]))
        .collect()
}

pub(super) fn publics(keys: &[DkgKey]) -> Vec<Vec<u8>> {
    keys.iter().map(DkgKey::public).collect()
}

fn content() -> BidContent {
    BidContent {
        price: 99_000,
        proposal_digest: Hash([4; 32]),
        salt: [8; 32],
    }
}

fn seal(out: &RoundOutput) -> SealedBid {
    seal_bid(
        &out.key,
        Suite::Sm2,
        CHAIN,
        TENDER,
        &Hash([1; 32]),
        &content(),
        [6; 32],
    )
    .expect("seal")
}

/// Verified partials from `shares` under the key of `out`.
fn partials(out: &RoundOutput, shares: &[&Vec<u8>]) -> Vec<PartialSignature<MinPk>> {
    let sharing = sharing(&out.key).expect("sharing");
    shares
        .iter()
        .map(|s| {
            let p = partial_sign(s, CHAIN, TENDER).expect("sign");
            verify_partial(&sharing, CHAIN, TENDER, &p)
                .expect("verify")
                .1
        })
        .collect()
}

/// Reshare `out` (held by `old` with `old_shares`) to `new`; `dealing` picks which old holders
/// deal. Returns the new output and the new players' shares in `new` order.
fn reshare(
    round: u64,
    out: &RoundOutput,
    old: &[DkgKey],
    old_shares: &[Vec<u8>],
    dealing: &[usize],
    new: &[DkgKey],
) -> (RoundOutput, Vec<Vec<u8>>) {
    let r = Round::new(
        CHAIN,
        round,
        Some(&out.output),
        &publics(old),
        &publics(new),
    )
    .expect("round");
    let logs: Vec<Vec<u8>> = dealing
        .iter()
        .map(|&i| {
            let log = r
                .deal(&old[i], Some(&old_shares[i]), [i as u8 + 100; 32])
                .expect("deal");
            assert_eq!(r.identify(&log).expect("identify"), old[i].public());
            log
        })
        .collect();
    let next = r.observe(&logs, [0; 32]).expect("observe");
    let shares = new
        .iter()
        .map(|k| {
            let (o, s) = r.play(&logs, k, [1; 32]).expect("play");
            assert_eq!(o, next, "players and observers agree");
            s
        })
        .collect();
    (next, shares)
}

/// Round 0 among four keys (devnet trusted setup), computed once per test process.
pub(super) fn round_zero() -> &'static (Vec<DkgKey>, RoundOutput, Vec<Vec<u8>>) {
    static ZERO: OnceLock<(Vec<DkgKey>, RoundOutput, Vec<Vec<u8>>)> = OnceLock::new();
    ZERO.get_or_init(|| {
        let keys = keys(1, 4);
        let (out, shares) =
            round_zero_trusted_setup_devnet_only(CHAIN, &keys, [9; 32]).expect("round 0");
        (keys, out, shares)
    })
}

/// After a reshare from `old` to `new`: the bid sealed under round 0 opens with every window of
/// a quorum of new partials, fewer recover nothing, and the old holders' shares (of those not
/// in the new set) and a foreign key's shares are not partials of the new key.
fn check_after(
    bid: &SealedBid,
    out: &RoundOutput,
    shares: &[Vec<u8>],
    old: &[DkgKey],
    old_shares: &[Vec<u8>],
    new: &[DkgKey],
) {
    let (_, out0, _) = round_zero();
    assert_eq!(out.group_key(), out0.group_key(), "same group public key");
    assert_eq!(out.players.len(), new.len());
    for (k, s) in new.iter().zip(shares) {
        assert_eq!(
            out.index_of(&k.public()),
            Some(share_index(s).expect("idx"))
        );
    }
    let sharing1 = sharing(&out.key).expect("sharing");
    let q = out.quorum as usize;
    assert_eq!(sharing1.required() as usize, q);
    for start in 0..=(new.len() - q) {
        let chosen: Vec<&Vec<u8>> = shares[start..start + q].iter().collect();
        let sig = recover(&sharing1, &partials(out, &chosen)).expect("recover");
        let opened = open_bid(&sig, Suite::Sm2, CHAIN, TENDER, &Hash([1; 32]), bid);
        assert_eq!(opened, Ok(content()), "new shares {start}..{}", start + q);
    }
    let few: Vec<&Vec<u8>> = shares[..q - 1].iter().collect();
    assert!(matches!(
        recover(&sharing1, &partials(out, &few)),
        Err(SealError::NotEnough { .. })
    ));
    let partial = |share: &[u8]| partial_sign(share, CHAIN, TENDER).expect("sign");
    for (k, s) in old.iter().zip(old_shares) {
        if !new.iter().any(|n| n.public() == k.public()) {
            assert!(
                verify_partial(&sharing1, CHAIN, TENDER, &partial(s)).is_err(),
                "an old holder that left"
            );
        }
    }
    let (_, foreign) = deal_trusted_dealer_devnet_only([77; 32], new.len() as u32).expect("deal");
    for s in &foreign {
        assert!(verify_partial(&sharing1, CHAIN, TENDER, &partial(s)).is_err());
    }
}

#[test]
fn reshare_4_to_5_then_5_to_4_keeps_the_group_key_and_old_bids_open() {
    let (old, out0, shares0) = round_zero();
    assert_eq!((out0.players.len(), out0.quorum), (4, 3));
    let bid = seal(out0);
    // 4 -> 5: one holder stays, four new keys; only a quorum (3) of the old holders deal, the
    // fourth never does.
    let mut five = vec![old[0].clone()];
    five.extend(keys(50, 4));
    let (out1, shares1) = reshare(1, out0, old, shares0, &[0, 1, 2], &five);
    assert_eq!((out1.players.len(), out1.quorum), (5, 4));
    assert_ne!(out1.key.sharing, out0.key.sharing, "new shares");
    check_after(&bid, &out1, &shares1, old, shares0, &five);
    // A non-player of the round cannot play it.
    let stranger = DkgKey::from_seed([200; 32]);
    let r = Round::new(CHAIN, 1, Some(&out0.output), &publics(old), &publics(&five)).expect("r");
    assert_eq!(r.play(&[], &stranger, [0; 32]), Err(DkgError::NotPlayer(1)));
    // 5 -> 4: the five holders reshare to four keys (two of them new); four deal (the quorum
    // of five), the fifth is absent.
    let four = vec![
        five[1].clone(),
        five[2].clone(),
        keys(90, 1)[0].clone(),
        old[3].clone(),
    ];
    let (out2, shares2) = reshare(2, &out1, &five, &shares1, &[4, 3, 2, 1], &four);
    assert_eq!((out2.players.len(), out2.quorum), (4, 3));
    check_after(&bid, &out2, &shares2, &five, &shares1, &four);
}

#[test]
fn rounds_refuse_bad_configurations_and_foreign_logs() {
    let (old, out0, shares0) = round_zero();
    let new = keys(60, 4);
    // A dealer that was not a player of the previous output.
    assert!(matches!(
        Round::new(CHAIN, 1, Some(&out0.output), &publics(&new), &publics(&new)),
        Err(DkgError::Config(_))
    ));
    // Fewer dealers than the previous quorum.
    assert!(matches!(
        Round::new(
            CHAIN,
            1,
            Some(&out0.output),
            &publics(&old[..2]),
            &publics(&new)
        ),
        Err(DkgError::Config(_))
    ));
    let r1 = Round::new(CHAIN, 1, Some(&out0.output), &publics(old), &publics(&new)).expect("r");
    assert_eq!(r1.required(), 3);
    // A reshare dealer needs its share; a non-dealer cannot deal.
    assert_eq!(
        r1.deal(&old[0], None, [0; 32]),
        Err(DkgError::MissingShare(1))
    );
    assert_eq!(
        r1.deal(&new[0], Some(&shares0[0]), [0; 32]),
        Err(DkgError::NotDealer(1))
    );
    // A log for round 1 does not identify in round 2 (round numbers are never reused), nor on
    // another chain.
    let log = r1.deal(&old[0], Some(&shares0[0]), [3; 32]).expect("deal");
    let r2 = Round::new(CHAIN, 2, Some(&out0.output), &publics(old), &publics(&new)).expect("r");
    assert_eq!(r2.identify(&log), Err(DkgError::BadLog(2)));
    let other = Round::new(
        "other",
        1,
        Some(&out0.output),
        &publics(old),
        &publics(&new),
    )
    .expect("r");
    assert_eq!(other.identify(&log), Err(DkgError::BadLog(1)));
    // A tampered log fails to decode or to identify.
    let mut bad = log.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(r1.identify(&bad).is_err());
    // Too few dealings: the round cannot finish.
    assert_eq!(r1.observe(&[log], [0; 32]), Err(DkgError::Failed(1)));
    // Keys round-trip through their bytes.
    let k = DkgKey::from_bytes(&old[0].to_bytes()).expect("key");
    assert_eq!(k.public(), old[0].public());
    assert!(DkgKey::from_bytes(&[1, 2, 3]).is_err());
}

/// Costs of the eVRF setup, deal, observe and play (run in release for meaningful numbers:
/// `cargo test --release -p xa-execution -- --ignored --nocapture dkg_cost`).
#[test]
#[ignore = "measurement, not a check"]
fn dkg_cost() {
    let t = Instant::now();
    let _ = setup();
    println!("setup (max {MAX_DKG_PLAYERS} players): {:?}", t.elapsed());
    for (n_old, n_new) in [(4u8, 5u8), (5, 4)] {
        let old = keys(1, n_old);
        let t = Instant::now();
        let (out0, shares0) =
            round_zero_trusted_setup_devnet_only(CHAIN, &old, [9; 32]).expect("0");
        println!(
            "round 0 among {n_old} (all deal, observe, all play): {:?}",
            t.elapsed()
        );
        let new = keys(50, n_new);
        let r =
            Round::new(CHAIN, 1, Some(&out0.output), &publics(&old), &publics(&new)).expect("r");
        let t = Instant::now();
        let logs: Vec<Vec<u8>> = (0..n_old as usize)
            .map(|i| {
                r.deal(&old[i], Some(&shares0[i]), [i as u8; 32])
                    .expect("deal")
            })
            .collect();
        let deal = t.elapsed() / n_old as u32;
        let t = Instant::now();
        for l in &logs {
            r.identify(l).expect("id");
        }
        let identify = t.elapsed() / n_old as u32;
        let t = Instant::now();
        let out = r.observe(&logs, [0; 32]).expect("observe");
        let observe = t.elapsed();
        let t = Instant::now();
        let (o, _) = r.play(&logs, &new[0], [0; 32]).expect("play");
        let play = t.elapsed();
        assert_eq!(o, out);
        println!(
            "reshare {n_old} -> {n_new}: deal {deal:?} each, log {} bytes, identify {identify:?}, \
             observe {observe:?} ({} logs used of {}), play {play:?}, output {} bytes",
            logs[0].len(),
            r.required(),
            logs.len(),
            out.output.len()
        );
    }
}
