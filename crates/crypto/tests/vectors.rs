//! Known-answer tests for every primitive, each with its published source.

use xa_crypto::{KeyPair, PublicKey, Signature, Suite, verify};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test vector hex")
}

// --- SM3: GM/T 0004-2012, Appendix A ---------------------------------------------------------

#[test]
fn sm3_gmt0004_appendix_a_example_1_abc() {
    // GM/T 0004-2012 Appendix A.1: message "abc".
    assert_eq!(
        Suite::Sm2.hash(b"abc").to_string(),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn sm3_gmt0004_appendix_a_example_2_abcd_x16() {
    // GM/T 0004-2012 Appendix A.2: the 64-byte message "abcd" repeated 16 times.
    let msg = b"abcd".repeat(16);
    assert_eq!(msg.len(), 64);
    assert_eq!(
        Suite::Sm2.hash(&msg).to_string(),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

// --- SHA-256: FIPS 180-2 Appendix B.1 ---------------------------------------------------------

#[test]
fn sha256_fips180_abc() {
    // FIPS 180-2 Appendix B.1 (one-block message "abc").
    assert_eq!(
        Suite::Ed25519.hash(b"abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Well-known digest of the empty string.
    assert_eq!(
        Suite::Ed25519.hash(b"").to_string(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn hash_parts_equals_hash_of_concatenation() {
    let msg = b"abcd".repeat(16);
    for suite in Suite::ALL {
        let whole = suite.hash(&msg);
        assert_eq!(suite.hash_parts(&[&msg[..32], &msg[32..]]), whole);
        assert_eq!(
            suite.hash_parts(&[b"ab", b"", &msg[2..10], &msg[10..63], &msg[63..]]),
            whole
        );
        assert_eq!(suite.hash_parts(&[]), suite.hash(b""));
    }
}

// --- SM2: GM/T 0003.5-2012 Annex A (signature example on the recommended curve) --------------
//
// GM/T 0003.5-2012 "Parameter definitions", Annex A: signature example with the recommended
// 256-bit curve, user ID "1234567812345678", message "message digest". The same vector is used
// by OpenSSL (test/sm2_internal_test.c, "the field values are from GM/T 0003.5-2012, Annex A").

const GM_D: &str = "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8";
const GM_XA: &str = "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020";
const GM_YA: &str = "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13";
const GM_ZA: &str = "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3";
const GM_E: &str = "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640";
const GM_R: &str = "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3";
const GM_S: &str = "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA";
const GM_MSG: &[u8] = b"message digest";

/// The example public key in our 33-byte compressed form: y_A is odd, so the prefix is 0x03.
fn gm_public_key() -> PublicKey {
    let mut compressed = vec![0x03];
    compressed.extend(h(GM_XA));
    PublicKey::from_bytes(Suite::Sm2, &compressed).expect("GM/T example public key")
}

#[test]
fn sm2_gmt0003_public_key_derivation() {
    let kp = KeyPair::from_secret_bytes(Suite::Sm2, &h(GM_D)).expect("GM/T example secret");
    assert_eq!(kp.public_key(), gm_public_key());
    assert_eq!(kp.secret_bytes(), h(GM_D));
    assert_eq!(h(GM_YA).last().map(|b| b & 1), Some(1), "y_A is odd");
}

#[test]
fn sm2_gmt0003_za_and_e_with_default_user_id() {
    // Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A), GM/T 0003.2 §5.5,
    // with the recommended-curve parameters of GM/T 0003.5 and the default ID of GM/T 0009.
    let a = h("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
    let b = h("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
    let xg = h("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
    let yg = h("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
    let id = xa_crypto::SM2_DEFAULT_USER_ID.as_bytes();
    assert_eq!(id, b"1234567812345678");
    let entl = ((id.len() * 8) as u16).to_be_bytes();
    let za = Suite::Sm2.hash_parts(&[&entl, id, &a, &b, &xg, &yg, &h(GM_XA), &h(GM_YA)]);
    assert_eq!(za.0.to_vec(), h(GM_ZA));
    let e = Suite::Sm2.hash_parts(&[za.as_bytes(), GM_MSG]);
    assert_eq!(e.0.to_vec(), h(GM_E));
}

#[test]
fn sm2_gmt0003_signature_verifies() {
    let pk = gm_public_key();
    let sig = Signature([h(GM_R), h(GM_S)].concat());
    verify(&pk, GM_MSG, &sig).expect("GM/T 0003.5 Annex A signature must verify");
    assert!(verify(&pk, b"message digesT", &sig).is_err());
    let mut bad = sig.clone();
    bad.0[63] ^= 1;
    assert!(verify(&pk, GM_MSG, &bad).is_err());
}

#[test]
fn sm2_fixed_vector_of_this_crate() {
    // Regression vector produced once by this crate (sm2 0.14.0, RFC 6979 nonce with SM3):
    // GM/T example key signing "message digest". The nonce differs from the standard's fixed k,
    // so (r, s) differ from Annex A, but both verify under the same key.
    let kp = KeyPair::from_secret_bytes(Suite::Sm2, &h(GM_D)).expect("GM/T example secret");
    let sig = kp.sign(GM_MSG);
    assert_eq!(
        sig.to_string(),
        "24858ee71d63e687feefe41f5af80a59f0791eb1dabc2bbe71daf0e57f06c367\
         3d15550de52785a435004c937256ac715c0e04176ac57062c6722fa692f7a491"
    );
    verify(&gm_public_key(), GM_MSG, &sig).expect("verifies");
}

#[test]
fn sm2_from_seed_is_stable() {
    // Regression vector of this crate's documented SM2 seed derivation:
    // d = SM3("xa-crypto/sm2/from_seed/v1" || seed || 0u32 big-endian) for seed = [1; 32].
    let kp = KeyPair::from_seed(Suite::Sm2, &[1u8; 32]).expect("seed");
    let expected_d = Suite::Sm2.hash_parts(&[b"xa-crypto/sm2/from_seed/v1", &[1u8; 32], &[0; 4]]);
    assert_eq!(kp.secret_bytes(), expected_d.0.to_vec());
    assert_eq!(
        hex::encode(kp.secret_bytes()),
        "ecfb0bb90861449d321420677127ea695e37c61f3a367ba2a715455ad337365f"
    );
    assert_eq!(
        kp.public_key().to_string(),
        "sm2:038a230654c339c949d57c4a407294205ddd86742c8a5afc850e57e8f46bd9181f"
    );
    let again = KeyPair::from_seed(Suite::Sm2, &[1u8; 32]).expect("seed");
    assert_eq!(again.public_key(), kp.public_key());
}

// --- Ed25519: RFC 8032 §7.1 ----------------------------------------------------------------

#[test]
fn ed25519_rfc8032_test_1_and_2() {
    // RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (one byte 0x72).
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ];
    for (secret, public, msg, sig) in cases {
        let seed: [u8; 32] = h(secret).try_into().expect("32 bytes");
        let kp = KeyPair::from_seed(Suite::Ed25519, &seed).expect("ed25519 seed");
        assert_eq!(kp.public_key().to_string(), format!("ed25519:{public}"));
        let signature = kp.sign(&h(msg));
        assert_eq!(signature.to_string(), sig);
        verify(&kp.public_key(), &h(msg), &signature).expect("verifies");
    }
}
