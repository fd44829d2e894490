//! Tender reads through the API: before the opening, every path (the tender endpoint, state
//! reads with and without proof, transaction lookups, block bodies, receipts' events) yields only
//! ciphertext; after a threshold of partial signatures, every bid opens together.

use super::*;
use xa_execution::sealing;
use xa_types::modules::tender::*;

const AGENCY: u8 = 10;
const EXPERT_SEED: u8 = 20;
const COMPANIES: [u8; 3] = [40, 41, 42];

fn kp(seed: u8) -> KeyPair {
    KeyPair::from_seed(Suite::Ed25519, &[seed; 32]).expect("key")
}

pub(super) fn tender_node(threshold: ThresholdKey) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = kp(1);
    let mut g = genesis(Suite::Ed25519, &key);
    g.tender_threshold_trusted_dealer_devnet_only = Some(threshold);
    let acct = |name: &str, seed: u8, roles: &[&str]| GenesisAccount {
        name: name.into(),
        public_key: kp(seed).public_key(),
        org: "committee".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    g.accounts.push(acct("agency", AGENCY, &[TENDER_AGENCY]));
    g.accounts.push(acct("expert", EXPERT_SEED, &[EXPERT]));
    for (i, c) in COMPANIES.iter().enumerate() {
        g.accounts
            .push(acct(&format!("company {i}"), *c, &[COMPANY]));
    }
    let store = Store::open(dir.path(), hash_algo(Suite::Ed25519)).expect("store");
    let chain = Chain::open(g, store, xa_mempool::Config::default()).expect("chain");
    let app = xa_api::router(
        chain.clone(),
        "test-node".into(),
        Arc::new(|| "# test metrics\n".to_string()),
    );
    Node {
        key,
        chain,
        app,
        _dir: dir,
    }
}

fn tx(seed: u8, nonce: u64, method: &str, args: &impl borsh::BorshSerialize) -> Transaction {
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&kp(seed).public_key()),
        nonce,
        expiry_height: 1_000,
        call: Call::new(MODULE, method, args),
    }
    .sign(&kp(seed))
}

