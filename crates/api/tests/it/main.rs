//! Integration tests of the HTTP API, driven in-process against a real `Chain` on a temporary
//! store. No consensus runs: blocks are built on the tip and committed directly, which is what
//! the committer does with a finalized block, minus the certificate.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use tower::ServiceExt;
use xa_api::MAX_ERROR_MESSAGE_BYTES;
use xa_node::{Chain, block::ChainBlock, chain::hash_algo};
use xa_storage::{StateLayout, StateProof, Store, verify_proof};
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, Hash, KeyPair, Suite,
    Transaction, TxBody, address_of,
    modules::notary::{AnchorArgs, record_key},
};

mod auth;
mod dkg;
mod evidence;
mod identity;
mod tender;

const CHAIN_ID: &str = "api-test";
/// Small enough that an oversize transaction is cheap to build.
const MAX_TX_BYTES: u32 = 4 * 1024;

/// A chain on a temporary store with the API router in front of it.
struct Node {
    key: KeyPair,
    chain: Arc<Chain>,
    app: Router,
    _dir: tempfile::TempDir,
}

fn genesis(suite: Suite, key: &KeyPair) -> Genesis {
    Genesis {
        chain_id: CHAIN_ID.into(),
        suite,
        genesis_time_ms: 1_000,
        validators: vec![GenesisValidator {
            name: "validator-0".into(),
            consensus_key: vec![7; 32],
            p2p_address: "127.0.0.1:1".into(),
        }],
        organizations: vec![GenesisOrg {
            id: "committee".into(),
            name: "City management committee".into(),
            founding: true,
        }],
        accounts: vec![GenesisAccount {
            name: "operator".into(),
            public_key: key.public_key(),
            org: "committee".into(),
            roles: vec!["chain_admin".into(), "org_admin".into()],
        }],
        params: ChainParams {
            max_tx_bytes: MAX_TX_BYTES,
            ..ChainParams::default()
        },
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    }
}

fn node(suite: Suite) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = KeyPair::from_seed(suite, &[1; 32]).expect("key");
    let store = Store::open(dir.path(), hash_algo(suite)).expect("store");
    let chain =
        Chain::open(genesis(suite, &key), store, xa_mempool::Config::default()).expect("chain");
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

/// Build a block from the mempool on the tip and commit it, as consensus would.
fn commit_block(chain: &Chain) -> ChainBlock {
    let (tip, _) = chain.tip();
    let parent = chain.block_at(tip).expect("read").expect("tip block");
    let view = tip + 1;
    let now_ms = parent.block().header.time_ms + 1_000;
    let block = chain
        .build(&parent, 0, view, view - 1, vec![0u8; 32], now_ms)
        .expect("build")
        .expect("parent is the committed tip");
    chain.commit(&block, vec![]).expect("commit");
    assert_eq!(chain.tip().0, tip + 1);
    block
}

/// [`commit_block`] off the async runtime's threads (it does blocking storage I/O).
async fn commit_next(chain: &Arc<Chain>) -> ChainBlock {
    let chain = chain.clone();
    tokio::task::spawn_blocking(move || commit_block(&chain))
        .await
        .expect("join")
}

fn body(key: &KeyPair, nonce: u64, digest: Hash) -> TxBody {
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 1_000,
        call: Call::new(
            "notary",
            "anchor",
            &AnchorArgs {
                digest,
                title: "contract.pdf".into(),
                file_size: 1234,
                kind: "contract".into(),
            },
        ),
    }
}

fn anchor(key: &KeyPair, nonce: u64, digest: Hash) -> Transaction {
    body(key, nonce, digest).sign(key)
}

fn digest(suite: Suite, n: u8) -> Hash {
    suite.hash(&[b'd', n])
}

