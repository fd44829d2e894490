//! Public keys, signatures and key pairs for both suites.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm2::dsa::signature::{RandomizedSigner, Signer};
use sm2::elliptic_curve::sec1::ToSec1Point;
use zeroize::{Zeroize, Zeroizing};

use crate::{CryptoError, Suite};

/// The distinguishing identifier used for every SM2 signature: the default user ID
/// `1234567812345678` from GM/T 0009. It enters the signed digest through `Z_A` (GM/T 0003.2).
pub const SM2_DEFAULT_USER_ID: &str = "1234567812345678";

/// Domain-separation prefix for [`KeyPair::from_seed`] with [`Suite::Sm2`].
const SM2_SEED_DOMAIN: &[u8] = b"xa-crypto/sm2/from_seed/v1";

/// How many candidates [`KeyPair::from_seed`] tries before giving up (each fails with
/// probability about 2^-32, so more than one attempt is already practically never needed).
const SM2_SEED_MAX_ATTEMPTS: u32 = 64;

/// A public key tagged with its suite. Ed25519: 32 bytes. SM2: 33-byte compressed SEC1 point.
///
/// Every constructor validates the encoding (length and curve point), so a `PublicKey` value is
/// always usable for verification. Text and serde form: `"ed25519:<hex>"` or `"sm2:<hex>"`.
/// Borsh form: the suite (one byte) followed by the key bytes (length-prefixed); decoding
/// validates the key as well.
///
/// Ed25519 keys follow ZIP-215, which accepts every point encoding that decompresses (including
/// non-canonical and small-order ones); a key owner who picks such a key only weakens their own
/// signatures.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, borsh::BorshSerialize)]
pub struct PublicKey {
    suite: Suite,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// Builds a public key from its raw bytes, checking length and that the point is valid.
    ///
    /// Ed25519 takes the 32-byte encoding; SM2 takes the 33-byte compressed SEC1 encoding.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<PublicKey, CryptoError> {
        let key = PublicKey::from_encoded(suite, bytes)?;
        match suite {
            Suite::Ed25519 => {
                ed25519_vk(bytes)?;
            }
            Suite::Sm2 => {
                sm2_vk(bytes)?;
            }
        }
        Ok(key)
    }

    /// Accepts a well-formed key encoding without checking that it is a curve point: the
    /// length, and for SM2 the compressed-point tag. Used when decoding transactions and
    /// blocks, which happens many times per transaction; a key that is not a valid point can
    /// never pass [`verify`](crate::verify), which checks the point, so nothing signed by it is
    /// ever accepted. Use [`PublicKey::from_bytes`] to validate a key fully.
    pub fn from_encoded(suite: Suite, bytes: &[u8]) -> Result<PublicKey, CryptoError> {
        let want = suite.public_key_len();
        if bytes.len() != want {
            return Err(CryptoError::BadPublicKey(format!(
                "{suite} public key must be {want} bytes, got {}",
                bytes.len()
            )));
        }
        if suite == Suite::Sm2 && !matches!(bytes[0], 0x02 | 0x03) {
            return Err(CryptoError::BadPublicKey(format!(
                "sm2 public key must start with 0x02 or 0x03 (compressed SEC1), got 0x{:02x}",
                bytes[0]
            )));
        }
        Ok(PublicKey {
            suite,
            bytes: bytes.to_vec(),
        })
    }

    /// Borrows the raw key bytes (32 bytes for Ed25519, 33 for SM2).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Returns the suite this key belongs to.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Returns the key bytes as lowercase hex, without the suite prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

/// Parses and validates an Ed25519 verification key (ZIP-215: any decompressible point).
pub(crate) fn ed25519_vk(bytes: &[u8]) -> Result<ed25519_zebra::VerificationKey, CryptoError> {
    ed25519_zebra::VerificationKey::try_from(bytes).map_err(|e| {
        CryptoError::BadPublicKey(format!("ed25519 public key is not a curve point: {e}"))
    })
}