/// Submit and commit one transaction; its receipt must succeed.
async fn run(n: &Node, t: &Transaction) -> String {
    let (status, v) = submit(&n.app, t).await;
    assert!(status.is_success(), "{v}");
    commit_next(&n.chain).await;
    let hash = t.hash(Suite::Ed25519).to_string();
    let (_, r) = get(&n.app, &format!("/v1/transactions/{hash}")).await;
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_opening_every_read_path_yields_only_ciphertext() {
    let (threshold, shares) = sealing::deal_trusted_dealer_devnet_only([3; 32], 4).expect("deal");
    let n = tender_node(threshold.clone());
    // Blocks are 1 s apart from genesis time 1 000 ms: the deadline is a few blocks ahead.
    let deadline_ms = 10_000;
    let publish = PublishArgs {
        title: "lot 1".into(),
        documents_digest: Hash([5; 32]),
        owner: address_of(&kp(1).public_key()),
        deadline_ms,
        opening_ms: deadline_ms,
        min_bidders: 3,
        experts: vec![address_of(&kp(EXPERT_SEED).public_key())],
        supervisor_org: "committee".into(),
    };
    run(&n, &tx(AGENCY, 0, PUBLISH, &publish)).await;
    let secret: u64 = 0x5EC2_E7B1_D000_0042;
    let mut hashes = Vec::new();
    for (i, c) in COMPANIES.iter().enumerate() {
        let bidder = address_of(&kp(*c).public_key());
        let content = BidContent {
            price: secret + i as u64,
            proposal_digest: Hash([*c; 32]),
            salt: [*c; 32],
        };
        let bid = sealing::seal_bid(
            &threshold,
            Suite::Ed25519,
            CHAIN_ID,
            1,
            &bidder,
            &content,
            [*c; 32],
        )
        .expect("seal");
        hashes.push(
            run(
                &n,
                &tx(*c, 0, SUBMIT_BID, &SubmitBidArgs { tender: 1, bid }),
            )
            .await,
        );
    }
    let price_hex = |i: u64| hex::encode((secret + i).to_le_bytes());
    let leaks = |text: &str| {
        (0..3).any(|i| text.contains(&price_hex(i)) || text.contains(&(secret + i).to_string()))
    };
    let mut served = Vec::new();
    served.push(get(&n.app, "/v1/tenders/1").await.1);
    for h in &hashes {
        served.push(get(&n.app, &format!("/v1/transactions/{h}")).await.1);
    }
    for height in 1..=n.chain.tip().0 {
        served.push(get(&n.app, &format!("/v1/blocks/{height}")).await.1);
    }
    for c in COMPANIES {
        let key = bid_key(1, &address_of(&kp(c).public_key()));
        let uri = format!("/v1/state/raw/{}?proof=true", hex::encode(&key));
        let (status, v) = get(&n.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["exists"], true);
        served.push(v);
    }
    for v in &served {
        assert!(!leaks(&v.to_string()), "a price leaked: {v}");
    }
    let (_, t) = get(&n.app, "/v1/tenders/1").await;
    assert_eq!(t["bids"].as_array().map(Vec::len), Some(3));
    assert!(t["opening"].is_null());

    // Past the deadline: close, then two partials (below the threshold of 3) open nothing.
    while n.chain.tip().0 < 10 {
        commit_next(&n.chain).await;
    }
    run(&n, &tx(AGENCY, 1, CLOSE, &TenderIdArgs { tender: 1 })).await;
    for (i, share) in shares.iter().enumerate().take(2) {
        let partial = sealing::partial_sign(share, CHAIN_ID, 1).expect("sign");
        run(
            &n,
            &tx(
                1,
                i as u64,
                OPEN_SHARE,
                &OpenShareArgs { tender: 1, partial },
            ),
        )
        .await;
    }
    let (_, t) = get(&n.app, "/v1/tenders/1").await;
    assert!(t["opening"].is_null());
    assert!(!leaks(&t.to_string()));
    let partial = sealing::partial_sign(&shares[3], CHAIN_ID, 1).expect("sign");
    run(
        &n,
        &tx(1, 2, OPEN_SHARE, &OpenShareArgs { tender: 1, partial }),
    )
    .await;
    let (_, t) = get(&n.app, "/v1/tenders/1").await;
    assert_eq!(t["tender"]["status"], "EVALUATING", "{t}");
    assert_eq!(t["opening"]["valid"], 3);
    let prices: Vec<u64> = t["opening"]["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .filter_map(|b| b["content"]["price"].as_u64())
        .collect();
    assert_eq!(prices.len(), 3);
    assert!(prices.iter().all(|p| (secret..secret + 3).contains(p)));
    let (status, _) = get(&n.app, "/v1/tenders/9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The ids of a `GET /v1/tenders...` answer, and its `next_before`.
async fn listed(n: &Node, uri: &str) -> (Vec<u64>, Value) {
    let (status, v) = get(&n.app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {v}");
    let ids = v["tenders"]
        .as_array()
        .expect("tenders")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    (ids, v["next_before"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenders_are_listed_newest_first_by_status_and_in_pages() {
    let (threshold, _) = sealing::deal_trusted_dealer_devnet_only([4; 32], 4).expect("deal");
    let n = tender_node(threshold);
    let (ids, next) = listed(&n, "/v1/tenders").await;
    assert!(ids.is_empty() && next.is_null(), "{ids:?} {next}");
    for nonce in 0..3 {
        let publish = PublishArgs {
            title: format!("lot {}", nonce + 1),
            documents_digest: Hash([5; 32]),
            owner: address_of(&kp(1).public_key()),
            deadline_ms: 6_000,
            opening_ms: 6_000,
            min_bidders: 3,
            experts: vec![address_of(&kp(EXPERT_SEED).public_key())],
            supervisor_org: "committee".into(),
        };
        run(&n, &tx(AGENCY, nonce, PUBLISH, &publish)).await;
    }
    // Past the deadline, tender 2 closes without bids: it fails.
    while n.chain.tip().0 < 6 {
        commit_next(&n.chain).await;
    }
    run(&n, &tx(AGENCY, 3, CLOSE, &TenderIdArgs { tender: 2 })).await;

    let (ids, next) = listed(&n, "/v1/tenders").await;
    assert_eq!(ids, vec![3, 2, 1]);
    assert!(next.is_null());
    let (_, v) = get(&n.app, "/v1/tenders").await;
    assert_eq!(v["tenders"][0]["title"], "lot 3");
    assert!(v["tenders"][0].get("bids").is_none(), "records only: {v}");
    assert_eq!(listed(&n, "/v1/tenders?status=failed").await.0, vec![2]);
    assert_eq!(listed(&n, "/v1/tenders?status=BIDDING").await.0, vec![3, 1]);
    assert!(listed(&n, "/v1/tenders?status=awarded").await.0.is_empty());
    // Pages: two, then the rest from `next_before`.
    let (ids, next) = listed(&n, "/v1/tenders?limit=2").await;
    assert_eq!((ids, next.as_u64()), (vec![3, 2], Some(2)));
    let (ids, next) = listed(&n, "/v1/tenders?limit=2&before=2").await;
    assert_eq!(ids, vec![1]);
    assert!(next.is_null());
    // A limit is at least 1; a `before` past the newest lists from the newest.
    assert_eq!(listed(&n, "/v1/tenders?limit=0").await.0, vec![3]);
    assert_eq!(listed(&n, "/v1/tenders?before=99").await.0, vec![3, 2, 1]);
    let got = get(&n.app, "/v1/tenders?status=open").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "status");
    let got = get(&n.app, "/v1/tenders?limit=many").await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
}