/// Send one request; returns the status and the body parsed as JSON (`Null` if it is not JSON).
async fn send(app: &Router, method: Method, uri: &str, body: Option<Body>) -> (StatusCode, Value) {
    let (status, bytes) = send_raw(app, method, uri, body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn send_raw(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Body>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req.body(body.unwrap_or_else(Body::empty)).expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, bytes)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    send(app, Method::GET, uri, None).await
}

async fn post_json(app: &Router, uri: &str, value: &impl serde::Serialize) -> (StatusCode, Value) {
    let text = serde_json::to_string(value).expect("json");
    send(app, Method::POST, uri, Some(Body::from(text))).await
}

async fn submit(app: &Router, tx: &Transaction) -> (StatusCode, Value) {
    post_json(app, "/v1/transactions", tx).await
}

async fn mempool_size(app: &Router) -> u64 {
    let (status, v) = get(app, "/v1/status").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["mempool_size"].as_u64().expect("mempool_size")
}

/// Assert an error response: status, stable code, and a message naming `field`.
#[track_caller]
fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str, field: &str) {
    let (s, v) = got;
    assert_eq!(*s, status, "status of {v}");
    assert_eq!(v["error"]["code"], code, "code of {v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(field),
        "message '{message}' does not name '{field}'"
    );
}

fn flip_signature(mut tx: Transaction) -> Transaction {
    tx.signatures[0].signature.0[10] ^= 0x01;
    tx
}

