//! What an account signs to log in to a node's API (see the API's `auth` module).

use crate::Address;

/// Domain tag of the message signed to obtain an API token.
pub const AUTH_DOMAIN: &[u8] = b"XA-AUTH-V1";

/// The bytes an account signs to answer a login `challenge`: the domain tag, the chain id
/// (length-prefixed, little-endian u32), the address and the challenge. Naming the chain and the
/// address keeps an answer from being replayed on another chain or for another account.
pub fn signing_message(chain_id: &str, address: &Address, challenge: &[u8; 32]) -> Vec<u8> {
    let mut m = AUTH_DOMAIN.to_vec();
    m.extend_from_slice(&(chain_id.len() as u32).to_le_bytes());
    m.extend_from_slice(chain_id.as_bytes());
    m.extend_from_slice(&address.0);
    m.extend_from_slice(challenge);
    m
}
