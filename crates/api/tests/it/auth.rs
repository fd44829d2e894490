//! Authentication: a signed challenge buys a short-lived bearer token.

use super::*;
use xa_api::auth::signing_message;

pub(super) async fn request(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn challenge(app: &Router, address: Hash) -> [u8; 32] {
    let (status, v) = request(
        app,
        Method::POST,
        "/v1/auth/challenge",
        None,
        Some(json!({"address": address})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    hex::decode(v["challenge"].as_str().expect("challenge"))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

/// `POST /v1/auth/token` with `body`.
async fn post_token(app: &Router, body: Value) -> (StatusCode, Value) {
    request(app, Method::POST, "/v1/auth/token", None, Some(body)).await
}

/// Log in as `key`'s account; returns the bearer token.
pub(super) async fn login(app: &Router, chain_id: &str, key: &KeyPair) -> String {
    let me = address_of(&key.public_key());
    let c = challenge(app, me).await;
    let sig = key.sign(&signing_message(chain_id, &me, &c));
    let (status, v) = post_token(
        app,
        json!({"address": me, "challenge": hex::encode(c), "public_key": key.public_key(), "signature": sig}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["token"].as_str().expect("token").to_string()
}

fn answer(key: &KeyPair, address: Hash, c: &[u8; 32]) -> Value {
    let sig = key.sign(&signing_message(CHAIN_ID, &address, c));
    json!({"address": address, "challenge": hex::encode(c), "public_key": key.public_key(), "signature": sig})
}

#[tokio::test]
async fn signed_challenge_yields_a_token_that_identifies_the_caller() {
    for suite in [Suite::Ed25519, Suite::Sm2] {
        let n = node(suite);
        let me = address_of(&n.key.public_key());
        let c = challenge(&n.app, me).await;
        let (status, v) = post_token(&n.app, answer(&n.key, me, &c)).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let token = v["token"].as_str().expect("token").to_string();

        let (status, v) = request(&n.app, Method::GET, "/v1/auth/whoami", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["authenticated"], json!(true));
        assert_eq!(v["address"], json!(me));

        let (_, v) = request(&n.app, Method::GET, "/v1/auth/whoami", None, None).await;
        assert_eq!(v["authenticated"], json!(false), "no header is anonymous");

        // The challenge was consumed: answering it again fails.
        let (status, v) = post_token(&n.app, answer(&n.key, me, &c)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(v["error"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn bad_answers_and_tokens_are_refused() {
    let n = node(Suite::Ed25519);
    let me = address_of(&n.key.public_key());

    // A key that is not the account's.
    let stranger = KeyPair::from_seed(Suite::Ed25519, &[9; 32]).expect("key");
    let c = challenge(&n.app, me).await;
    let (status, v) = post_token(&n.app, answer(&stranger, me, &c)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("public_key"),
        "{v}"
    );

    // The right key over the wrong message.
    let c = challenge(&n.app, me).await;
    let mut a = answer(&n.key, me, &c);
    a["signature"] = json!(n.key.sign(b"something else"));
    let (status, v) = request(&n.app, Method::POST, "/v1/auth/token", None, Some(a)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("signature"),
        "{v}"
    );

    // A challenge issued for another address.
    let other = address_of(&stranger.public_key());
    let c = challenge(&n.app, other).await;
    let (status, _) = post_token(&n.app, answer(&n.key, me, &c)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Made-up, malformed and non-bearer tokens.
    for bad in ["00".repeat(32), "zz".into()] {
        let (status, v) = request(&n.app, Method::GET, "/v1/auth/whoami", Some(&bad), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["error"]["code"], "UNAUTHENTICATED");
    }
    let (status, v) = post_token(&n.app, json!({"address": me})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "MALFORMED_REQUEST");
}