fn resign(key: &KeyPair, f: impl FnOnce(&mut TxBody)) -> Transaction {
    let mut b = body(key, 0, digest(key.public_key().suite(), 200));
    f(&mut b);
    b.sign(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_400_malformed_request() {
    for suite in Suite::ALL {
        let n = node(suite);
        let cases: Vec<(&str, String, &str)> = vec![
            ("/v1/transactions", "{\"body\": ".into(), "body"),
            ("/v1/transactions", "not json".into(), "body"),
            ("/v1/transactions/batch", "[{]".into(), "body"),
        ];
        for (uri, text, field) in cases {
            let got = send(&n.app, Method::POST, uri, Some(Body::from(text))).await;
            assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", field);
        }
        // A transaction without its signatures, and one whose body lacks the nonce.
        let tx = anchor(&n.key, 0, digest(suite, 1));
        let mut v = serde_json::to_value(&tx).expect("json");
        v.as_object_mut().expect("object").remove("signatures");
        let got = post_json(&n.app, "/v1/transactions", &v).await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            "signatures",
        );
        let mut v = serde_json::to_value(&tx).expect("json");
        v["body"].as_object_mut().expect("body").remove("nonce");
        let got = post_json(&n.app, "/v1/transactions", &v).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "nonce");
        // Right shape, wrong type.
        let mut v = serde_json::to_value(&tx).expect("json");
        v["body"]["nonce"] = json!("zero");
        let got = post_json(&n.app, "/v1/transactions", &v).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "nonce");
        // Without a JSON content type.
        let req = Request::builder()
            .method(Method::POST)
            .uri("/v1/transactions")
            .body(Body::from(serde_json::to_string(&tx).expect("json")))
            .expect("request");
        let resp = n.app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        // serde quotes a wrongly typed string whole; the answer stays short and still names
        // the field, alone and inside a batch.
        let long = "é".repeat(100_000);
        let mut v = serde_json::to_value(&tx).expect("json");
        v["body"]["nonce"] = json!(long);
        let text = serde_json::to_string(&v).expect("json");
        let (status, raw) = send_raw(
            &n.app,
            Method::POST,
            "/v1/transactions",
            Some(Body::from(text)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            raw.len() < 2 * MAX_ERROR_MESSAGE_BYTES,
            "{} bytes",
            raw.len()
        );
        let got: Value = serde_json::from_slice(&raw).expect("json");
        let message = got["error"]["message"].as_str().expect("message");
        assert!(message.contains("nonce"), "{message}");
        assert!(message.ends_with("bytes in all)"), "{message}");
        assert_error(
            &(status, got),
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            "nonce",
        );
        let mut long_id = anchor(&n.key, 0, digest(suite, 2));
        long_id.body.chain_id = "x".repeat(50_000);
        let got = post_json(&n.app, "/v1/transactions/batch", &vec![long_id]).await;
        assert_eq!(got.0, StatusCode::OK, "{}", got.1);
        let message = got.1["results"][0]["error"]["message"]
            .as_str()
            .expect("per-transaction error");
        assert!(message.len() < 2 * MAX_ERROR_MESSAGE_BYTES, "{message}");
        assert!(message.starts_with("body.chain_id: 'xxx"), "{message}");
        assert!(message.ends_with("bytes in all)"), "{message}");
        assert_eq!(mempool_size(&n.app).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_transactions_are_rejected_with_stable_codes_and_nothing_half_applied() {
    for suite in Suite::ALL {
        let n = node(suite);
        let key = &n.key;
        // One admitted transaction so that "unchanged" is not trivially zero.
        let (status, v) = submit(&n.app, &anchor(key, 0, digest(suite, 1))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        assert_eq!(mempool_size(&n.app).await, 1);
        let other_suite = match suite {
            Suite::Ed25519 => Suite::Sm2,
            Suite::Sm2 => Suite::Ed25519,
        };
        let foreign = KeyPair::from_seed(other_suite, &[1; 32]).expect("key");
        let cases: Vec<(Transaction, StatusCode, &str, &str)> = vec![
            (
                flip_signature(anchor(key, 1, digest(suite, 2))),
                StatusCode::BAD_REQUEST,
                "BAD_SIGNATURE",
                "signatures",
            ),
            (
                {
                    let mut tx = anchor(key, 1, digest(suite, 2));
                    tx.signatures.clear();
                    tx
                },
                StatusCode::BAD_REQUEST,
                "BAD_SIGNATURE",
                "signatures",
            ),
            (
                body(key, 1, digest(suite, 2)).sign(&foreign),
                StatusCode::BAD_REQUEST,
                "WRONG_SUITE",
                "signatures[0].public_key",
            ),
            (
                resign(key, |b| b.chain_id = "another-chain".into()),
                StatusCode::BAD_REQUEST,
                "WRONG_CHAIN_ID",
                "body.chain_id",
            ),
            (
                resign(key, |b| b.call.module = "bank".into()),
                StatusCode::BAD_REQUEST,
                "UNKNOWN_MODULE",
                "body.call.module",
            ),
            (
                resign(key, |b| b.call.method = "burn".into()),
                StatusCode::BAD_REQUEST,
                "UNKNOWN_METHOD",
                "body.call.method",
            ),
            (
                resign(key, |b| b.call.args = vec![1, 2, 3]),
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "body.call.args",
            ),
            (
                resign(key, |b| {
                    b.call = Call::new(
                        "notary",
                        "anchor",
                        &AnchorArgs {
                            digest: digest(suite, 3),
                            title: String::new(),
                            file_size: 0,
                            kind: "x".into(),
                        },
                    )
                }),
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "args.title",
            ),
            (
                resign(key, |b| b.call.args = vec![0; MAX_TX_BYTES as usize + 1]),
                StatusCode::PAYLOAD_TOO_LARGE,
                "TOO_LARGE",
                "transaction",
            ),
            (
                resign(key, |b| b.nonce = 1 + 1_024 + 1),
                StatusCode::BAD_REQUEST,
                "NONCE_TOO_HIGH",
                "body.nonce",
            ),
        ];
        for (tx, status, code, field) in cases {
            let got = submit(&n.app, &tx).await;
            assert_error(&got, status, code, field);
            assert_eq!(mempool_size(&n.app).await, 1, "after {code}");
            // The rejected transaction is not known.
            let (status, _) = get(&n.app, &format!("/v1/transactions/{}", tx.hash(suite))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
            // Nor did it move the sender's pending nonce.
            let (_, acct) = get(
                &n.app,
                &format!("/v1/accounts/{}", address_of(&key.public_key())),
            )
            .await;
            assert_eq!(acct["pending_next_nonce"], 1, "{acct}");
        }
        // The same rejections inside a batch: one result each, only the good one admitted.
        let batch = vec![
            anchor(key, 1, digest(suite, 5)),
            flip_signature(anchor(key, 2, digest(suite, 6))),
            resign(key, |b| b.chain_id = "x".into()),
            anchor(key, 1, digest(suite, 5)),
        ];
        let (status, v) = post_json(&n.app, "/v1/transactions/batch", &batch).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let r = v["results"].as_array().expect("results");
        assert_eq!(r.len(), 4);
        assert_eq!(r[0]["status"], "pending");
        assert_eq!(r[0]["hash"], batch[0].hash(suite).to_string());
        assert_eq!(r[1]["error"]["code"], "BAD_SIGNATURE");
        assert_eq!(r[2]["error"]["code"], "WRONG_CHAIN_ID");
        assert_eq!(r[3]["error"]["code"], "DUPLICATE_TRANSACTION");
        assert_eq!(mempool_size(&n.app).await, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_pending_is_409_and_replay_after_commit_is_stale_nonce() {
    for suite in Suite::ALL {
        let n = node(suite);
        let tx = anchor(&n.key, 0, digest(suite, 1));
        let (status, v) = submit(&n.app, &tx).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        let got = submit(&n.app, &tx).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "DUPLICATE_TRANSACTION",
            &tx.hash(suite).to_string(),
        );
        // Another transaction with the same nonce while the first is pending.
        let got = submit(&n.app, &anchor(&n.key, 0, digest(suite, 2))).await;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "DUPLICATE_TRANSACTION",
            "body.nonce",
        );
        assert_eq!(mempool_size(&n.app).await, 1);

        let block = commit_next(&n.chain).await;
        assert_eq!(block.block().txs, vec![tx.clone()]);
        assert_eq!(mempool_size(&n.app).await, 0);

        // Replays of the committed transaction, and a new one reusing its nonce.
        for replay in [tx.clone(), anchor(&n.key, 0, digest(suite, 3))] {
            let got = submit(&n.app, &replay).await;
            assert_error(&got, StatusCode::BAD_REQUEST, "STALE_NONCE", "body.nonce");
            assert_eq!(mempool_size(&n.app).await, 0);
        }
        let got = post_json(&n.app, "/v1/transactions/batch", &vec![tx.clone()]).await;
        assert_eq!(got.0, StatusCode::OK);
        assert_eq!(got.1["results"][0]["error"]["code"], "STALE_NONCE");
        assert_eq!(mempool_size(&n.app).await, 0);
        // The committed transaction is still reported once, at height 1.
        let (status, v) = get(&n.app, &format!("/v1/transactions/{}", tx.hash(suite))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["status"], "committed");
        assert_eq!(v["block_height"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_transaction_is_refused_and_never_committed() {
    for suite in Suite::ALL {
        let n = node(suite);
        let late = KeyPair::from_seed(suite, &[3; 32]).expect("key");
        // The next block is height 1: an expiry height of 0 has already passed.
        let mut b = body(&late, 0, digest(suite, 9));
        b.expiry_height = 0;
        let expired = b.sign(&late);
        let got = submit(&n.app, &expired).await;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "EXPIRED",
            "body.expiry_height",
        );
        assert_eq!(mempool_size(&n.app).await, 0);
        let good = anchor(&n.key, 0, digest(suite, 1));
        let (status, v) = submit(&n.app, &good).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");

        let block = commit_next(&n.chain).await;
        assert_eq!(block.block().txs, vec![good.clone()]);
        assert_eq!(mempool_size(&n.app).await, 0);
        let got = get(&n.app, &format!("/v1/transactions/{}", expired.hash(suite))).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "hash");
        let got = get(&n.app, &format!("/v1/notary/{}", digest(suite, 9))).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "digest");
        // The expired transaction's sender was never registered, and nothing created it.
        let got = get(
            &n.app,
            &format!("/v1/accounts/{}", address_of(&late.public_key())),
        )
        .await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "address");
        let (_, v) = get(&n.app, &format!("/v1/transactions/{}", good.hash(suite))).await;
        assert_eq!(v["status"], "committed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_transaction_block_record_and_state_proofs() {
    for suite in Suite::ALL {
        let n = node(suite);
        let algo = hash_algo(suite);
        let d = digest(suite, 1);
        let tx = anchor(&n.key, 0, d);
        let hash = tx.hash(suite);
        let (status, v) = submit(&n.app, &tx).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        assert_eq!(v, json!({"hash": hash, "status": "pending"}));
        let (status, v) = get(&n.app, &format!("/v1/transactions/{hash}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["status"], "pending");

        let block = commit_next(&n.chain).await;
        let header = &block.block().header;

        // The transaction.
        let (status, v) = get(&n.app, &format!("/v1/transactions/{hash}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "committed");
        assert_eq!(v["block_height"], 1);
        assert_eq!(v["block_hash"], block.hash().to_string());
        assert_eq!(v["index"], 0);
        assert_eq!(v["receipt"]["status"], "success");
        assert_eq!(v["receipt"]["tx_hash"], hash.to_string());
        assert_eq!(v["receipt"]["height"], 1);
        assert_eq!(v["transaction"], serde_json::to_value(&tx).expect("json"));

        // The block, latest and by height.
        for uri in ["/v1/blocks/latest", "/v1/blocks/1"] {
            let (status, v) = get(&n.app, uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {v}");
            assert_eq!(v["hash"], block.hash().to_string());
            assert_eq!(v["header"], serde_json::to_value(header).expect("json"));
            assert_eq!(v["transactions"], json!([hash]));
        }
        let (status, v) = get(&n.app, "/v1/blocks/0").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["header"]["height"], 0);
        let got = get(&n.app, "/v1/blocks/2").await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "height");
        let got = get(&n.app, "/v1/blocks/first").await;
        assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "height");

        // Status follows the tip.
        let (_, v) = get(&n.app, "/v1/status").await;
        assert_eq!(v["height"], 1);
        assert_eq!(v["block_hash"], block.hash().to_string());
        assert_eq!(v["state_root"], header.state_root.to_string());
        assert_eq!(v["chain_id"], CHAIN_ID);
        assert_eq!(v["node"], "test-node");

        // The notary record.
        let (status, v) = get(&n.app, &format!("/v1/notary/{d}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["record"]["digest"], d.to_string());
        assert_eq!(v["record"]["height"], 1);
        assert_eq!(v["record"]["time_ms"], header.time_ms);
        assert_eq!(v["record"]["tx_hash"], hash.to_string());
        assert_eq!(v["record"]["title"], "contract.pdf");
        assert_eq!(v["record"]["signers"], json!([n.key.public_key()]));
        assert_eq!(v["block_hash"], block.hash().to_string());

        // The account moved on.
        let (_, v) = get(
            &n.app,
            &format!("/v1/accounts/{}", address_of(&n.key.public_key())),
        )
        .await;
        assert_eq!(v["account"]["next_nonce"], 1, "{v}");
        assert_eq!(v["pending_next_nonce"], 1);

        // Inclusion proof against the header's state root.
        let (status, v) = get(&n.app, &format!("/v1/state/notary/{d}?proof=true")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["exists"], true);
        assert_eq!(v["height"], 1);
        assert_eq!(v["state_root"], header.state_root.to_string());
        assert_eq!(v["value"]["digest"], d.to_string());
        let state_key = hex::decode(v["state_key"].as_str().expect("state_key")).expect("hex");
        assert_eq!(state_key, record_key(&d));
        let value = hex::decode(v["value_hex"].as_str().expect("value_hex")).expect("hex");
        let proof: StateProof = serde_json::from_value(v["proof"].clone()).expect("proof");
        let root = header.state_root.0;
        verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            &state_key,
            Some(&value),
            &proof,
        )
        .expect("inclusion verifies");
        let mut tampered = value.clone();
        tampered[0] ^= 1;
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &root,
                &state_key,
                Some(&tampered),
                &proof
            )
            .is_err()
        );
        assert!(verify_proof(algo, StateLayout::Shared, &root, &state_key, None, &proof).is_err());
        let mut other_root = root;
        other_root[0] ^= 1;
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &other_root,
                &state_key,
                Some(&value),
                &proof
            )
            .is_err()
        );

        // Without ?proof, no proof.
        let (_, v) = get(&n.app, &format!("/v1/state/notary/{d}")).await;
        assert_eq!(v["exists"], true);
        assert!(v["proof"].is_null());

        // Non-inclusion of a digest never anchored.
        let absent = digest(suite, 77);
        let (status, v) = get(&n.app, &format!("/v1/state/notary/{absent}?proof=true")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["exists"], false);
        assert!(v["value"].is_null());
        let proof: StateProof = serde_json::from_value(v["proof"].clone()).expect("proof");
        let absent_key = record_key(&absent);
        verify_proof(algo, StateLayout::Shared, &root, &absent_key, None, &proof)
            .expect("non-inclusion verifies");
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &root,
                &absent_key,
                Some(&value),
                &proof
            )
            .is_err()
        );

        // Historical: at height 0 the record did not exist yet.
        let (status, v) = get(&n.app, &format!("/v1/state/notary/{d}?proof=true&height=0")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["exists"], false);
        assert_eq!(v["height"], 0);
        let root0: Hash = serde_json::from_value(v["state_root"].clone()).expect("root");
        let genesis = n.chain.block_at(0).expect("read").expect("genesis");
        assert_eq!(root0, genesis.block().header.state_root);
        let proof: StateProof = serde_json::from_value(v["proof"].clone()).expect("proof");
        verify_proof(
            algo,
            StateLayout::Shared,
            &root0.0,
            &state_key,
            None,
            &proof,
        )
        .expect("absent at 0");

        // Bad reads.
        let got = get(&n.app, &format!("/v1/state/notary/{d}?height=2")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "height");
        let got = get(&n.app, &format!("/v1/state/bank/{d}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "UNKNOWN_MODULE", "module");
        let got = get(&n.app, "/v1/state/notary/abc").await;
        assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "key");
        let got = get(&n.app, &format!("/v1/notary/{absent}")).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "digest");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_and_wait_returns_the_receipt_once_committed() {
    for suite in Suite::ALL {
        let n = node(suite);
        let tx = anchor(&n.key, 0, digest(suite, 1));
        let hash = tx.hash(suite);
        // Commit a block once the transaction is pending (and a little after).
        let chain = n.chain.clone();
        let committer = tokio::spawn(async move {
            while !chain.mempool.contains(&hash) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            commit_next(&chain).await
        });
        let (status, v) = tokio::time::timeout(
            Duration::from_secs(60),
            post_json(&n.app, "/v1/transactions?wait=true&timeout_ms=60000", &tx),
        )
        .await
        .expect("the waiting request returns");
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["hash"], hash.to_string());
        assert_eq!(v["status"], "committed");
        assert_eq!(v["receipt"]["status"], "success");
        assert_eq!(v["receipt"]["height"], 1);
        let block = committer.await.expect("committer");
        assert_eq!(block.block().txs, vec![tx]);

        // Nothing commits: the wait times out with 202 and TIMEOUT, the transaction pending.
        let tx = anchor(&n.key, 1, digest(suite, 2));
        let got = post_json(&n.app, "/v1/transactions?wait=true&timeout_ms=200", &tx).await;
        assert_error(
            &got,
            StatusCode::ACCEPTED,
            "TIMEOUT",
            &tx.hash(suite).to_string(),
        );
        assert_eq!(mempool_size(&n.app).await, 1);
    }
}

/// The `.route("path", method(...))` calls of the router, from its source.
fn served_routes() -> Vec<(String, String)> {
    let src = [
        include_str!("../../src/lib.rs"),
        include_str!("../../src/evidence.rs"),
        include_str!("../../src/dkg.rs"),
        include_str!("../../src/tender.rs"),
    ]
    .concat();
    let mut out = Vec::new();
    for part in src.split(".route(").skip(1) {
        let part = part.trim_start();
        let path = part
            .strip_prefix('"')
            .and_then(|p| p.split_once('"'))
            .map(|(p, _)| p.to_string())
            .expect("route path literal");
        let rest = part.split_once(',').expect("handler").1.trim_start();
        let method = rest.split_once('(').expect("method router").0.to_string();
        out.push((path, method));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_and_unknown_paths() {
    let n = node(Suite::Ed25519);
    let (status, doc) = get(&n.app, "/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let routes = served_routes();
    assert!(routes.len() >= 11, "{routes:?}");
    for (path, method) in &routes {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is served but not documented"
        );
    }
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            assert!(
                routes.contains(&(path.clone(), method.clone())),
                "{method} {path} is documented but not served"
            );
        }
    }
    // Any parameter or body can be malformed, and the answer then is a 400: it is documented.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            let takes_input = op["parameters"].as_array().is_some_and(|p| !p.is_empty())
                || op.get("requestBody").is_some();
            assert!(
                !takes_input || op["responses"].get("400").is_some(),
                "{method} {path} takes input but documents no 400"
            );
        }
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().expect("name");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }

    let (status, bytes) = send_raw(&n.app, Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains("# test metrics"));
    assert!(text.contains("xa_committed_height 0\n"), "{text}");
    assert!(text.contains("xa_mempool_transactions 0\n"), "{text}");
    assert!(
        text.contains("xa_mempool_gapped_transactions 0\n"),
        "{text}"
    );
    assert!(text.contains("xa_mempool_evicted_total 0\n"), "{text}");
    assert!(
        text.contains("xa_gossip_messages_received_total 0\n"),
        "{text}"
    );
    assert!(
        text.contains("xa_gossip_transactions_received_total 0\n"),
        "{text}"
    );
    if cfg!(target_os = "linux") {
        let cpu: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("process_cpu_seconds_total "))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no process_cpu_seconds_total in {text}"));
        assert!(cpu > 0.0, "this test process has used CPU time");
    }
    commit_next(&n.chain).await;
    let (_, bytes) = send_raw(&n.app, Method::GET, "/metrics", None).await;
    assert!(
        String::from_utf8(bytes)
            .expect("utf-8")
            .contains("xa_committed_height 1\n")
    );

    for uri in ["/v1/nothing", "/", "/v2/status", "/v1/blocks"] {
        let got = get(&n.app, uri).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "endpoint");
    }
    let got = get(&n.app, "/v1/transactions/xyz").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "hash");
    let got = get(&n.app, &format!("/v1/transactions/{}", "ab".repeat(31))).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "hash");
    let got = get(&n.app, &format!("/v1/transactions/{}", "ab".repeat(32))).await;
    assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "hash");
    let got = get(&n.app, "/v1/notary/0x12").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "digest");
    let got = get(&n.app, "/v1/accounts/nope").await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "MALFORMED_REQUEST",
        "address",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_rejections_are_json_with_stable_codes() {
    let n = node(Suite::Ed25519);
    let d = digest(Suite::Ed25519, 1);
    // Undecodable query parameters.
    let got = get(&n.app, &format!("/v1/state/notary/{d}?height=tip")).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "height");
    let got = get(&n.app, &format!("/v1/state/notary/{d}?proof=maybe")).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "proof");
    let tx = anchor(&n.key, 0, d);
    let got = post_json(&n.app, "/v1/transactions?wait=soon", &tx).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "wait");
    assert_eq!(mempool_size(&n.app).await, 0);
    // A path parameter that is not even UTF-8.
    let got = get(&n.app, "/v1/transactions/%FF%FE").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "path");
    // A known path with the wrong method.
    let got = send(&n.app, Method::DELETE, "/v1/status", None).await;
    assert_error(
        &got,
        StatusCode::METHOD_NOT_ALLOWED,
        "MALFORMED_REQUEST",
        "method",
    );
    let req = Request::builder()
        .method(Method::GET)
        .uri("/v1/transactions")
        .body(Body::empty())
        .expect("request");
    let resp = n.app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()[header::ALLOW], "POST");
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes())
            .expect("a JSON error");
    assert_eq!(v["error"]["code"], "MALFORMED_REQUEST");
    // A body over the API's limit is 413, not a parse error.
    let huge = vec![b' '; xa_api::MAX_BODY_BYTES + 1];
    let got = send(
        &n.app,
        Method::POST,
        "/v1/transactions",
        Some(Body::from(huge)),
    )
    .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "body");
    // The WebSocket endpoint asked without a handshake.
    let (status, v) = get(&n.app, "/v1/events").await;
    assert!(status.is_client_error(), "{status} {v}");
    assert_eq!(v["error"]["code"], "MALFORMED_REQUEST", "{v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.starts_with("upgrade: "), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_events_announce_committed_blocks() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    for suite in Suite::ALL {
        let n = node(suite);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(axum::serve(listener, n.app.clone()).into_future());
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/events"))
            .await
            .expect("connect");
        let tx = anchor(&n.key, 0, digest(suite, 1));
        let (status, _) = submit(&n.app, &tx).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        for expect_txs in [1usize, 0] {
            let block = commit_next(&n.chain).await;
            let msg = tokio::time::timeout(Duration::from_secs(30), async {
                loop {
                    match ws.next().await.expect("open").expect("message") {
                        Message::Text(t) => return t.as_str().to_owned(),
                        Message::Ping(p) => ws.send(Message::Pong(p)).await.expect("pong"),
                        other => panic!("unexpected {other:?}"),
                    }
                }
            })
            .await
            .expect("an event arrives");
            let v: Value = serde_json::from_str(&msg).expect("json");
            let header = &block.block().header;
            assert_eq!(v["height"], header.height, "{v}");
            assert_eq!(v["hash"], block.hash().to_string());
            assert_eq!(v["time_ms"], header.time_ms);
            let receipts = v["receipts"].as_array().expect("receipts");
            assert_eq!(receipts.len(), expect_txs);
            if expect_txs == 1 {
                assert_eq!(receipts[0]["tx_hash"], tx.hash(suite).to_string());
                assert_eq!(receipts[0]["status"], "success");
            }
        }
        ws.close(None).await.expect("close");
        server.abort();
    }
}

