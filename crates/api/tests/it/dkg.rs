//! Reading the tender key's origin and reshare rounds: `/v1/dkg` and `/v1/dkg/rounds/{round}`
//! on chains without a threshold key and with the trusted dealer's (which cannot reshare).
//! Chains that reshare are read through these endpoints in `bin/xachain/tests/reshare.rs`.

use super::*;
use xa_execution::sealing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkg_endpoints_name_the_keys_source_and_refuse_unknown_rounds() {
    let n = node(Suite::Ed25519);
    let (status, v) = get(&n.app, "/v1/dkg").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["source"], "none", "{v}");
    assert_eq!(v["reshares"], false, "{v}");
    assert!(v["in_force"].is_null() && v["open_round"].is_null(), "{v}");

    let (threshold, _) = sealing::deal_trusted_dealer_devnet_only([5; 32], 4).expect("deal");
    let n = super::tender::tender_node(threshold);
    let (status, v) = get(&n.app, "/v1/dkg").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["source"], "trusted_dealer_devnet_only", "{v}");
    assert_eq!(v["shares"], 4, "{v}");
    assert_eq!(v["reshares"], false, "{v}");
    assert!(v["next_round"].is_null(), "{v}");

    let got = get(&n.app, "/v1/dkg/rounds/1").await;
    assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND", "round");
    let got = get(&n.app, "/v1/dkg/rounds/one").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "round");
}
