//! Single and batch signature verification.

use sm2::dsa::signature::Verifier;

use crate::keys::{ed25519_vk, sm2_vk};
use crate::{CryptoError, PublicKey, Signature, Suite};

/// Verify one signature.
///
/// Ed25519 uses the ZIP-215 rules of `ed25519-zebra`; SM2 uses SM3 with the default user ID
/// `1234567812345678`. Returns [`CryptoError::BadSignature`] if the signature is malformed or
/// does not verify, and [`CryptoError::BadPublicKey`] if the key bytes are unusable.
pub fn verify(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
    let sig_bytes = sig.to_array()?;
    match pk.suite() {
        Suite::Ed25519 => {
            let vk = ed25519_vk(pk.as_bytes())?;
            vk.verify(&ed25519_zebra::Signature::from_bytes(&sig_bytes), msg)
                .map_err(|_| CryptoError::BadSignature("ed25519 signature does not verify".into()))
        }
        Suite::Sm2 => {
            let vk = sm2_vk(pk.as_bytes())?;
            let sig = sm2::dsa::Signature::from_slice(&sig_bytes).map_err(|_| {
                CryptoError::BadSignature("sm2 signature r or s is out of range".into())
            })?;
            vk.verify(msg, &sig)
                .map_err(|_| CryptoError::BadSignature("sm2 signature does not verify".into()))
        }
    }
}

/// Verify many signatures at once; returns one bool per item, in order.
///
/// Ed25519 items use batch verification (`ed25519_zebra::batch::Verifier`, ZIP-215 rules —
/// the same rules as [`verify`], so batch and single never disagree); if the batch fails, each
/// Ed25519 item is checked on its own to find the failures. SM2 items are verified one by one.
/// Mixed suites are allowed; malformed items are simply `false`.
pub fn verify_batch(items: &[(&PublicKey, &[u8], &Signature)]) -> Vec<bool> {
    let mut results = vec![false; items.len()];
    let mut ed_items: Vec<(usize, ed25519_zebra::batch::Item)> = Vec::new();

    for (index, (pk, msg, sig)) in items.iter().enumerate() {
        match pk.suite() {
            Suite::Sm2 => results[index] = verify(pk, msg, sig).is_ok(),
            Suite::Ed25519 => {
                let (Ok(vk_bytes), Ok(sig_bytes)) = (
                    <[u8; 32]>::try_from(pk.as_bytes()),
                    <[u8; 64]>::try_from(sig.as_bytes()),
                ) else {
                    continue;
                };
                let item = ed25519_zebra::batch::Item::from((
                    ed25519_zebra::VerificationKeyBytes::from(vk_bytes),
                    ed25519_zebra::Signature::from_bytes(&sig_bytes),
                    *msg,
                ));
                ed_items.push((index, item));
            }
        }
    }

    match ed_items.len() {
        0 => {}
        1 => {
            for (index, item) in ed_items {
                results[index] = item.verify_single().is_ok();
            }
        }
        _ => {
            let mut batch = ed25519_zebra::batch::Verifier::new();
            for (_, item) in &ed_items {
                batch.queue(item.clone());
            }
            if batch.verify(rand10::rng()).is_ok() {
                for (index, _) in &ed_items {
                    results[*index] = true;
                }
            } else {
                for (index, item) in ed_items {
                    results[index] = item.verify_single().is_ok();
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyPair;

    /// The curve order n of the recommended SM2 curve (GM/T 0003.5), big-endian.
    const SM2_N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5,
        0x41, 0x23,
    ];

    #[test]
    fn sm2_signature_with_r_plus_s_equal_to_n_is_refused() {
        // GM/T 0003.2 B5: t = (r + s) mod n = 0 must fail.
        let kp = KeyPair::from_seed(Suite::Sm2, &[7; 32]).expect("seed");
        let sig = kp.sign(b"m").0;
        let r: [u8; 32] = sig[..32].try_into().expect("32 bytes");
        // s = n - r, on big-endian bytes.
        let mut s = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = SM2_N[i] as i16 - r[i] as i16 - borrow;
            (s[i], borrow) = if d < 0 {
                ((d + 256) as u8, 1)
            } else {
                (d as u8, 0)
            };
        }
        let forged = Signature([r.as_slice(), s.as_slice()].concat());
        assert!(verify(&kp.public_key(), b"m", &forged).is_err());
    }

    #[test]
    fn sm2_batch_and_single_agree() {
        let kp = KeyPair::from_seed(Suite::Sm2, &[3; 32]).expect("seed");
        let good = kp.sign(b"a");
        let mut bad = kp.sign(b"b");
        bad.0[40] ^= 0x10;
        let pk = kp.public_key();
        assert!(verify(&pk, b"a", &good).is_ok());
        assert!(verify(&pk, b"b", &bad).is_err());
        let items = [(&pk, b"a".as_slice(), &good), (&pk, b"b".as_slice(), &bad)];
        assert_eq!(verify_batch(&items), vec![true, false]);
    }
}