/// A transaction for an existing sender, validly signed by a key that is not the sender's.
///
/// The mempool checks only that each signature verifies over the body; whether the signer may
/// act for the sender is a stateful check made at execution. Whatever admission says, such a
/// transaction must never be committed, and the sender's own transaction must go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_signed_by_a_foreign_key_is_never_committed() {
    for suite in Suite::ALL {
        let n = node(suite);
        let intruder = KeyPair::from_seed(suite, &[2; 32]).expect("key");
        let forged = body(&n.key, 0, digest(suite, 1)).sign(&intruder);
        let (status, v) = submit(&n.app, &forged).await;
        let admitted = status == StatusCode::ACCEPTED;
        if !admitted {
            assert_error(
                &(status, v),
                StatusCode::BAD_REQUEST,
                "BAD_SIGNATURE",
                "signatures",
            );
        }
        let block = commit_next(&n.chain).await;
        assert!(
            block.block().txs.is_empty(),
            "the forged transaction was included"
        );
        assert_eq!(
            mempool_size(&n.app).await,
            0,
            "dropped as permanently invalid"
        );
        let (status, _) = get(&n.app, &format!("/v1/transactions/{}", forged.hash(suite))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The owner's transaction with that nonce now goes through.
        let own = anchor(&n.key, 0, digest(suite, 1));
        let (status, v) = submit(&n.app, &own).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        let block = commit_next(&n.chain).await;
        assert_eq!(block.block().txs, vec![own]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_commit_says_so_and_refuses_transactions() {
    let n = node(Suite::Ed25519);
    let (_, status) = get(&n.app, "/v1/status").await;
    assert!(status["halted"].is_null(), "{status}");
    n.chain
        .halt("failed to commit finalized block 7: disk full".into());
    let (_, status) = get(&n.app, "/v1/status").await;
    assert!(
        status["halted"]
            .as_str()
            .is_some_and(|r| r.contains("disk full")),
        "{status}"
    );
    let tx = anchor(&n.key, 0, digest(Suite::Ed25519, 1));
    let got = submit(&n.app, &tx).await;
    assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "node");
    assert_eq!(mempool_size(&n.app).await, 0);
}
