//! Identity and governance reads, and read permissions: private data reaches only callers whose
//! account may read it, through every path the API offers.

use super::auth::request;
use super::*;
use xa_types::{
    GenesisOrg,
    modules::{
        governance::{self, ProposalAction, ProposeArgs},
        identity::{self, RegisterAccountArgs},
    },
};

/// A chain whose genesis has a founding `committee` (the operator: chain_admin + org_admin) and
/// a `housing` bureau with its own admin, plus a citizen there.
struct Gov {
    operator: KeyPair,
    housing_admin: KeyPair,
    citizen: KeyPair,
    chain: Arc<Chain>,
    app: Router,
    _dir: tempfile::TempDir,
}

fn gov_node() -> Gov {
    let suite = Suite::Ed25519;
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = KeyPair::from_seed(suite, &[1; 32]).expect("key");
    let housing_admin = KeyPair::from_seed(suite, &[2; 32]).expect("key");
    let citizen = KeyPair::from_seed(suite, &[3; 32]).expect("key");
    let mut g = genesis(suite, &operator);
    g.organizations = vec![
        GenesisOrg {
            id: "committee".into(),
            name: "City management committee".into(),
            founding: true,
        },
        GenesisOrg {
            id: "housing".into(),
            name: "Housing bureau".into(),
            founding: true,
        },
    ];
    g.accounts = vec![
        GenesisAccount {
            name: "operator".into(),
            public_key: operator.public_key(),
            org: "committee".into(),
            roles: vec!["chain_admin".into(), "org_admin".into()],
        },
        GenesisAccount {
            name: "housing admin".into(),
            public_key: housing_admin.public_key(),
            org: "housing".into(),
            roles: vec!["org_admin".into()],
        },
        GenesisAccount {
            name: "citizen".into(),
            public_key: citizen.public_key(),
            org: "housing".into(),
            roles: vec!["citizen".into()],
        },
    ];
    let store = Store::open(dir.path(), hash_algo(suite)).expect("store");
    let chain = Chain::open(g, store, xa_mempool::Config::default()).expect("chain");
    let app = xa_api::router(chain.clone(), "gov".into(), Arc::new(String::new));
    Gov {
        operator,
        housing_admin,
        citizen,
        chain,
        app,
        _dir: dir,
    }
}

fn signed(key: &KeyPair, nonce: u64, call: Call) -> Transaction {
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 1_000,
        call,
    }
    .sign(key)
}

