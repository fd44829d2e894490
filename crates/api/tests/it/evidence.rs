//! Evidence endpoints against a real `Chain` whose blocks carry real finalization certificates
//! (one validator, signed through commonware's simplex ed25519 scheme as the engine would).

use super::{anchor, digest, get, send_raw};
use axum::http::{Method, StatusCode};
use commonware_codec::Encode as _;
use commonware_consensus::{
    simplex::{
        scheme::ed25519::Scheme,
        types::{Finalization, Finalize, Proposal},
    },
    types::{Epoch, Round, View},
};
use commonware_cryptography::{Signer as _, ed25519, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_utils::{iter::NonEmpty, ordered::Set};
use std::sync::Arc;
use xa_node::Chain;
use xa_storage::Store;
use xa_types::{
    ChainParams, Genesis, GenesisAccount, GenesisValidator, KeyPair, Suite, Transaction,
};

struct Certified {
    chain: Arc<Chain>,
    app: axum::Router,
    key: KeyPair,
    validator: ed25519::PrivateKey,
    _dir: tempfile::TempDir,
}

fn certified(suite: Suite) -> Certified {
    let validator = ed25519::PrivateKey::from_seed(1);
    let key = KeyPair::from_seed(suite, &[1; 32]).expect("key");
    let genesis = Genesis {
        chain_id: super::CHAIN_ID.into(),
        suite,
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            name: "city-data-bureau".into(),
            consensus_key: validator.public_key().as_ref().to_vec(),
            p2p_address: "127.0.0.1:1".into(),
        }],
        organizations: vec![xa_types::GenesisOrg {
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
        params: ChainParams::default(),
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), xa_node::chain::hash_algo(suite)).expect("store");
    let chain = Chain::open(genesis, store, xa_mempool::Config::default()).expect("chain");
    let app = xa_api::router(chain.clone(), "n".into(), Arc::new(String::new));
    Certified {
        chain,
        app,
        key,
        validator,
        _dir: dir,
    }
}

impl Certified {
    /// Build on the tip from the mempool, finalize with a real certificate (or none), commit.
    fn commit(&self, certify: bool) -> u64 {
        let (tip, _) = self.chain.tip();
        let parent = self.chain.block_at(tip).unwrap().unwrap();
        let view = tip + 1;
        let block = self
            .chain
            .build(
                &parent,
                0,
                view,
                view - 1,
                self.validator.public_key().as_ref().to_vec(),
                parent.block().header.time_ms + 1_000,
            )
            .unwrap()
            .unwrap();
        let cert = if certify {
            let ns = self.chain.genesis.consensus_namespace();
            let set = Set::try_from(vec![self.validator.public_key()]).unwrap();
            let scheme = Scheme::signer(&ns, set, self.validator.clone()).unwrap();
            let proposal = Proposal::new(
                Round::new(Epoch::new(0), View::new(view)),
                View::new(view - 1),
                Digest(block.hash().0),
            );
            let vote: Finalize<Scheme, Digest> = Finalize::sign(&scheme, proposal).unwrap();
            let f = Finalization::from_finalizes(
                &scheme,
                NonEmpty::try_new([vote].iter()).unwrap(),
                &Sequential,
            )
            .unwrap();
            f.encode().to_vec()
        } else {
            vec![]
        };
        self.chain.commit(&block, cert).unwrap();
        tip + 1
    }

    fn submit(&self, tx: Transaction) {
        assert!(self.chain.submit(vec![tx])[0].is_ok());
    }
}

