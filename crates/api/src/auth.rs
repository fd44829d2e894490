//! Who is calling: short-lived bearer tokens obtained by signing a challenge with an account key.
//!
//! # Flow
//! 1. `POST /v1/auth/challenge {"address"}` returns a fresh random challenge, valid for
//!    [`CHALLENGE_TTL`].
//! 2. The caller signs [`signing_message`] (domain tag, chain id, address, challenge) with one of
//!    the account's active keys and sends `POST /v1/auth/token {"address", "challenge",
//!    "public_key", "signature"}`. The node checks that the challenge is one it issued for that
//!    address and unused, that the key is an active key of an active account in committed state,
//!    and that the signature verifies; it answers with a bearer token valid for [`TOKEN_TTL`].
//! 3. Later requests carry `Authorization: Bearer <token>`. A request without the header is
//!    anonymous and sees public data only; a request with a bad or expired token is refused with
//!    `UNAUTHENTICATED` rather than silently served as anonymous.
//!
//! Tokens live in this node's memory only: they are a convenience for reads, never consensus
//! input, so each node issues its own and a restart logs everyone out. Randomness and wall-clock
//! time are fine here for the same reason. The account's roles are read from committed state on
//! every request, so a role revoked or an account frozen on chain takes effect at once.

use crate::{ApiError, ApiState};
use axum::{extract::FromRequestParts, http::StatusCode, http::request::Parts};
use rand_core::{OsRng, RngCore as _};
use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use xa_types::{Address, ErrorCode, PublicKey, Signature};

pub use xa_types::auth::{AUTH_DOMAIN, signing_message};
/// How long a challenge may be answered.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(120);
/// How long a token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// Most outstanding challenges or tokens a node keeps (oldest are dropped first).
const MAX_ENTRIES: usize = 100_000;

/// Outstanding challenges and issued tokens.
#[derive(Default)]
pub struct Sessions {
    challenges: Mutex<BTreeMap<[u8; 32], (Address, Instant)>>,
    tokens: Mutex<BTreeMap<[u8; 32], (Address, Instant)>>,
}

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b
}

/// Drop expired entries, then the soonest-expiring ones while over the bound.
fn prune(map: &mut BTreeMap<[u8; 32], (Address, Instant)>, now: Instant) {
    map.retain(|_, (_, expires)| *expires > now);
    while map.len() >= MAX_ENTRIES {
        let oldest = map.iter().min_by_key(|(_, (_, e))| *e).map(|(k, _)| *k);
        match oldest {
            Some(k) => {
                map.remove(&k);
            }
            None => break,
        }
    }
}

impl Sessions {
    /// Issue a challenge for `address`.
    pub fn challenge(&self, address: Address) -> ([u8; 32], Duration) {
        let c = random32();
        let now = Instant::now();
        let mut map = self
            .challenges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        prune(&mut map, now);
        map.insert(c, (address, now + CHALLENGE_TTL));
        (c, CHALLENGE_TTL)
    }

    /// Consume a challenge issued for `address`; false if unknown, expired or for another address.
    pub fn take_challenge(&self, address: &Address, challenge: &[u8; 32]) -> bool {
        let mut map = self
            .challenges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match map.remove(challenge) {
            Some((a, expires)) => a == *address && expires > Instant::now(),
            None => false,
        }
    }

    /// Issue a token for `address`.
    pub fn issue(&self, address: Address) -> ([u8; 32], Duration) {
        let t = random32();
        let now = Instant::now();
        let mut map = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        prune(&mut map, now);
        map.insert(t, (address, now + TOKEN_TTL));
        (t, TOKEN_TTL)
    }

    /// The address a token was issued to, if it is still valid.
    pub fn resolve(&self, token: &[u8; 32]) -> Option<Address> {
        let map = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(token)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(a, _)| *a)
    }
}

/// The caller of a request: `None` when anonymous.
pub struct Caller(pub Option<Address>);

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        message,
    )
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let text = value
            .to_str()
            .map_err(|_| unauthenticated("Authorization: not ASCII"))?;
        let token = text
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthenticated("Authorization: expected 'Bearer <token>'"))?;
        let bytes: [u8; 32] = hex::decode(token.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| unauthenticated("Authorization: token is not 64 hex characters"))?;
        let address = s.sessions.resolve(&bytes).ok_or_else(|| {
            unauthenticated(
                "Authorization: unknown or expired token; obtain a new one at /v1/auth/token",
            )
        })?;
        Ok(Caller(Some(address)))
    }
}

/// Check an answered challenge: the key must be an active key of `account_keys` and the
/// signature must verify over [`signing_message`].
pub fn check_answer(
    chain_id: &str,
    address: &Address,
    challenge: &[u8; 32],
    account_keys: &[PublicKey],
    public_key: &PublicKey,
    signature: &Signature,
) -> Result<(), ApiError> {
    if !account_keys.contains(public_key) {
        return Err(unauthenticated(
            "public_key: not an active key of this account",
        ));
    }
    xa_crypto::verify(
        public_key,
        &signing_message(chain_id, address, challenge),
        signature,
    )
    .map_err(|_| unauthenticated("signature: does not verify over the challenge"))
}