async fn submit_and_commit(g: &Gov, tx: &Transaction) -> Value {
    let (status, v) = request(
        &g.app,
        Method::POST,
        "/v1/transactions",
        None,
        Some(serde_json::to_value(tx).expect("json")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    commit_next(&g.chain).await;
    let hash = tx.hash(Suite::Ed25519);
    let (status, v) = request(
        &g.app,
        Method::GET,
        &format!("/v1/transactions/{hash}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn login(g: &Gov, key: &KeyPair) -> String {
    super::auth::login(&g.app, CHAIN_ID, key).await
}

#[tokio::test]
async fn personal_data_reaches_only_authorized_callers_through_every_path() {
    let g = gov_node();
    // The housing bureau's admin registers a resident with an identity document digest.
    let resident = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let id_digest = Suite::Ed25519.hash(b"resident identity card");
    let tx = signed(
        &g.housing_admin,
        0,
        Call::new(
            identity::MODULE,
            identity::REGISTER_ACCOUNT,
            &RegisterAccountArgs {
                org: "housing".into(),
                name: "resident".into(),
                public_key: resident.public_key(),
                id_digest: Some(id_digest),
                roles: vec!["citizen".into()],
            },
        ),
    );
    // Watch the event stream's content through the commit listener.
    let seen_events = Arc::new(std::sync::Mutex::new(String::new()));
    {
        let seen = seen_events.clone();
        g.chain.on_commit(move |c| {
            let text = serde_json::to_string(&*c.receipts).unwrap_or_default();
            seen.lock().expect("lock").push_str(&text);
        });
    }
    let anonymous_tx = submit_and_commit(&g, &tx).await;
    assert_eq!(
        anonymous_tx["receipt"]["status"], "success",
        "{anonymous_tx}"
    );
    let digest_hex = id_digest.to_string();
    let resident_addr = address_of(&resident.public_key());

    // Anonymous: the transaction's arguments are redacted, the state read and its proof refused,
    // the account shows no personal data, and no event carries the digest.
    assert!(
        !anonymous_tx.to_string().contains(&digest_hex),
        "{anonymous_tx}"
    );
    assert!(anonymous_tx["transaction"]["body"]["call"]["args_redacted"].is_object());
    let personal = format!("/v1/state/identity/personal:{resident_addr}");
    for uri in [personal.clone(), format!("{personal}?proof=true")] {
        let (status, v) = request(&g.app, Method::GET, &uri, None, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {v}");
        assert_eq!(v["error"]["code"], "PERMISSION_DENIED");
        assert!(!v.to_string().contains(&digest_hex));
    }
    let raw = format!(
        "/v1/state/raw/{}",
        hex::encode(identity::personal_key(&resident_addr))
    );
    let (status, _) = request(&g.app, Method::GET, &raw, None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the raw path is guarded too");
    let (_, v) = request(
        &g.app,
        Method::GET,
        &format!("/v1/accounts/{resident_addr}"),
        None,
        None,
    )
    .await;
    assert!(v.get("personal").is_none(), "{v}");
    assert!(
        !seen_events.lock().expect("lock").contains(&digest_hex),
        "events leak the digest"
    );

    // Another citizen of the same bureau may not read it either.
    let citizen = login(&g, &g.citizen).await;
    let (status, _) = request(&g.app, Method::GET, &personal, Some(&citizen), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The resident, the bureau's admin and the chain admin may.
    for key in [&resident, &g.housing_admin, &g.operator] {
        let token = login(&g, key).await;
        let (status, v) = request(
            &g.app,
            Method::GET,
            &format!("{personal}?proof=true"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["value"]["id_digest"], json!(digest_hex));
        assert!(v["proof"].is_object());
        let hash = tx.hash(Suite::Ed25519);
        let (_, v) = request(
            &g.app,
            Method::GET,
            &format!("/v1/transactions/{hash}"),
            Some(&token),
            None,
        )
        .await;
        assert!(v["transaction"]["body"]["call"]["args"].is_string(), "{v}");
        let (_, v) = request(
            &g.app,
            Method::GET,
            &format!("/v1/accounts/{resident_addr}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(v["personal"]["id_digest"], json!(digest_hex));
    }
}

#[tokio::test]
async fn organizations_policies_proposals_keys_and_validators_are_readable() {
    let g = gov_node();
    let (status, v) = request(&g.app, Method::GET, "/v1/orgs", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = v["organizations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, ["committee", "housing"]);
    let (status, _) = request(&g.app, Method::GET, "/v1/orgs/nope", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Policies: the module default, in text a department administrator can read.
    let (status, v) = request(
        &g.app,
        Method::GET,
        "/v1/policies/notary/anchor",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["source"], "default");
    let text = v["text"].as_str().expect("text").to_string();
    assert!(text.parse::<xa_types::policy::Policy>().is_ok(), "{text}");
    let (_, all) = request(&g.app, Method::GET, "/v1/policies", None, None).await;
    assert!(all["policies"].as_array().expect("list").len() >= 10);
    let (status, v) = request(&g.app, Method::GET, "/v1/policies/notary/nope", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "UNKNOWN_METHOD");

    // A proposal to change it appears as open, with the policy it needs.
    let tip_time = g.chain.tip_block().expect("tip").block().header.time_ms;
    let new_policy: xa_types::policy::Policy = "1 of org_admin @ any".parse().expect("policy");
    let tx = signed(
        &g.operator,
        0,
        Call::new(
            governance::MODULE,
            governance::PROPOSE,
            &ProposeArgs {
                action: ProposalAction::SetPolicy {
                    module: "notary".into(),
                    method: "anchor".into(),
                    policy: new_policy,
                },
                expires_at_ms: tip_time + 3_600_000,
            },
        ),
    );
    let v = submit_and_commit(&g, &tx).await;
    assert_eq!(v["receipt"]["status"], "success", "{v}");
    let (_, v) = request(&g.app, Method::GET, "/v1/proposals?status=open", None, None).await;
    let list = v["proposals"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{v}");
    let id = list[0]["id"].as_u64().expect("id");
    let (status, v) = request(
        &g.app,
        Method::GET,
        &format!("/v1/proposals/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        v["policy"].as_str().expect("needs").contains("founding"),
        "{v}"
    );
    let (status, _) = request(
        &g.app,
        Method::GET,
        "/v1/proposals?status=bogus",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Keys resolve to their account.
    let pk = g.citizen.public_key();
    let (status, v) = request(&g.app, Method::GET, &format!("/v1/keys/{pk}"), None, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["address"], json!(address_of(&pk)));
    assert_eq!(v["key_status"], "active");

    // The validator set in force.
    let (status, v) = request(&g.app, Method::GET, "/v1/validators", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["current"]["epoch"], 0);
    assert_eq!(v["current"]["validators"].as_array().expect("set").len(), 1);
    assert!(v["pending"].is_null());
}

#[tokio::test]
async fn a_block_size_limit_set_by_governance_bounds_the_next_blocks() {
    let g = gov_node();
    let tip_time = g.chain.tip_block().expect("tip").block().header.time_ms;
    let set_param = |value: u64| {
        Call::new(
            governance::MODULE,
            governance::PROPOSE,
            &ProposeArgs {
                action: ProposalAction::SetParam {
                    name: "max_block_txs".into(),
                    value,
                },
                expires_at_ms: tip_time + 3_600_000,
            },
        )
    };
    let approve = |id: u64| {
        Call::new(
            governance::MODULE,
            governance::APPROVE,
            &governance::ProposalIdArgs { id },
        )
    };
    // Above genesis' bound (what every node decodes blocks with): the executing approval fails.
    let v = submit_and_commit(&g, &signed(&g.operator, 0, set_param(50_000))).await;
    assert_eq!(v["receipt"]["status"], "success", "{v}");
    let v = submit_and_commit(&g, &signed(&g.housing_admin, 0, approve(1))).await;
    assert_eq!(v["receipt"]["code"], "INVALID_ARGUMENT", "{v}");
    // Two founding bureaus agree on 2 transactions per block.
    submit_and_commit(&g, &signed(&g.operator, 1, set_param(2))).await;
    let v = submit_and_commit(&g, &signed(&g.housing_admin, 1, approve(2))).await;
    assert_eq!(v["receipt"]["status"], "success", "{v}");

    for nonce in 0..5 {
        let tx = signed(
            &g.citizen,
            nonce,
            Call::new(
                "notary",
                "anchor",
                &AnchorArgs {
                    digest: Suite::Ed25519.hash(&nonce.to_le_bytes()),
                    title: "t".into(),
                    file_size: 1,
                    kind: "k".into(),
                },
            ),
        );
        let (status, v) = request(
            &g.app,
            Method::POST,
            "/v1/transactions",
            None,
            Some(serde_json::to_value(&tx).expect("json")),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    }
    let sizes = [
        commit_next(&g.chain).await.block().txs.len(),
        commit_next(&g.chain).await.block().txs.len(),
        commit_next(&g.chain).await.block().txs.len(),
    ];
    assert_eq!(sizes, [2, 2, 1]);
}
