//! Sign, verify and hash with the cryptographic suite a Xiong'an Chain picks at genesis.
//!
//! Two suites are supported (see [`Suite`]):
//!
//! * **`ed25519`**: Ed25519 signatures under the ZIP-215 validation rules (via
//!   `ed25519-zebra`, identical for single and batch verification) and SHA-256 hashing.
//! * **`sm2`**: SM2 signatures (GM/T 0003) with the default user ID `1234567812345678`
//!   (GM/T 0009) and SM3 hashing (GM/T 0004), via the RustCrypto `sm2` and `sm3` crates.
//!
//! All cryptography comes from those crates; this crate only wires them together, fixes the
//! byte encodings, and adds key files.
//!
//! ```
//! use xa_crypto::{KeyPair, Suite, verify};
//!
//! let kp = KeyPair::from_seed(Suite::Sm2, &[7u8; 32]).unwrap();
//! let sig = kp.sign(b"hello");
//! assert!(verify(&kp.public_key(), b"hello", &sig).is_ok());
//! assert_eq!(Suite::Sm2.hash(b"abc").to_string().len(), 64);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod hash;
mod keyfile;
mod keys;
mod verify;

pub use error::CryptoError;
pub use hash::{Hash, Suite};
pub use keyfile::{KeyFile, read_key_file, write_key_file};
pub use keys::{KeyPair, PublicKey, SM2_DEFAULT_USER_ID, Signature, random_seed};
pub use verify::{verify, verify_batch};