/// Parses and validates a compressed SM2 point, bound to the default user ID.
pub(crate) fn sm2_vk(bytes: &[u8]) -> Result<sm2::dsa::VerifyingKey, CryptoError> {
    if bytes.len() != Suite::Sm2.public_key_len() {
        return Err(CryptoError::BadPublicKey(format!(
            "sm2 public key must be 33 bytes (compressed SEC1), got {}",
            bytes.len()
        )));
    }
    // Only the compressed tags are accepted (SEC1 also defines 0x05 "compact" points of the
    // same length, which would give a second encoding of the same key).
    if !matches!(bytes[0], 0x02 | 0x03) {
        return Err(CryptoError::BadPublicKey(format!(
            "sm2 public key must start with 0x02 or 0x03 (compressed SEC1), got 0x{:02x}",
            bytes[0]
        )));
    }
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_USER_ID, bytes).map_err(|_| {
        CryptoError::BadPublicKey("sm2 public key is not a valid compressed curve point".into())
    })?;
    // Reject any non-canonical encoding: the key must re-encode to exactly the input bytes.
    if vk.to_sec1_point(true).as_bytes() != bytes {
        return Err(CryptoError::BadPublicKey(
            "sm2 public key is not canonically encoded".into(),
        ));
    }
    Ok(vk)
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.suite, self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = CryptoError;

    /// Parses `"<suite>:<hex>"`, e.g. `"ed25519:d75a98…"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (suite, hex_part) = s.split_once(':').ok_or_else(|| {
            CryptoError::BadPublicKey("expected \"<suite>:<hex>\", found no ':'".into())
        })?;
        let suite = Suite::from_name(suite)?;
        let bytes = hex::decode(hex_part)
            .map_err(|e| CryptoError::BadPublicKey(format!("key is not valid hex: {e}")))?;
        PublicKey::from_bytes(suite, &bytes)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    /// Checks the encoding only (see [`PublicKey::from_encoded`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let (suite, hex_part) = s.split_once(':').ok_or_else(|| {
            serde::de::Error::custom("public key: expected \"<suite>:<hex>\", found no ':'")
        })?;
        let suite = Suite::from_name(suite).map_err(serde::de::Error::custom)?;
        let bytes = hex::decode(hex_part)
            .map_err(|e| serde::de::Error::custom(format!("public key is not valid hex: {e}")))?;
        PublicKey::from_encoded(suite, &bytes).map_err(serde::de::Error::custom)
    }
}

impl borsh::BorshDeserialize for PublicKey {
    fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
        let suite = Suite::deserialize_reader(reader)?;
        let bytes = Vec::<u8>::deserialize_reader(reader)?;
        PublicKey::from_encoded(suite, &bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }
}

/// Signature bytes: Ed25519 64 bytes; SM2 64 bytes r||s.
///
/// The wrapper does not validate length on construction; [`verify`](crate::verify) rejects
/// malformed signatures with an error. Text and serde form: lowercase hex.
#[derive(Clone, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Signature(pub Vec<u8>);

impl Signature {
    /// Borrows the raw signature bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Returns the signature as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses a signature from hex (length is checked at verification time).
    pub fn from_hex(s: &str) -> Result<Signature, CryptoError> {
        hex::decode(s)
            .map(Signature)
            .map_err(|e| CryptoError::BadSignature(format!("signature is not valid hex: {e}")))
    }

    /// Returns the bytes as a fixed 64-byte array, or an error if the length is wrong.
    pub(crate) fn to_array(&self) -> Result<[u8; 64], CryptoError> {
        self.0.as_slice().try_into().map_err(|_| {
            CryptoError::BadSignature(format!(
                "signature must be {} bytes, got {}",
                Suite::SIGNATURE_LEN,
                self.0.len()
            ))
        })
    }
}