async fn package(app: &axum::Router, uri: &str) -> Vec<u8> {
    let (status, bytes) = send_raw(app, Method::GET, uri, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&bytes)
    );
    // The served JSON is the package; its canonical file form is what verifiers accept.
    let p: xa_light::Package = serde_json::from_slice(&bytes).expect("package JSON");
    p.to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_packages_verify_offline_for_both_suites() {
    for suite in [Suite::Ed25519, Suite::Sm2] {
        let n = certified(suite);
        let d = digest(suite, 1);
        let tx = anchor(&n.key, 0, d);
        let tx_hash = tx.hash(suite);
        n.submit(tx);
        let n = tokio::task::spawn_blocking(move || {
            n.commit(false); // finalized only through its descendant's certificate
            n.commit(true);
            n
        })
        .await
        .unwrap();
        let g = n.chain.genesis.clone();

        let b = package(&n.app, &format!("/v1/evidence/notary/{d}")).await;
        let r = xa_light::verify_bytes(&b, Some(&g)).expect("notary package verifies");
        assert_eq!(r.height, 1);
        assert_eq!(r.via, Some(2));
        assert_eq!(r.signers, vec!["city-data-bureau".to_string()]);
        println!("{suite:?}: 1-validator notary package {} bytes", b.len());

        let b = package(&n.app, &format!("/v1/evidence/tx/{tx_hash}")).await;
        xa_light::verify_bytes(&b, Some(&g)).expect("tx package verifies");
        let b = package(
            &n.app,
            &format!("/v1/evidence/state/notary/{d}?history=true"),
        )
        .await;
        let r = xa_light::verify_bytes(&b, Some(&g)).expect("history verifies");
        assert!(
            r.statements[0].contains("exactly 1 versions"),
            "{:?}",
            r.statements
        );
        let b = package(&n.app, "/v1/evidence/state/validators/set").await;
        xa_light::verify_bytes(&b, Some(&g)).expect("validator set verifies");
        let b = package(&n.app, "/v1/evidence/consistency?from=1&to=2").await;
        xa_light::verify_bytes(&b, Some(&g)).expect("consistency verifies");
        let got = get(&n.app, "/v1/evidence/consistency?from=2&to=1").await;
        super::assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "from: 2 is after to (1)",
        );

        let (status, h) = get(&n.app, "/v1/headers/2").await;
        assert_eq!(status, StatusCode::OK);
        assert!(h["certificate"].is_string());
        let (_, h1) = get(&n.app, "/v1/headers/1").await;
        assert!(h1["certificate"].is_null());
        assert_eq!(
            h1["header"]["history_root"].as_str().map(str::len),
            Some(64)
        );
        let (status, range) = get(&n.app, "/v1/headers?from=0&to=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(range["headers"].as_array().map(Vec::len), Some(3));
        let (status, _) = get(&n.app, "/v1/headers?from=0&to=5000").await;
        assert_eq!(status, StatusCode::OK, "to is clamped to the tip");

        let (status, html) = send_raw(
            &n.app,
            Method::GET,
            &format!("/v1/notary/{d}/certificate"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let html = String::from_utf8(html).unwrap();
        for needle in [
            "存证证书",
            "city-data-bureau",
            &tx_hash.to_string(),
            "/verify?digest=",
        ] {
            assert!(html.contains(needle), "certificate lacks {needle}");
        }

        // The certificate's link opens the verification page, which verifies the record and the
        // code; a wrong code, an unknown id and malformed fields are told apart.
        let start = html
            .find("href=\"/verify?")
            .expect("certificate links to /verify")
            + 6;
        let link = html[start..]
            .split('"')
            .next()
            .expect("link")
            .replace("&amp;", "&");
        let code = link
            .split("code=")
            .nth(1)
            .expect("code in link")
            .to_string();
        let verify = |uri: String| {
            let app = n.app.clone();
            async move {
                let (status, body) = send_raw(&app, Method::GET, &uri, None).await;
                (status, String::from_utf8(body).expect("utf-8 page"))
            }
        };
        let (status, page) = verify(link.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(r#"data-outcome="verified""#), "{page}");
        assert!(page.contains("matches its evidence package"));
        assert!(page.contains(&tx_hash.to_string()));
        assert!(page.contains("city-data-bureau"));
        let (status, page) = verify("/verify".into()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<form") && !page.contains("data-outcome"));
        let (status, page) =
            verify(format!("/verify?digest={}", d.to_string().to_uppercase())).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "ids are accepted in upper case: {page}"
        );
        assert!(page.contains("Enter the certificate's verification code"));
        let wrong = format!(
            "{}{}",
            &code[..63],
            if code.ends_with('0') { '1' } else { '0' }
        );
        let (status, page) = verify(format!("/verify?digest={d}&code={wrong}")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains(r#"data-outcome="code-mismatch""#), "{page}");
        assert!(
            page.contains(&tx_hash.to_string()),
            "the facts are shown to compare"
        );
        let (status, page) =
            verify(format!("/verify?digest={}&code={code}", digest(suite, 98))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains(r#"data-outcome="not-anchored""#), "{page}");
        let (status, page) = verify("/verify?digest=not-a-digest".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(r#"data-field="digest""#) && page.contains("not-a-digest"));
        let (status, page) = verify(format!("/verify?digest={d}&code=12%3Cb%3E")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(r#"data-field="code""#), "{page}");
        assert!(!page.contains("12<b>"), "user input is escaped: {page}");
        // A code without the evidence ID it belongs to checks nothing: not an empty form.
        let (status, page) = verify(format!("/verify?code={code}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(r#"data-field="digest""#), "{page}");

        // ?proof=true on the plain read endpoints attaches a package that verifies.
        for uri in [
            format!("/v1/notary/{d}?proof=true"),
            format!("/v1/transactions/{tx_hash}?proof=true"),
            "/v1/blocks/1?proof=true".to_string(),
            format!(
                "/v1/accounts/{}?proof=true",
                xa_types::address_of(&n.key.public_key())
            ),
        ] {
            let (status, v) = get(&n.app, &uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {v}");
            let p: xa_light::Package = serde_json::from_value(v["proof"].clone()).expect(&uri);
            xa_light::verify_bytes(&p.to_bytes(), Some(&g)).expect(&uri);
        }
        let (_, v) = get(&n.app, &format!("/v1/notary/{d}")).await;
        assert!(v["proof"].is_null());

        let missing = digest(suite, 99);
        let (status, _) = get(&n.app, &format!("/v1/evidence/notary/{missing}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = get(&n.app, "/v1/evidence/state/validators/bogus").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
