//! Tender module: every acceptance scenario of applications spec §4 (1–5), the threshold
//! opening, and its attacks.

use super::*;
use xa_types::{
    Call, ChainParams, GenesisAccount, GenesisOrg, KeyPair, TxBody, modules::tender::*,
};

pub(super) const OP: u8 = 1;
pub(super) const AGENCY: u8 = 10;
pub(super) const OTHER_AGENCY: u8 = 11;
pub(super) const OWNER: u8 = 12;
pub(super) const EXPERTS: [u8; 3] = [20, 21, 22];
pub(super) const SUP: u8 = 30;
pub(super) const FOREIGN_SUPERVISOR: u8 = 31;
pub(super) const COMPANIES: [u8; 5] = [40, 41, 42, 43, 44];
pub(super) const BANK_OFFICER: u8 = 50;
const VALIDATORS: u32 = 4;
pub(super) const DAY: u64 = 24 * 60 * 60 * 1000;
const DEADLINE: u64 = 100_000;
const OPENING: u64 = 110_000;

fn key(suite: Suite, seed: u8) -> KeyPair {
    KeyPair::from_seed(suite, &[seed; 32]).expect("key")
}

pub(super) struct Bench {
    pub(super) suite: Suite,
    ex: Executor,
    pub(super) state: BTreeMap<Vec<u8>, Vec<u8>>,
    height: u64,
    pub(super) time_ms: u64,
    nonces: BTreeMap<u8, u64>,
    threshold: ThresholdKey,
    shares: Vec<Vec<u8>>,
    /// Every event and every transaction's arguments, as the node would serve them.
    served: Vec<Vec<u8>>,
    /// The state writes of the last block [`Bench::call`] executed.
    pub(super) last_writes: Writes,
}

/// The golden DKG genesis of a bench: validators, the round-0 output and its holders' shares.
pub(super) struct GoldenGenesis {
    pub(super) validators: Vec<xa_types::GenesisValidator>,
    pub(super) dkg: xa_types::modules::dkg::DkgGenesis,
    pub(super) key: ThresholdKey,
    pub(super) shares: Vec<Vec<u8>>,
    pub(super) epoch_length: u64,
}

impl Bench {
    fn new(suite: Suite) -> Self {
        Self::build(suite, None)
    }

    /// A bench whose threshold key came from a golden round 0 and is reshared on chain.
    pub(super) fn golden(suite: Suite, g: GoldenGenesis) -> Self {
        Self::build(suite, Some(g))
    }