impl From<Vec<u8>> for Signature {
    fn from(bytes: Vec<u8>) -> Self {
        Signature(bytes)
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl FromStr for Signature {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signature::from_hex(s)
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Signature::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// The suite-specific signing key held by a [`KeyPair`]. Both are boxed so that moving a
/// `KeyPair` does not leave copies of the secret behind.
#[derive(Clone)]
enum Secret {
    Ed25519(Box<ed25519_zebra::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

/// A signing key. Debug output never contains secret material.
///
/// Ed25519 secret state is zeroized on drop (via `ed25519-zebra`'s `Zeroize`). The SM2
/// signing key type of the `sm2` crate does not expose zeroization, so SM2 secrets are only
/// freed, not wiped; temporary buffers created by this crate are wiped in both suites.
#[derive(Clone)]
pub struct KeyPair {
    secret: Secret,
    public: PublicKey,
}

impl KeyPair {
    /// Generates a fresh key pair from operating-system randomness.
    pub fn generate(suite: Suite) -> KeyPair {
        match suite {
            Suite::Ed25519 => Self::from_ed25519(ed25519_zebra::SigningKey::from(random_seed())),
            Suite::Sm2 => {
                // Rejection sampling: a uniformly random 32-byte string is a valid SM2 secret
                // (in [1, n-2]) except with probability about 2^-32.
                let mut buf = Zeroizing::new([0u8; 32]);
                loop {
                    OsRng.fill_bytes(buf.as_mut());
                    if let Ok(kp) = Self::from_sm2_bytes(buf.as_ref()) {
                        return kp;
                    }
                }
            }
        }
    }

    /// Derives a key pair deterministically from a 32-byte seed (for tests and devnets).
    ///
    /// * Ed25519: the seed is used directly as the RFC 8032 secret key.
    /// * SM2: candidate `i = 0, 1, …` is
    ///   `SM3("xa-crypto/sm2/from_seed/v1" || seed || i as u32 big-endian)`, read as a big-endian
    ///   integer; the first candidate in `[1, n-2]` becomes the secret scalar. A candidate is
    ///   rejected with probability about 2^-32, so in practice `i = 0` is used; after 64
    ///   rejections an error is returned.
    pub fn from_seed(suite: Suite, seed: &[u8; 32]) -> Result<KeyPair, CryptoError> {
        match suite {
            Suite::Ed25519 => Ok(Self::from_ed25519(ed25519_zebra::SigningKey::from(*seed))),
            Suite::Sm2 => {
                for attempt in 0..SM2_SEED_MAX_ATTEMPTS {
                    let mut candidate = Suite::Sm2
                        .hash_parts(&[SM2_SEED_DOMAIN, seed, &attempt.to_be_bytes()])
                        .0;
                    let result = Self::from_sm2_bytes(&candidate);
                    candidate.zeroize();
                    if let Ok(kp) = result {
                        return Ok(kp);
                    }
                }
                Err(CryptoError::BadSecretKey(
                    "seed did not yield a valid sm2 scalar".into(),
                ))
            }
        }
    }

    /// Rebuilds a key pair from the bytes returned by [`KeyPair::secret_bytes`].
    ///
    /// Ed25519: the 32-byte RFC 8032 secret key. SM2: the 32-byte big-endian secret scalar,
    /// which must lie in `[1, n-2]` (GM/T 0003.1).
    pub fn from_secret_bytes(suite: Suite, bytes: &[u8]) -> Result<KeyPair, CryptoError> {
        match suite {
            Suite::Ed25519 => {
                let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                    CryptoError::BadSecretKey(format!(
                        "ed25519 secret key must be 32 bytes, got {}",
                        bytes.len()
                    ))
                })?;
                let seed = Zeroizing::new(seed);
                Ok(Self::from_ed25519(ed25519_zebra::SigningKey::from(*seed)))
            }
            Suite::Sm2 => Self::from_sm2_bytes(bytes),
        }
    }

    fn from_ed25519(sk: ed25519_zebra::SigningKey) -> KeyPair {
        let public = PublicKey {
            suite: Suite::Ed25519,
            bytes: <[u8; 32]>::from(sk.verification_key()).to_vec(),
        };
        KeyPair {
            secret: Secret::Ed25519(Box::new(sk)),
            public,
        }
    }

    fn from_sm2_bytes(bytes: &[u8]) -> Result<KeyPair, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadSecretKey(format!(
                "sm2 secret key must be 32 bytes, got {}",
                bytes.len()
            )));
        }
        let sk = sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_USER_ID, bytes).map_err(|_| {
            CryptoError::BadSecretKey("sm2 secret scalar must be in [1, n-2]".into())
        })?;
        // GM/T 0003.1 requires d in [1, n-2]: for d = n-1, (1 + d) has no inverse mod n and
        // signing could never succeed. `from_slice` has already rejected 0 and values >= n.
        let d_plus_one = *sk.as_nonzero_scalar().as_ref() + sm2::Scalar::ONE;
        if bool::from(d_plus_one.is_zero()) {
            return Err(CryptoError::BadSecretKey(
                "sm2 secret scalar must be in [1, n-2]".into(),
            ));
        }
        let point = sk.verifying_key().to_sec1_point(true);
        let public = PublicKey {
            suite: Suite::Sm2,
            bytes: point.as_bytes().to_vec(),
        };
        Ok(KeyPair {
            secret: Secret::Sm2(Box::new(sk)),
            public,
        })
    }

    /// Returns the secret key bytes (32 bytes in both suites). Use only to write key files.
    pub fn secret_bytes(&self) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(sk) => sk.as_bytes().to_vec(),
            Secret::Sm2(sk) => sk.to_bytes().to_vec(),
        }
    }

    /// Returns the public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// Returns the suite of this key pair.
    pub fn suite(&self) -> Suite {
        self.public.suite
    }

    /// Signs `msg` and returns a 64-byte signature.
    ///
    /// Ed25519 signatures are deterministic (RFC 8032). SM2 signatures use the default user ID
    /// `1234567812345678` in `Z_A` (GM/T 0003.2, GM/T 0009), SM3 as the hash, and a nonce derived
    /// deterministically per RFC 6979 by the `sm2` crate, so they are deterministic too.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        match &self.secret {
            Secret::Ed25519(sk) => Signature(sk.sign(msg).to_bytes().to_vec()),
            Secret::Sm2(sk) => {
                let sk: &sm2::dsa::SigningKey = sk;
                if let Ok(sig) = Signer::<sm2::dsa::Signature>::try_sign(sk, msg) {
                    return Signature(sig.to_vec());
                }
                // The deterministic nonce was rejected (r = 0 or r + k = n, probability about
                // 2^-255): retry with fresh randomness mixed into the nonce derivation.
                let mut rng = sm2::elliptic_curve::rand_core::UnwrapErr(
                    sm2::elliptic_curve::common::getrandom::SysRng,
                );
                loop {
                    if let Ok(sig) = RandomizedSigner::<sm2::dsa::Signature>::try_sign_with_rng(
                        sk, &mut rng, msg,
                    ) {
                        return Signature(sig.to_vec());
                    }
                }
            }
        }
    }
}

impl Drop for KeyPair {
    fn drop(&mut self) {
        if let Secret::Ed25519(sk) = &mut self.secret {
            sk.zeroize();
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("suite", &self.suite())
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// 32 bytes from the operating system's generator.
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut seed);
    seed
}