    fn build(suite: Suite, golden: Option<GoldenGenesis>) -> Self {
        let acct = |name: &str, seed: u8, org: &str, roles: &[&str]| GenesisAccount {
            name: name.into(),
            public_key: key(suite, seed).public_key(),
            org: org.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        let org = |id: &str, founding: bool| GenesisOrg {
            id: id.into(),
            name: id.into(),
            founding,
        };
        let mut accounts = vec![
            acct("op", OP, "committee", &["chain_admin", "org_admin"]),
            acct("agency", AGENCY, "agency", &[TENDER_AGENCY]),
            acct("other agency", OTHER_AGENCY, "agency-b", &[TENDER_AGENCY]),
            acct("owner", OWNER, "owner", &["owner"]),
            acct("supervisor", SUP, "supervision", &[SUPERVISOR]),
            acct("foreign sup", FOREIGN_SUPERVISOR, "agency", &[SUPERVISOR]),
            acct("bank", BANK_OFFICER, "bank", &["bank"]),
        ];
        for (i, e) in EXPERTS.iter().enumerate() {
            accounts.push(acct(&format!("expert {i}"), *e, "experts", &[EXPERT]));
        }
        for (i, c) in COMPANIES.iter().enumerate() {
            accounts.push(acct(&format!("company {i}"), *c, "companies", &[COMPANY]));
        }
        // Trusted dealer, devnet only: the validators' threshold key (3 of 4).
        let (threshold, shares, validators, dkg, epoch_length) = match golden {
            Some(g) => (g.key, g.shares, g.validators, Some(g.dkg), g.epoch_length),
            None => {
                let (threshold, shares) =
                    sealing::deal_trusted_dealer_devnet_only([7; 32], VALIDATORS).expect("deal");
                let validators = vec![xa_types::GenesisValidator {
                    name: "v0".into(),
                    consensus_key: key(Suite::Ed25519, 0).public_key().as_bytes().to_vec(),
                    p2p_address: "127.0.0.1:9000".into(),
                }];
                (threshold, shares, validators, None, u64::MAX)
            }
        };
        let g = Genesis {
            chain_id: "test".into(),
            suite,
            genesis_time_ms: 0,
            validators,
            organizations: vec![
                org("committee", true),
                org("agency", false),
                org("agency-b", false),
                org("owner", false),
                org("supervision", false),
                org("experts", false),
                org("companies", false),
                org("bank", false),
            ],
            accounts,
            params: ChainParams {
                epoch_length,
                ..ChainParams::default()
            },
            tender_threshold_trusted_dealer_devnet_only: Some(threshold.clone()),
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: dkg,
            state_layout: Some(2),
        };
        g.validate().expect("valid genesis");
        let state: BTreeMap<Vec<u8>, Vec<u8>> = Executor::genesis_writes(&g)
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        Self {
            suite,
            ex: Executor::new(&g),
            state,
            height: 0,
            time_ms: 1_000,
            nonces: BTreeMap::new(),
            threshold,
            shares,
            served: Vec::new(),
            last_writes: Writes::new(),
        }
    }

    pub(super) fn addr(&self, seed: u8) -> Address {
        address_of(&key(self.suite, seed).public_key())
    }

    /// Execute one call by `seed` in a block at the current time; apply its writes.
    fn run<A: borsh::BorshSerialize>(&mut self, seed: u8, method: &str, a: &A) -> Receipt {
        self.call(seed, &[], Call::new(MODULE, method, a))
    }

    /// `call` signed by `seed` with its next nonce.
    fn signed(&mut self, seed: u8, call: Call) -> Transaction {
        let nonce = self.nonces.entry(seed).or_default();
        let body = TxBody {
            chain_id: "test".into(),
            sender: address_of(&key(self.suite, seed).public_key()),
            nonce: *nonce,
            expiry_height: u64::MAX,
            call,
        };
        *nonce += 1;
        body.sign(&key(self.suite, seed))
    }

    /// Execute `call` by `seed`, co-signed by `cosigners`, in a block at the current time.
    pub(super) fn call(&mut self, seed: u8, cosigners: &[u8], call: Call) -> Receipt {
        self.height += 1;
        let mut tx = self.signed(seed, call);
        for c in cosigners {
            tx.cosign(&key(self.suite, *c));
        }
        self.served.push(tx.body.call.args.clone());
        self.served.push(encode(&tx));
        let out = self
            .ex
            .execute_block(
                &self.state,
                BlockContext {
                    height: self.height,
                    time_ms: self.time_ms,
                },
                std::slice::from_ref(&tx),
                Mode::Verify,
            )
            .expect("executes");
        self.last_writes = out.writes.clone();
        for (k, v) in out.writes {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        let r = out.receipts.into_iter().next().expect("receipt");
        self.served.push(encode(&r));
        r
    }

    /// Execute `calls` `(signer, call)` as the transactions of one block at the current time;
    /// returns their hashes (block order) and the block's outcome, whose writes are applied.
    pub(super) fn block(&mut self, calls: Vec<(u8, Call)>) -> (Vec<Hash>, BlockOutcome) {
        self.height += 1;
        let txs: Vec<Transaction> = calls
            .into_iter()
            .map(|(seed, call)| self.signed(seed, call))
            .collect();
        let out = self
            .ex
            .execute_block(
                &self.state,
                BlockContext {
                    height: self.height,
                    time_ms: self.time_ms,
                },
                &txs,
                Mode::Verify,
            )
            .expect("executes");
        for (k, v) in &out.writes {
            match v {
                Some(v) => self.state.insert(k.clone(), v.clone()),
                None => self.state.remove(k),
            };
        }
        (txs.iter().map(|t| t.hash(self.suite)).collect(), out)
    }

    pub(super) fn ok<A: borsh::BorshSerialize>(
        &mut self,
        seed: u8,
        method: &str,
        a: &A,
    ) -> Receipt {
        let r = self.run(seed, method, a);
        assert_eq!(
            r.status,
            TxStatus::Success,
            "{method}: {} {}",
            r.code,
            r.message
        );
        r
    }

    pub(super) fn fails<A: borsh::BorshSerialize>(
        &mut self,
        seed: u8,
        method: &str,
        a: &A,
        code: ErrorCode,
    ) -> String {
        let r = self.run(seed, method, a);
        assert_eq!(
            r.status,
            TxStatus::Failed,
            "{method} should fail with {code}"
        );
        assert_eq!(r.code, code.as_str(), "{method}: {}", r.message);
        r.message
    }

    /// A call refused at admission (stateless checks): never enters a block.
    pub(super) fn rejected<A: borsh::BorshSerialize>(
        &self,
        seed: u8,
        method: &str,
        a: &A,
        code: ErrorCode,
    ) -> String {
        let body = TxBody {
            chain_id: "test".into(),
            sender: self.addr(seed),
            nonce: 0,
            expiry_height: u64::MAX,
            call: Call::new(MODULE, method, a),
        };
        let e = self
            .ex
            .check_stateless(&body.sign(&key(self.suite, seed)))
            .expect_err(method);
        assert_eq!(e.code, code, "{}", e.message);
        e.message
    }

    pub(super) fn tender(&self, id: u64) -> Tender {
        decode(&self.state[&tender_key(id)]).expect("tender")
    }

    fn publish(&mut self) -> u64 {
        let experts = EXPERTS.iter().map(|e| self.addr(*e)).collect();
        let owner = self.addr(OWNER);
        self.ok(
            AGENCY,
            PUBLISH,
            &PublishArgs {
                title: "Rongdong school, lot 3".into(),
                documents_digest: Hash([5; 32]),
                owner,
                deadline_ms: DEADLINE,
                opening_ms: OPENING,
                min_bidders: MIN_BIDDERS,
                experts,
                supervisor_org: "supervision".into(),
            },
        );
        self.tender(self.tender_count()).id
    }

    fn tender_count(&self) -> u64 {
        decode::<u64>(&self.state[NEXT_ID_KEY]).expect("id") - 1
    }

    fn content(price: u64, salt: u8) -> BidContent {
        BidContent {
            price,
            proposal_digest: Hash([salt; 32]),
            salt: [salt; 32],
        }
    }

    fn sealed(&self, tender: u64, seed: u8, content: &BidContent) -> SealedBid {
        let bidder = self.addr(seed);
        sealing::seal_bid(
            &self.threshold,
            self.suite,
            "test",
            tender,
            &bidder,
            content,
            [seed.wrapping_add(content.salt[0]); 32],
        )
        .expect("seal")
    }

    fn bid(&mut self, tender: u64, seed: u8, price: u64) -> Receipt {
        let bid = self.sealed(tender, seed, &Self::content(price, seed));
        self.run(seed, SUBMIT_BID, &SubmitBidArgs { tender, bid })
    }

    fn share(&mut self, tender: u64, i: usize) -> Receipt {
        let partial = sealing::partial_sign(&self.shares[i], "test", tender).expect("sign");
        self.run(OP, OPEN_SHARE, &OpenShareArgs { tender, partial })
    }

    fn close_and_open(&mut self, tender: u64) {
        self.time_ms = DEADLINE;
        self.ok(AGENCY, CLOSE, &TenderIdArgs { tender });
        self.time_ms = OPENING;
        for i in 0..3 {
            let r = self.share(tender, i);
            assert_eq!(r.status, TxStatus::Success, "{}", r.message);
        }
    }

    fn opening(&self, tender: u64) -> Opening {
        decode(&self.state[&opening_key(tender)]).expect("opening")
    }

    /// Everything the chain stores or serves: state values, transactions, receipts, events.
    fn everything(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = self.state.values().cloned().collect();
        v.extend(self.served.iter().cloned());
        v
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A tender with three bids (prices 300, 200, 100 yuan), opened.
fn opened(suite: Suite) -> (Bench, u64) {
    let mut b = Bench::new(suite);
    let t = b.publish();
    for (i, c) in COMPANIES[..3].iter().enumerate() {
        let r = b.bid(t, *c, 30_000 - 10_000 * i as u64);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    b.close_and_open(t);
    (b, t)
}

#[test]
fn s1_before_the_deadline_nothing_stored_or_served_reveals_a_bid() {
    for suite in [Suite::Ed25519, Suite::Sm2] {
        let mut b = Bench::new(suite);
        let t = b.publish();
        let secret_price: u64 = 0x5EC2_E7B1_D000_0001;
        let content = Bench::content(secret_price, 0xAB);
        let bid = b.sealed(t, COMPANIES[0], &content);
        b.ok(COMPANIES[0], SUBMIT_BID, &SubmitBidArgs { tender: t, bid });
        b.bid(t, COMPANIES[1], 1);
        b.bid(t, COMPANIES[2], 2);
        let plaintext = encode(&content);
        let price = secret_price.to_le_bytes();
        for item in b.everything() {
            assert!(!contains(&item, &plaintext), "plaintext bid found");
            assert!(!contains(&item, &price), "price found");
            assert!(!contains(&item, &content.salt), "salt found");
        }
        // Even after the deadline and close, with fewer than the threshold of shares (2 of
        // the 3 needed) nothing opens, and nothing can be decrypted with what is on chain.
        b.time_ms = DEADLINE;
        b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
        b.time_ms = OPENING;
        for i in 0..2 {
            let r = b.share(t, i);
            assert_eq!(r.status, TxStatus::Success);
        }
        assert!(!b.state.contains_key(&opening_key(t)));
        assert_eq!(b.tender(t).status, TenderStatus::Closed);
        for item in b.everything() {
            assert!(!contains(&item, &price), "price found below threshold");
        }
        // A partial signature is not the group signature: it decrypts nothing.
        let sharing = sealing::sharing(&b.threshold).expect("sharing");
        let bidder = b.addr(COMPANIES[0]);
        let stored: Bid = decode(&b.state[&bid_key(t, &bidder)]).expect("bid");
        let partial = sealing::partial_sign(&b.shares[0], "test", t).expect("partial");
        let (_, p) = sealing::verify_partial(&sharing, "test", t, &partial).expect("verify");
        assert_eq!(
            sealing::open_bid(&p.value, suite, "test", t, &bidder, &stored.sealed),
            Err(sealing::SealError::Undecryptable)
        );
        assert!(matches!(
            sealing::recover(&sharing, &[p]),
            Err(sealing::SealError::NotEnough { need: 3, have: 1 })
        ));
        // The third share opens everything at once, and the price appears only then.
        let r = b.share(t, 2);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
        let o = b.opening(t);
        assert_eq!(o.valid, 3);
        let first = o.bids.iter().find(|x| x.bidder == bidder).expect("bid");
        assert_eq!(first.content.as_ref().map(|c| c.price), Some(secret_price));
    }
}

#[test]
fn s2_late_bid_rejected_by_block_time_and_only_latest_bid_counts() {
    let mut b = Bench::new(Suite::Ed25519);
    let t = b.publish();
    let c = COMPANIES[0];
    assert_eq!(b.bid(t, c, 50_000).status, TxStatus::Success);
    // Replaced: only the latest counts.
    let r = b.bid(t, c, 40_000);
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(r.events[0].kind, "bid_replaced");
    assert_eq!(b.tender(t).bidders.len(), 1);
    // Withdrawn and re-submitted before the deadline.
    b.ok(
        COMPANIES[1],
        SUBMIT_BID,
        &SubmitBidArgs {
            tender: t,
            bid: b.sealed(t, COMPANIES[1], &Bench::content(1, 1)),
        },
    );
    b.ok(COMPANIES[1], WITHDRAW_BID, &TenderIdArgs { tender: t });
    assert_eq!(b.tender(t).bidders.len(), 1);
    assert_eq!(b.bid(t, COMPANIES[1], 45_000).status, TxStatus::Success);
    // One millisecond before the deadline is in time.
    b.time_ms = DEADLINE - 1;
    assert_eq!(b.bid(t, COMPANIES[2], 60_000).status, TxStatus::Success);
    // A bid in the block whose consensus time is the deadline is late, whatever a node's
    // clock says: the same block executes the same on every node.
    b.time_ms = DEADLINE;
    let bid = b.sealed(t, COMPANIES[3], &Bench::content(1, 3));
    let msg = b.fails(
        COMPANIES[3],
        SUBMIT_BID,
        &SubmitBidArgs { tender: t, bid },
        ErrorCode::DeadlinePassed,
    );
    assert!(msg.contains("deadline"), "{msg}");
    b.close_and_open(t);
    let o = b.opening(t);
    assert_eq!(o.valid, 3);
    let price = |seed: u8| {
        let a = b.addr(seed);
        o.bids
            .iter()
            .find(|x| x.bidder == a)
            .and_then(|x| x.content.as_ref())
            .map(|c| c.price)
    };
    assert_eq!(price(c), Some(40_000));
    assert_eq!(price(COMPANIES[1]), Some(45_000));
    assert_eq!(price(COMPANIES[3]), None);
}

#[test]
fn s3_no_change_after_deadline_and_mismatched_commitment_counts_as_withdrawn() {
    let mut b = Bench::new(Suite::Sm2);
    let t = b.publish();
    for c in &COMPANIES[..3] {
        assert_eq!(b.bid(t, *c, 10_000 + *c as u64).status, TxStatus::Success);
    }
    // A bid whose commitment does not match what it encrypts.
    let mut bad = b.sealed(t, COMPANIES[3], &Bench::content(5, 9));
    bad.commitment = Hash([0; 32]);
    b.ok(
        COMPANIES[3],
        SUBMIT_BID,
        &SubmitBidArgs {
            tender: t,
            bid: bad,
        },
    );
    // A bid copied from another bidder does not decrypt for the copier (bound to the bidder).
    let stolen: Bid = decode(&b.state[&bid_key(t, &b.addr(COMPANIES[0]))]).expect("bid");
    b.ok(
        COMPANIES[4],
        SUBMIT_BID,
        &SubmitBidArgs {
            tender: t,
            bid: stolen.sealed,
        },
    );
    b.time_ms = DEADLINE;
    b.fails(
        COMPANIES[0],
        WITHDRAW_BID,
        &TenderIdArgs { tender: t },
        ErrorCode::DeadlinePassed,
    );
    let replacement = b.sealed(t, COMPANIES[0], &Bench::content(1, 1));
    b.fails(
        COMPANIES[0],
        SUBMIT_BID,
        &SubmitBidArgs {
            tender: t,
            bid: replacement,
        },
        ErrorCode::DeadlinePassed,
    );
    b.close_and_open(t);
    let o = b.opening(t);
    assert_eq!(o.bids.len(), 5);
    assert_eq!(o.valid, 3);
    let find = |seed: u8| {
        o.bids
            .iter()
            .find(|x| x.bidder == b.addr(seed))
            .expect("bid")
            .clone()
    };
    assert!(find(COMPANIES[3]).invalid_reason.contains("commitment"));
    assert!(
        find(COMPANIES[4])
            .invalid_reason
            .contains("does not decrypt")
    );
    assert_eq!(find(COMPANIES[0]).content.map(|c| c.price), Some(10_040));
}

#[test]
fn s4_all_bids_open_together_and_fewer_than_three_fail() {
    let (b, t) = opened(Suite::Ed25519);
    let o = b.opening(t);
    assert_eq!(o.valid, 3);
    assert!(o.bids.iter().all(|x| x.content.is_some()));
    assert_eq!(b.tender(t).status, TenderStatus::Evaluating);

    // Two bids: the tender fails at close.
    let mut b = Bench::new(Suite::Ed25519);
    let t = b.publish();
    b.bid(t, COMPANIES[0], 1);
    b.bid(t, COMPANIES[1], 2);
    b.time_ms = DEADLINE;
    b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
    assert_eq!(b.tender(t).status, TenderStatus::Failed);
    b.time_ms = OPENING;
    assert_eq!(b.share(t, 0).code, "INVALID_STATE");

    // Three bids, one invalid: fewer than three valid, the tender fails at opening.
    let mut b = Bench::new(Suite::Ed25519);
    let t = b.publish();
    b.bid(t, COMPANIES[0], 1);
    b.bid(t, COMPANIES[1], 2);
    let mut bad = b.sealed(t, COMPANIES[2], &Bench::content(3, 3));
    bad.ciphertext[0] ^= 1;
    b.ok(
        COMPANIES[2],
        SUBMIT_BID,
        &SubmitBidArgs {
            tender: t,
            bid: bad,
        },
    );
    b.close_and_open(t);
    assert_eq!(b.opening(t).valid, 2);
    assert_eq!(b.tender(t).status, TenderStatus::Failed);
}

/// Score the candidate by every expert and publicize it.
pub(super) fn publicized(suite: Suite) -> (Bench, u64, Address) {
    let (mut b, t) = opened(suite);
    let candidate = b.addr(COMPANIES[2]);
    let too_early = PublicizeArgs {
        tender: t,
        candidate,
        duration_ms: MIN_PUBLICITY_MS,
    };
    b.fails(AGENCY, PUBLICIZE, &too_early, ErrorCode::InvalidState);
    for e in EXPERTS {
        b.ok(
            e,
            SCORE,
            &ScoreArgs {
                tender: t,
                bidder: candidate,
                items: vec![("price".into(), 60), ("technical".into(), 30)],
            },
        );
    }
    let short = PublicizeArgs {
        tender: t,
        candidate,
        duration_ms: MIN_PUBLICITY_MS - 1,
    };
    let msg = b.fails(AGENCY, PUBLICIZE, &short, ErrorCode::InvalidArgument);
    assert!(msg.contains("args.duration_ms"), "{msg}");
    b.ok(AGENCY, PUBLICIZE, &too_early);
    (b, t, candidate)
}

#[test]
fn s5_no_award_before_three_days_of_publicity_nor_while_an_objection_is_open() {
    let (mut b, t, candidate) = publicized(Suite::Ed25519);
    let start = b.time_ms;
    b.fails(
        AGENCY,
        AWARD,
        &TenderIdArgs { tender: t },
        ErrorCode::TooEarly,
    );
    // Day 1: an objection pauses the process.
    b.time_ms = start + DAY;
    let objection = ObjectArgs {
        tender: t,
        reason: "qualification forged".into(),
        document_digest: Hash([8; 32]),
    };
    // Only the tender's bidders may object: a company that did not bid is refused, and the
    // publicity runs on.
    let msg = b.fails(
        COMPANIES[3],
        OBJECT,
        &objection,
        ErrorCode::PermissionDenied,
    );
    assert!(
        msg.contains("body.sender") && msg.contains("bidders"),
        "{msg}"
    );
    assert_eq!(b.tender(t).status, TenderStatus::Publicity);
    assert_eq!(b.tender(t).objections, 0);
    b.ok(COMPANIES[0], OBJECT, &objection);
    assert_eq!(b.tender(t).status, TenderStatus::Suspended);
    // Day 4: publicity would have ended, but the objection is open.
    b.time_ms = start + 4 * DAY;
    let msg = b.fails(
        AGENCY,
        AWARD,
        &TenderIdArgs { tender: t },
        ErrorCode::InvalidState,
    );
    assert!(msg.contains("SUSPENDED"), "{msg}");
    // Only the tender's own supervisory department answers.
    let ans = AnswerArgs {
        tender: t,
        objection: 0,
        answer_digest: Hash([9; 32]),
    };
    b.fails(
        FOREIGN_SUPERVISOR,
        ANSWER,
        &ans,
        ErrorCode::PermissionDenied,
    );
    b.ok(SUP, ANSWER, &ans);
    b.fails(SUP, ANSWER, &ans, ErrorCode::AlreadyExists);
    let tender = b.tender(t);
    assert_eq!(tender.status, TenderStatus::Publicity);
    // The 3 days of suspension do not count: publicity now ends on day 6.
    let end = tender.publicity.expect("publicity").end_ms;
    assert_eq!(end, start + 6 * DAY);
    b.time_ms = end - 1;
    b.fails(
        AGENCY,
        AWARD,
        &TenderIdArgs { tender: t },
        ErrorCode::TooEarly,
    );
    b.time_ms = end;
    // Only the publishing agency's organization awards.
    b.fails(
        OTHER_AGENCY,
        AWARD,
        &TenderIdArgs { tender: t },
        ErrorCode::PermissionDenied,
    );
    b.ok(AGENCY, AWARD, &TenderIdArgs { tender: t });
    let award = b.tender(t).award.expect("award");
    assert_eq!(award.winner, candidate);
    assert_eq!(award.price, 10_000);
    assert_eq!(b.tender(t).status, TenderStatus::Awarded);
}

#[test]
fn partials_from_non_validators_duplicates_and_invalid_ones_do_not_count() {
    let mut b = Bench::new(Suite::Ed25519);
    let t = b.publish();
    for c in &COMPANIES[..3] {
        b.bid(t, *c, 1_000);
    }
    b.time_ms = DEADLINE;
    b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
    // Before the opening time: too early.
    b.time_ms = OPENING - 1;
    assert_eq!(b.share(t, 0).code, "TOO_EARLY");
    b.time_ms = OPENING;
    // A non-validator: a share of another dealing (same indices, other key).
    let (_, foreign) = sealing::deal_trusted_dealer_devnet_only([9; 32], VALIDATORS).expect("deal");
    let partial = sealing::partial_sign(&foreign[0], "test", t).expect("sign");
    let msg = b.fails(
        OP,
        OPEN_SHARE,
        &OpenShareArgs { tender: t, partial },
        ErrorCode::InvalidArgument,
    );
    assert!(msg.contains("args.partial"), "{msg}");
    // A validator's partial for another tender, or garbage.
    let other = sealing::partial_sign(&b.shares[0], "test", t + 1).expect("sign");
    b.fails(
        OP,
        OPEN_SHARE,
        &OpenShareArgs {
            tender: t,
            partial: other,
        },
        ErrorCode::InvalidArgument,
    );
    b.fails(
        OP,
        OPEN_SHARE,
        &OpenShareArgs {
            tender: t,
            partial: vec![0; 100],
        },
        ErrorCode::InvalidArgument,
    );
    // A duplicate.
    assert_eq!(b.share(t, 0).status, TxStatus::Success);
    assert_eq!(b.share(t, 0).code, "ALREADY_EXISTS");
    assert_eq!(b.share(t, 1).status, TxStatus::Success);
    assert!(
        !b.state.contains_key(&opening_key(t)),
        "two valid shares must not open"
    );
    assert_eq!(b.share(t, 3).status, TxStatus::Success);
    let o = b.opening(t);
    assert_eq!(o.shares, vec![0, 1, 3]);
    assert_eq!(o.valid, 3);
    // A late share (its validator raced the others) is checked, then accepted without effect;
    // an invalid one is still refused.
    let before = b.state.get(&opening_key(t)).cloned();
    let r = b.share(t, 2);
    assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    assert!(r.events.iter().any(|e| e.kind == "share_unneeded"));
    assert_eq!(b.state.get(&opening_key(t)).cloned(), before);
    let partial = sealing::partial_sign(&foreign[0], "test", t).expect("sign");
    b.fails(
        OP,
        OPEN_SHARE,
        &OpenShareArgs { tender: t, partial },
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn roles_gate_every_transition() {
    let mut b = Bench::new(Suite::Ed25519);
    let owner = b.addr(OWNER);
    let experts: Vec<Address> = EXPERTS.iter().map(|e| b.addr(*e)).collect();
    let args = PublishArgs {
        title: "t".into(),
        documents_digest: Hash([1; 32]),
        owner,
        deadline_ms: DEADLINE,
        opening_ms: OPENING,
        min_bidders: 3,
        experts: experts.clone(),
        supervisor_org: "supervision".into(),
    };
    b.fails(COMPANIES[0], PUBLISH, &args, ErrorCode::PermissionDenied);
    let msg = b.rejected(
        AGENCY,
        PUBLISH,
        &PublishArgs {
            min_bidders: 2,
            ..args.clone()
        },
        ErrorCode::InvalidArgument,
    );
    assert!(msg.contains("args.min_bidders"), "{msg}");
    let msg = b.fails(
        AGENCY,
        PUBLISH,
        &PublishArgs {
            experts: vec![owner],
            ..args.clone()
        },
        ErrorCode::InvalidArgument,
    );
    assert!(msg.contains("args.experts[0]"), "{msg}");
    let t = b.publish();
    // An agency may not bid; an expert not on the committee may not score.
    let bid = b.sealed(t, AGENCY, &Bench::content(1, 1));
    b.fails(
        AGENCY,
        SUBMIT_BID,
        &SubmitBidArgs { tender: t, bid },
        ErrorCode::PermissionDenied,
    );
    b.fails(
        AGENCY,
        CLOSE,
        &TenderIdArgs { tender: t },
        ErrorCode::TooEarly,
    );
    b.time_ms = DEADLINE;
    b.fails(
        OTHER_AGENCY,
        CLOSE,
        &TenderIdArgs { tender: t },
        ErrorCode::PermissionDenied,
    );
    // A tender that does not exist has no `own` organization: the policy cannot be met.
    b.fails(
        AGENCY,
        CLOSE,
        &TenderIdArgs { tender: 99 },
        ErrorCode::PermissionDenied,
    );
    let bid = b.sealed(99, COMPANIES[0], &Bench::content(1, 1));
    b.fails(
        COMPANIES[0],
        SUBMIT_BID,
        &SubmitBidArgs { tender: 99, bid },
        ErrorCode::NotFound,
    );
}

#[test]
fn a_devnet_genesis_may_shorten_publicity_and_real_chains_keep_three_days() {
    // Real chains: no override in state, 3 days.
    let (mut b, t) = opened(Suite::Ed25519);
    assert!(!b.state.contains_key(MIN_PUBLICITY_KEY));
    let candidate = b.addr(COMPANIES[2]);
    for e in EXPERTS {
        b.ok(
            e,
            SCORE,
            &ScoreArgs {
                tender: t,
                bidder: candidate,
                items: vec![("price".into(), 60)],
            },
        );
    }
    let minute = PublicizeArgs {
        tender: t,
        candidate,
        duration_ms: 60_000,
    };
    b.fails(AGENCY, PUBLICIZE, &minute, ErrorCode::InvalidArgument);
    // A devnet genesis with `tender_min_publicity_ms_devnet_only` writes the override.
    let mut g = Genesis {
        chain_id: "t".into(),
        suite: Suite::Ed25519,
        genesis_time_ms: 0,
        validators: vec![],
        organizations: vec![],
        accounts: vec![],
        params: ChainParams::default(),
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    };
    assert!(!Executor::genesis_writes(&g).contains_key(MIN_PUBLICITY_KEY));
    g.tender_min_publicity_ms_devnet_only = Some(60_000);
    let w = Executor::genesis_writes(&g);
    b.state.insert(
        MIN_PUBLICITY_KEY.to_vec(),
        w[MIN_PUBLICITY_KEY].clone().expect("written"),
    );
    b.ok(AGENCY, PUBLICIZE, &minute);
    b.time_ms += 60_000;
    b.ok(AGENCY, AWARD, &TenderIdArgs { tender: t });
}

/// Cost of opening a tender with 100 bids (the transaction that reaches the threshold decrypts
/// them all). `cargo test -p xa-execution --release -- --ignored --nocapture opening_cost`.
#[test]
#[ignore = "measurement, not a check"]
fn opening_cost_of_100_bids() {
    let mut b = Bench::new(Suite::Ed25519);
    let t = b.publish();
    let bidder_seeds: Vec<u8> = (100..200).collect();
    // Register 100 companies directly in state (as genesis would).
    for s in &bidder_seeds {
        let k = key(b.suite, *s);
        let acct = xa_types::modules::accounts::Account {
            keys: vec![k.public_key()],
            name: format!("bidder {s}"),
            org: "companies".into(),
            roles: vec![COMPANY.into()],
            ..Default::default()
        };
        let addr = address_of(&k.public_key());
        b.state.insert(
            xa_types::modules::accounts::account_key(&addr),
            encode(&acct),
        );
        b.state.insert(
            xa_types::modules::identity::key_index_key(&k.public_key()),
            addr.0.to_vec(),
        );
    }
    for s in &bidder_seeds {
        let r = b.bid(t, *s, 1_000 + u64::from(*s));
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    b.time_ms = DEADLINE;
    b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
    b.time_ms = OPENING;
    b.share(t, 0);
    b.share(t, 1);
    let start = std::time::Instant::now();
    let r = b.share(t, 2);
    let took = start.elapsed();
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(b.opening(t).valid, 100);
    println!("opening 100 bids in one transaction: {took:?}");
}

/// Execute an empty block at `height` (e.g. an epoch's last block, where the next set comes
/// into force).
fn empty_block(b: &mut Bench, height: u64) {
    b.height = height;
    let out =
        b.ex.execute_block(
            &b.state,
            BlockContext {
                height,
                time_ms: b.time_ms,
            },
            &[],
            Mode::Verify,
        )
        .expect("executes");
    for (k, v) in out.writes {
        match v {
            Some(v) => b.state.insert(k, v),
            None => b.state.remove(&k),
        };
    }
}

fn has_event(r: &Receipt, kind: &str) -> bool {
    r.events.iter().any(|e| e.kind == kind)
}

/// Genesis validator `i` of the reshare benches.
fn reshare_validator(i: u8) -> xa_types::GenesisValidator {
    xa_types::GenesisValidator {
        name: format!("v{i}"),
        consensus_key: key(Suite::Ed25519, 100 + i)
            .public_key()
            .as_bytes()
            .to_vec(),
        p2p_address: format!("127.0.0.1:{}", 9000 + i as u16),
    }
}

/// The operator proposes `action` (executed at once where one approval meets the policy).
fn reshare_govern(b: &mut Bench, action: xa_types::modules::governance::ProposalAction) -> Receipt {
    use xa_types::modules::governance::{self as gov, ProposeArgs};
    let r = b.call(
        OP,
        &[],
        Call::new(
            gov::MODULE,
            gov::PROPOSE,
            &ProposeArgs {
                action,
                expires_at_ms: 10 * DAY,
            },
        ),
    );
    assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    r
}

/// A bench whose tender key is round 0 of [`super::reshare_tests::round_zero`], held by four
/// genesis validators, with epochs of `epoch_length` blocks.
fn reshare_bench(suite: Suite, epoch_length: u64) -> Bench {
    use xa_types::modules::dkg::{DkgGenesis, RegisterKeyArgs};
    let (old, out0, shares0) = super::reshare_tests::round_zero();
    let validators: Vec<_> = (0..4).map(reshare_validator).collect();
    Bench::golden(
        suite,
        GoldenGenesis {
            dkg: DkgGenesis {
                output: out0.output.clone(),
                keys: validators
                    .iter()
                    .zip(old.iter())
                    .map(|(v, k)| RegisterKeyArgs {
                        consensus_key: v.consensus_key.clone(),
                        dkg_key: k.public(),
                    })
                    .collect(),
            },
            validators,
            key: out0.key.clone(),
            shares: shares0.clone(),
            epoch_length,
        },
    )
}

/// Issue #5: a tender sealed before a validator-set change opens after it with the new set's
/// shares, under the same group key; the set change lands before the reshare finishes, so the
/// old holders keep signing until the new output is on chain, and their partials stop counting
/// after it.
#[test]
fn a_bid_sealed_before_a_validator_set_change_opens_with_the_new_sets_shares() {
    use super::reshare::{self, DkgKey, RoundOutput};
    use super::reshare_tests::round_zero;
    use xa_types::modules::{
        dkg::{self as d, DkgOutput, DkgRound, RegisterKeyArgs, RoundStatus},
        governance::{self as gov, ProposalAction, ProposalIdArgs, ProposeArgs},
        validators::{NEXT_KEY, SET_KEY, ValidatorSet},
    };
    const EPOCH: u64 = 1_000;
    let (old, out0, shares0) = round_zero();
    let validator = reshare_validator;
    let mut b = reshare_bench(Suite::Sm2, EPOCH);
    let t = b.publish();
    for (i, c) in COMPANIES[..3].iter().enumerate() {
        let r = b.bid(t, *c, 1_000 + i as u64);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    let group_key = out0.group_key().expect("group key");

    // Governance adds a fifth validator. Its DKG key is not registered yet: no round opens.
    let newcomer = DkgKey::from_seed([42; 32]);
    let v4 = validator(4);
    let propose = Call::new(
        gov::MODULE,
        gov::PROPOSE,
        &ProposeArgs {
            action: ProposalAction::AddValidator {
                validator: v4.clone(),
            },
            expires_at_ms: 10 * DAY,
        },
    );
    let r = b.call(OP, &[], propose);
    assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    if !b.state.contains_key(NEXT_KEY) {
        let r = b.call(
            OP,
            &[],
            Call::new(gov::MODULE, gov::APPROVE, &ProposalIdArgs { id: 1 }),
        );
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    assert!(b.state.contains_key(NEXT_KEY));
    assert!(!b.state.contains_key(d::ROUND_KEY));
    // Registering the key (chain_admin) opens round 1: dealers the four holders, players five.
    let register = RegisterKeyArgs {
        consensus_key: v4.consensus_key.clone(),
        dkg_key: newcomer.public(),
    };
    let r = b.call(
        AGENCY,
        &[],
        Call::new(d::MODULE, d::REGISTER_KEY, &register),
    );
    assert_eq!(
        r.code,
        ErrorCode::PermissionDenied.as_str(),
        "{}",
        r.message
    );
    let r = b.call(OP, &[], Call::new(d::MODULE, d::REGISTER_KEY, &register));
    assert!(has_event(&r, "round_opened"), "{}", r.message);
    let record: DkgRound = decode(&b.state[d::ROUND_KEY]).expect("round");
    assert_eq!(
        (
            record.round,
            record.dealers.len(),
            record.players.len(),
            record.required
        ),
        (1, 4, 5, 3)
    );

    // The set changes at the epoch boundary before anyone dealt.
    empty_block(&mut b, EPOCH - 1);
    let set: ValidatorSet = decode(&b.state[SET_KEY]).expect("set");
    assert_eq!(set.validators.len(), 5);
    // Opening time: the old holders' key is still in force; one old partial is accepted.
    b.time_ms = DEADLINE;
    b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
    b.time_ms = OPENING;
    let r = b.share(t, 0);
    assert_eq!(r.status, TxStatus::Success, "{}", r.message);

    // Dealers deal (the transactions may come from any account: the log's signature counts).
    let round = crate::dkg::round_of("test", &record, &out0.output).expect("round");
    let deal = |b: &mut Bench, log: Vec<u8>| {
        b.call(
            OP,
            &[],
            Call::new(d::MODULE, d::DEAL, &d::DealArgs { round: 1, log }),
        )
    };
    // A player that holds no share is not a dealer.
    assert_eq!(
        round.deal(&newcomer, Some(&shares0[0]), [9; 32]),
        Err(reshare::DkgError::NotDealer(1))
    );
    let log0 = round
        .deal(&old[0], Some(&shares0[0]), [10; 32])
        .expect("deal");
    let r = deal(&mut b, log0.clone());
    assert!(has_event(&r, "dealt"), "{}", r.message);
    assert_eq!(deal(&mut b, log0).code, ErrorCode::AlreadyExists.as_str());
    let mut tampered = round
        .deal(&old[1], Some(&shares0[1]), [11; 32])
        .expect("deal");
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(deal(&mut b, tampered).status, TxStatus::Failed);
    let finish_with = |b: &mut Bench, logs: u32| {
        b.call(
            OP,
            &[],
            Call::new(d::MODULE, d::FINISH, &d::FinishArgs { round: 1, logs }),
        )
    };
    let finish = |b: &mut Bench| finish_with(b, 3);
    // Dealers 1 and 2 complete the set `finish` will use; dealer 3 deals too, after them.
    let r = deal(
        &mut b,
        round
            .deal(&old[1], Some(&shares0[1]), [12; 32])
            .expect("deal"),
    );
    assert!(has_event(&r, "dealt"), "{}", r.message);
    assert_eq!(finish(&mut b).code, ErrorCode::InvalidState.as_str());
    let r = deal(
        &mut b,
        round
            .deal(&old[2], Some(&shares0[2]), [13; 32])
            .expect("deal"),
    );
    assert!(has_event(&r, "logs_complete"), "{} {}", r.code, r.message);
    let late = round
        .deal(&old[3], Some(&shares0[3]), [14; 32])
        .expect("deal");
    let r = deal(&mut b, late.clone());
    assert!(has_event(&r, "dealt"), "{} {}", r.code, r.message);
    // `finish` names how many logs it uses: from `required` to those on chain.
    for logs in [2, 5] {
        let r = finish_with(&mut b, logs);
        assert_eq!(r.code, ErrorCode::InvalidArgument.as_str(), "{}", r.message);
        assert!(r.message.contains("args.logs"), "{}", r.message);
    }
    // A node computes the output off the consensus path (as after committing that block)...
    let mut record: DkgRound = decode(&b.state[d::ROUND_KEY]).expect("round");
    assert_eq!(record.dealt.len(), 4);
    record.dealt.truncate(3);
    let agreed = crate::dkg::logs_of(&b.state, &record).expect("logs");
    let t0 = std::time::Instant::now();
    let ahead = crate::dkg::observe_round("test", Suite::Sm2, &record, &out0.output, &agreed)
        .expect("observe");
    let cold = t0.elapsed();
    // ...so executing `finish` finds it memoized, and puts the same output in force.
    let t0 = std::time::Instant::now();
    let r = finish(&mut b);
    let warm = t0.elapsed();
    assert!(has_event(&r, "reshared"), "{} {}", r.code, r.message);
    println!("observe off the consensus path {cold:?}, finish executed in {warm:?}");
    assert_eq!(finish(&mut b).code, ErrorCode::InvalidState.as_str());
    assert!(!b.state.contains_key(d::ROUND_KEY));
    // No round is open any more: a dealing is refused.
    assert_eq!(deal(&mut b, late).code, ErrorCode::InvalidState.as_str());
    let done: DkgRound = decode(&b.state[&d::round_key(1)]).expect("record");
    assert_eq!(done.status, RoundStatus::Done);
    assert_eq!(
        done.dealt.len(),
        3,
        "the record keeps the logs the output used"
    );
    let in_force: DkgOutput = decode(&b.state[d::OUTPUT_KEY]).expect("output");
    let out1 = RoundOutput::decode(in_force.round, &in_force.output).expect("decode");
    assert_eq!(
        out1.group_key().expect("group key"),
        group_key,
        "same group key"
    );
    let key1: ThresholdKey = decode(&b.state[THRESHOLD_KEY]).expect("key");
    assert_eq!(key1, out1.key);
    assert_ne!(key1, out0.key);
    assert_eq!(out1, ahead);

    // Players recover their shares from the logs on chain (the agreed set).
    let logs = crate::dkg::logs_of(&b.state, &done).expect("logs");
    assert_eq!(logs.len(), 3);
    let play = |k: &DkgKey| {
        let (o, share) = round.play(&logs, k, [0; 32]).expect("play");
        assert_eq!(o, out1, "the player's output is the one on chain");
        share
    };
    // An old holder's partial no longer verifies under the key in force.
    b.shares = vec![shares0[1].clone()];
    assert_eq!(b.share(t, 0).code, ErrorCode::InvalidArgument.as_str());
    // Four of the five new holders (the quorum): the newcomer and three old validators.
    b.shares = vec![play(&newcomer), play(&old[3]), play(&old[1]), play(&old[0])];
    let r = b.share(t, 0);
    assert!(
        has_event(&r, "shares_discarded"),
        "the old partial does not count"
    );
    for i in 1..3 {
        let r = b.share(t, i);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
        assert!(
            !b.state.contains_key(&opening_key(t)),
            "below the threshold"
        );
    }
    let r = b.share(t, 3);
    assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    let opening = b.opening(t);
    assert_eq!(opening.valid, 3);
    let mut prices: Vec<u64> = opening
        .bids
        .iter()
        .map(|o| o.content.as_ref().expect("opened").price)
        .collect();
    prices.sort();
    assert_eq!(prices, vec![1_000, 1_001, 1_002]);
}

/// Rounds follow the decided set: a second change supersedes the open round, a change back to
/// the holders closes it, and round numbers only grow (never reused).
#[test]
fn reshare_rounds_follow_the_decided_set_and_never_reuse_numbers() {
    use super::reshare::DkgKey;
    use xa_types::modules::{
        dkg::{self as d, DkgRound, RegisterKeyArgs, RoundStatus},
        governance::ProposalAction,
    };
    let validator = reshare_validator;
    let mut b = reshare_bench(Suite::Ed25519, u64::MAX);
    let govern = reshare_govern;
    let register = |b: &mut Bench, i: u8| {
        let args = RegisterKeyArgs {
            consensus_key: validator(i).consensus_key,
            dkg_key: DkgKey::from_seed([40 + i; 32]).public(),
        };
        b.call(OP, &[], Call::new(d::MODULE, d::REGISTER_KEY, &args))
    };
    let open = |b: &Bench| -> Option<DkgRound> {
        b.state.get(d::ROUND_KEY).map(|v| decode(v).expect("round"))
    };
    assert_eq!(register(&mut b, 4).status, TxStatus::Success);
    assert_eq!(register(&mut b, 4).code, ErrorCode::AlreadyExists.as_str());
    assert_eq!(register(&mut b, 5).status, TxStatus::Success);
    // Add 4: round 1 opens.
    govern(
        &mut b,
        ProposalAction::AddValidator {
            validator: validator(4),
        },
    );
    let r1 = open(&b).expect("round 1");
    assert_eq!((r1.round, r1.players.len()), (1, 5));
    // Add 5 before round 1 finished: round 1 is superseded by round 2.
    govern(
        &mut b,
        ProposalAction::AddValidator {
            validator: validator(5),
        },
    );
    let r2 = open(&b).expect("round 2");
    assert_eq!((r2.round, r2.players.len(), r2.dealers.len()), (2, 6, 4));
    let s1: DkgRound = decode(&b.state[&d::round_key(1)]).expect("record");
    assert_eq!(s1.status, RoundStatus::Superseded);
    // A log for the superseded round is refused.
    let r = b.call(
        OP,
        &[],
        Call::new(
            d::MODULE,
            d::DEAL,
            &d::DealArgs {
                round: 1,
                log: vec![1],
            },
        ),
    );
    assert_eq!(r.code, ErrorCode::InvalidState.as_str());
    // Remove both again: the decided set is the holders', no round is open.
    govern(
        &mut b,
        ProposalAction::RemoveValidator {
            consensus_key: validator(5).consensus_key,
        },
    );
    assert_eq!(open(&b).expect("round 3").round, 3);
    govern(
        &mut b,
        ProposalAction::RemoveValidator {
            consensus_key: validator(4).consensus_key,
        },
    );
    assert!(open(&b).is_none());
    // The next change opens round 4: numbers only grow, superseded ones included.
    govern(
        &mut b,
        ProposalAction::AddValidator {
            validator: validator(5),
        },
    );
    assert_eq!(open(&b).expect("round").round, 4);
}

/// Issue #5: a dealer log with a valid signature over a bad dealing (here: a holder dealing a
/// share that is not its own) neither stalls a reshare nor lets its dealer choose the outcome.
/// A `finish` over too few valid dealings is refused and the round stays open for the other
/// dealers; only when every dealer's log is in and too few are valid (two bad of four: more
/// than `f`) does the round fail, and the next round completes once enough deal honestly.
#[test]
fn a_bad_dealing_neither_stalls_a_reshare_nor_counts() {
    use super::reshare::{DkgKey, RoundOutput};
    use super::reshare_tests::round_zero;
    use xa_types::modules::{
        dkg::{self as d, DkgOutput, DkgRound, RegisterKeyArgs, RoundStatus},
        governance::{self as gov, ProposalAction, ProposalIdArgs},
        validators::NEXT_KEY,
    };
    let (old, out0, shares0) = round_zero();
    let mut b = reshare_bench(Suite::Ed25519, u64::MAX);
    let t = b.publish();
    for (i, c) in COMPANIES[..3].iter().enumerate() {
        let r = b.bid(t, *c, 2_000 + i as u64);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    let newcomer = DkgKey::from_seed([43; 32]);
    reshare_govern(
        &mut b,
        ProposalAction::AddValidator {
            validator: reshare_validator(4),
        },
    );
    if !b.state.contains_key(NEXT_KEY) {
        let r = b.call(
            OP,
            &[],
            Call::new(gov::MODULE, gov::APPROVE, &ProposalIdArgs { id: 1 }),
        );
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    let register = RegisterKeyArgs {
        consensus_key: reshare_validator(4).consensus_key,
        dkg_key: newcomer.public(),
    };
    let r = b.call(OP, &[], Call::new(d::MODULE, d::REGISTER_KEY, &register));
    assert!(has_event(&r, "round_opened"), "{}", r.message);

    let deal = |b: &mut Bench, round: u64, log: Vec<u8>| {
        let r = b.call(
            OP,
            &[],
            Call::new(d::MODULE, d::DEAL, &d::DealArgs { round, log }),
        );
        assert_eq!(r.status, TxStatus::Success, "{} {}", r.code, r.message);
    };
    let finish = |b: &mut Bench, round: u64, logs: u32| {
        b.call(
            OP,
            &[],
            Call::new(d::MODULE, d::FINISH, &d::FinishArgs { round, logs }),
        )
    };
    let open_round = |b: &Bench| -> DkgRound { decode(&b.state[d::ROUND_KEY]).expect("round") };
    // Dealer `i` deals honestly, or (`bad`) deals the share of dealer `i + 1` under its own
    // signature: the log identifies it, and only checking the dealing shows it is wrong.
    let dealing = |record: &DkgRound, i: usize, bad: bool| {
        let round = crate::dkg::round_of("test", record, &out0.output).expect("round");
        let share = &shares0[if bad { (i + 1) % 4 } else { i }];
        let log = round
            .deal(
                &old[i],
                Some(share),
                [record.round as u8 * 16 + i as u8; 32],
            )
            .expect("deal");
        assert_eq!(round.identify(&log), Ok(old[i].public()));
        log
    };

    // Round 1: two of the four holders deal badly (more than f = 1).
    let r1 = open_round(&b);
    assert_eq!((r1.round, r1.required), (1, 3));
    for (i, bad) in [(0, true), (1, true), (2, false)] {
        let log = dealing(&r1, i, bad);
        deal(&mut b, 1, log);
    }
    // Three logs, one valid: refused, and nothing changes, since dealer 3 may still deal.
    let before = b.state.clone();
    let r = finish(&mut b, 1, 3);
    assert_eq!(r.code, ErrorCode::InvalidState.as_str(), "{}", r.message);
    assert!(r.message.contains("stays open"), "{}", r.message);
    for k in [d::ROUND_KEY, d::OUTPUT_KEY, THRESHOLD_KEY] {
        assert_eq!(
            b.state.get(k),
            before.get(k),
            "{}",
            String::from_utf8_lossy(k)
        );
    }
    let log = dealing(&r1, 3, false);
    deal(&mut b, 1, log);
    // Every dealer's log is in and only two are valid: the round fails, round 2 opens.
    let r = finish(&mut b, 1, 4);
    assert!(has_event(&r, "round_failed"), "{} {}", r.code, r.message);
    assert!(has_event(&r, "round_opened"), "{} {}", r.code, r.message);
    let failed: DkgRound = decode(&b.state[&d::round_key(1)]).expect("record");
    assert_eq!(failed.status, RoundStatus::Failed);
    let in_force: DkgOutput = decode(&b.state[d::OUTPUT_KEY]).expect("output");
    assert_eq!(in_force.round, 0, "the old key stays in force");

    // Round 2: one bad dealer (f = 1) posts first; the first three logs hold two valid
    // dealings, so `finish` over them is refused, and the round waits for the fourth.
    let r2 = open_round(&b);
    assert_eq!((r2.round, r2.dealers.len()), (2, 4));
    for (i, bad) in [(0, true), (1, false), (2, false)] {
        let log = dealing(&r2, i, bad);
        deal(&mut b, 2, log);
    }
    let r = finish(&mut b, 2, 3);
    assert_eq!(r.code, ErrorCode::InvalidState.as_str(), "{}", r.message);
    assert_eq!(open_round(&b).status, RoundStatus::Open);
    let log = dealing(&r2, 3, false);
    deal(&mut b, 2, log);
    let r = finish(&mut b, 2, 4);
    assert!(has_event(&r, "reshared"), "{} {}", r.code, r.message);
    let done: DkgRound = decode(&b.state[&d::round_key(2)]).expect("record");
    assert_eq!((&done.status, done.dealt.len()), (&RoundStatus::Done, 4));
    let in_force: DkgOutput = decode(&b.state[d::OUTPUT_KEY]).expect("output");
    let out2 = RoundOutput::decode(in_force.round, &in_force.output).expect("decode");
    assert_eq!(out2.group_key(), out0.group_key(), "same group key");

    // The new players recover shares from the logs on chain (the bad one among them is
    // skipped), and a quorum of them opens the bids sealed under round 0.
    let logs = crate::dkg::logs_of(&b.state, &done).expect("logs");
    let round = crate::dkg::round_of("test", &done, &out0.output).expect("round");
    let players = [&newcomer, &old[0], &old[1], &old[2]];
    b.shares = players
        .iter()
        .map(|k| {
            let (o, share) = round.play(&logs, k, [0; 32]).expect("play");
            assert_eq!(o, out2);
            share
        })
        .collect();
    b.time_ms = DEADLINE;
    b.ok(AGENCY, CLOSE, &TenderIdArgs { tender: t });
    b.time_ms = OPENING;
    for i in 0..4 {
        let r = b.share(t, i);
        assert_eq!(r.status, TxStatus::Success, "{}", r.message);
    }
    assert_eq!(b.opening(t).valid, 3);
}
