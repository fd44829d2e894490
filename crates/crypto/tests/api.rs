//! Behaviour tests: signing, malformed input, batch verification, key files and encodings.

use std::path::Path;

use xa_crypto::{
    CryptoError, Hash, KeyFile, KeyPair, PublicKey, Signature, Suite, read_key_file, verify,
    verify_batch, write_key_file,
};

fn seeded(suite: Suite, n: u8) -> KeyPair {
    KeyPair::from_seed(suite, &[n; 32]).expect("seed")
}

// --- sign / verify ---------------------------------------------------------------------------

#[test]
fn round_trip_and_tampering_both_suites() {
    for suite in Suite::ALL {
        let kp = KeyPair::generate(suite);
        let other = KeyPair::generate(suite);
        assert_eq!(kp.suite(), suite);
        assert_eq!(kp.public_key().suite(), suite);
        assert_eq!(kp.public_key().as_bytes().len(), suite.public_key_len());

        let msg = b"transfer 10 XA to bob";
        let sig = kp.sign(msg);
        assert_eq!(sig.as_bytes().len(), Suite::SIGNATURE_LEN);
        verify(&kp.public_key(), msg, &sig).expect("valid signature");

        // Tampered message.
        let err = verify(&kp.public_key(), b"transfer 99 XA to bob", &sig).unwrap_err();
        assert_eq!(err.code(), "BAD_SIGNATURE");
        // Tampered signature: flip one bit in every byte position in turn.
        for i in 0..sig.0.len() {
            let mut bad = sig.clone();
            bad.0[i] ^= 0x01;
            assert!(
                verify(&kp.public_key(), msg, &bad).is_err(),
                "{suite} byte {i}"
            );
        }
        // Wrong key.
        assert_eq!(
            verify(&other.public_key(), msg, &sig).unwrap_err().code(),
            "BAD_SIGNATURE"
        );
        // Deterministic signing in both suites.
        assert_eq!(kp.sign(msg), sig);
    }
}

#[test]
fn signatures_do_not_cross_suites() {
    let ed = seeded(Suite::Ed25519, 3);
    let sm = seeded(Suite::Sm2, 3);
    let msg = b"m";
    assert!(verify(&sm.public_key(), msg, &ed.sign(msg)).is_err());
    assert!(verify(&ed.public_key(), msg, &sm.sign(msg)).is_err());
}

#[test]
fn from_seed_and_secret_bytes_round_trip() {
    for suite in Suite::ALL {
        let a = seeded(suite, 9);
        let b = seeded(suite, 9);
        let c = seeded(suite, 10);
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(a.public_key(), c.public_key());
        let restored = KeyPair::from_secret_bytes(suite, &a.secret_bytes()).expect("restore");
        assert_eq!(restored.public_key(), a.public_key());
        assert_eq!(restored.secret_bytes().len(), suite.secret_key_len());
        let generated = KeyPair::generate(suite);
        let restored =
            KeyPair::from_secret_bytes(suite, &generated.secret_bytes()).expect("restore");
        assert_eq!(restored.public_key(), generated.public_key());
    }
}

#[test]
fn malformed_public_keys_are_errors() {
    for suite in Suite::ALL {
        for len in [0usize, 1, 31, 32, 33, 34, 64, 65] {
            if len == suite.public_key_len() {
                continue;
            }
            let err = PublicKey::from_bytes(suite, &vec![2u8; len]).unwrap_err();
            assert_eq!(err.code(), "BAD_PUBLIC_KEY", "{suite} len {len}");
        }
    }
    // [2; 32] does not decompress to an Edwards point.
    assert_eq!(
        PublicKey::from_bytes(Suite::Ed25519, &[2u8; 32])
            .unwrap_err()
            .code(),
        "BAD_PUBLIC_KEY"
    );
    // SM2: bad SEC1 tag, identity, uncompressed form, and an x with no point on the curve.
    let good = seeded(Suite::Sm2, 1).public_key();
    let mut bad_tag = good.as_bytes().to_vec();
    bad_tag[0] = 0x05;
    assert!(PublicKey::from_bytes(Suite::Sm2, &bad_tag).is_err());
    assert!(PublicKey::from_bytes(Suite::Sm2, &[0u8; 33]).is_err());
    let mut not_on_curve = 0;
    for x in 0u8..16 {
        let mut bytes = [0u8; 33];
        bytes[0] = 0x02;
        bytes[32] = x;
        if PublicKey::from_bytes(Suite::Sm2, &bytes).is_err() {
            not_on_curve += 1;
        }
    }
    assert!(not_on_curve > 0, "some small x values have no curve point");

    // Parsing from text.
    for bad in [
        "",
        "ed25519",
        "ed25519:",
        "ed25519:zz",
        "rsa:00",
        "ED25519:00",
        "sm2:0011",
    ] {
        assert!(bad.parse::<PublicKey>().is_err(), "{bad:?}");
    }
    assert_eq!(
        "rsa:00".parse::<PublicKey>().unwrap_err().code(),
        "UNKNOWN_SUITE"
    );
}

#[test]
fn malformed_signatures_are_errors() {
    for suite in Suite::ALL {
        let kp = seeded(suite, 4);
        let pk = kp.public_key();
        for len in [0usize, 1, 63, 65, 128] {
            let err = verify(&pk, b"m", &Signature(vec![1u8; len])).unwrap_err();
            assert_eq!(err.code(), "BAD_SIGNATURE");
            assert!(err.to_string().contains("64 bytes"), "{err}");
        }
        // All-zero and all-0xff 64-byte signatures (for SM2: r = 0, and r, s >= n).
        for fill in [0x00u8, 0xff] {
            let err = verify(&pk, b"m", &Signature(vec![fill; 64])).unwrap_err();
            assert_eq!(err.code(), "BAD_SIGNATURE");
        }
    }
    assert!(Signature::from_hex("xyz").is_err());
    assert!("0g".parse::<Signature>().is_err());
}

#[test]
fn malformed_secret_keys_are_errors() {
    for suite in Suite::ALL {
        for len in [0usize, 31, 33, 64] {
            let err = KeyPair::from_secret_bytes(suite, &vec![1u8; len]).unwrap_err();
            assert_eq!(err.code(), "BAD_SECRET_KEY");
        }
    }
    // SM2 secret scalars must be in [1, n-2] (GM/T 0003.1).
    let n = hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")
        .expect("hex");
    let with_last = |last: u8| {
        let mut v = n.clone();
        v[31] = last;
        v
    };
    assert!(KeyPair::from_secret_bytes(Suite::Sm2, &[0u8; 32]).is_err());
    assert!(KeyPair::from_secret_bytes(Suite::Sm2, &n).is_err());
    assert!(KeyPair::from_secret_bytes(Suite::Sm2, &[0xffu8; 32]).is_err());
    assert!(KeyPair::from_secret_bytes(Suite::Sm2, &with_last(0x22)).is_err()); // n - 1
    let max = KeyPair::from_secret_bytes(Suite::Sm2, &with_last(0x21)).expect("n - 2 is valid");
    verify(&max.public_key(), b"edge", &max.sign(b"edge")).expect("n - 2 signs");
    let mut one = [0u8; 32];
    one[31] = 1;
    let one = KeyPair::from_secret_bytes(Suite::Sm2, &one).expect("1 is valid");
    verify(&one.public_key(), b"edge", &one.sign(b"edge")).expect("1 signs");
}

#[test]
fn suite_names() {
    for suite in Suite::ALL {
        assert_eq!(Suite::from_name(suite.name()).expect("name"), suite);
        assert_eq!(suite.name().parse::<Suite>().expect("parse"), suite);
        assert_eq!(suite.to_string(), suite.name());
    }
    assert_eq!(Suite::Ed25519.name(), "ed25519");
    assert_eq!(Suite::Sm2.name(), "sm2");
    for bad in ["", "SM2", "Ed25519", "secp256k1", "sm3"] {
        let err = Suite::from_name(bad).unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_SUITE");
        assert!(matches!(err, CryptoError::UnknownSuite(_)));
    }
}

#[test]
fn hash_text_forms() {
    let hash = Suite::Sm2.hash(b"abc");
    let text = hash.to_string();
    assert_eq!(text.len(), 64);
    assert_eq!(format!("{hash:?}"), text);
    assert_eq!(text.parse::<Hash>().expect("parse"), hash);
    assert_eq!(text.to_uppercase().parse::<Hash>().expect("upper"), hash);
    assert_eq!(Hash::default(), Hash::ZERO);
    assert_eq!(hash.as_bytes(), &hash.0);
    for bad in [
        "",
        "00",
        &text[..63],
        &format!("{text}00"),
        &text.replace('6', "g"),
    ] {
        let err = bad.parse::<Hash>().unwrap_err();
        assert_eq!(err.code(), "BAD_HASH", "{bad:?}");
    }
}

// --- batch verification ---------------------------------------------------------------------

fn batch_items(suites: &[Suite], count: usize) -> Vec<(PublicKey, Vec<u8>, Signature)> {
    (0..count)
        .map(|i| {
            let suite = suites[i % suites.len()];
            let kp = seeded(suite, i as u8);
            let msg = format!("message number {i}").into_bytes();
            let sig = kp.sign(&msg);
            (kp.public_key(), msg, sig)
        })
        .collect()
}

fn as_refs(items: &[(PublicKey, Vec<u8>, Signature)]) -> Vec<(&PublicKey, &[u8], &Signature)> {
    items
        .iter()
        .map(|(pk, m, s)| (pk, m.as_slice(), s))
        .collect()
}

#[test]
fn batch_all_valid() {
    assert!(verify_batch(&[]).is_empty());
    for suites in [&[Suite::Ed25519][..], &[Suite::Sm2], &Suite::ALL] {
        let items = batch_items(suites, 64);
        assert_eq!(verify_batch(&as_refs(&items)), vec![true; 64]);
    }
    let single = batch_items(&[Suite::Ed25519], 1);
    assert_eq!(verify_batch(&as_refs(&single)), vec![true]);
}

#[test]
fn batch_one_bad_among_64_ed25519() {
    for bad_index in [0usize, 37, 63] {
        let mut items = batch_items(&[Suite::Ed25519], 64);
        items[bad_index].1.push(b'!'); // tamper with the message
        let results = verify_batch(&as_refs(&items));
        let expected: Vec<bool> = (0..64).map(|i| i != bad_index).collect();
        assert_eq!(results, expected);
    }
}

#[test]
fn batch_mixed_suites_with_failures() {
    let mut items = batch_items(&Suite::ALL, 64);
    items[10].2.0[5] ^= 0xff; // Ed25519 (even index): corrupt signature
    items[21].1 = b"other".to_vec(); // SM2 (odd index): wrong message
    items[30].2 = Signature(vec![0; 10]); // Ed25519: malformed signature length
    items[41].2 = Signature(vec![0; 64]); // SM2: r = 0
    items[50].0 = items[52].0.clone(); // Ed25519: wrong key
    let results = verify_batch(&as_refs(&items));
    let bad = [10usize, 21, 30, 41, 50];
    for (i, ok) in results.iter().enumerate() {
        assert_eq!(*ok, !bad.contains(&i), "item {i}");
    }
    // Batch and single verification agree on every item.
    for (i, (pk, msg, sig)) in items.iter().enumerate() {
        assert_eq!(verify(pk, msg, sig).is_ok(), results[i], "item {i}");
    }
}

// --- key files ---------------------------------------------------------------------------------

#[test]
fn key_file_round_trip_both_suites() {
    let dir = tempfile::tempdir().expect("tempdir");
    for suite in Suite::ALL {
        let kp = KeyPair::generate(suite);
        let path = dir.path().join(format!("{suite}.json"));
        write_key_file(&path, &kp).expect("write");
        let back = read_key_file(&path).expect("read");
        assert_eq!(back.public_key(), kp.public_key());
        assert_eq!(back.secret_bytes(), kp.secret_bytes());

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read raw")).expect("json");
        assert_eq!(json["suite"], suite.name());
        assert_eq!(json["public_key"], kp.public_key().to_string());
        assert_eq!(json["secret_key"], hex::encode(kp.secret_bytes()));

        // KeyFile wrappers behave the same; overwriting is allowed.
        let other = KeyPair::generate(suite);
        KeyFile::write(&path, &other).expect("overwrite");
        assert_eq!(
            KeyFile::read(&path).expect("read").public_key(),
            other.public_key()
        );
    }
}

#[cfg(unix)]
#[test]
fn key_file_mode_is_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("key.json");
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;

    write_key_file(&path, &seeded(Suite::Ed25519, 1)).expect("write");
    assert_eq!(mode(&path), 0o600);

    // An existing world-readable file is tightened before the secret is written.
    let loose = dir.path().join("loose.json");
    std::fs::write(&loose, b"{}").expect("write");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    write_key_file(&loose, &seeded(Suite::Sm2, 1)).expect("overwrite");
    assert_eq!(mode(&loose), 0o600);
    assert!(read_key_file(&loose).is_ok());
}

#[test]
fn debug_never_shows_secret() {
    for suite in Suite::ALL {
        let kp = KeyPair::generate(suite);
        let secret_hex = hex::encode(kp.secret_bytes());
        let debug = format!("{kp:?} {kp:#?}");
        assert!(!debug.contains(&secret_hex), "{debug}");
        assert!(!debug.to_uppercase().contains(&secret_hex.to_uppercase()));
        assert!(debug.contains(&kp.public_key().to_string()));

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.json");
        write_key_file(&path, &kp).expect("write");
        let file: KeyFile =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert!(!format!("{file:?}").contains(&secret_hex));
    }
}

fn expect_bad_file(path: &Path, contents: &str, field: &str) {
    std::fs::write(path, contents).expect("write");
    let err = read_key_file(path).unwrap_err();
    assert_eq!(err.code(), "BAD_KEY_FILE", "{err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains(field), "{text} should name {field}");
    match err {
        CryptoError::BadKeyFile { field: f, .. } => assert!(f.contains(field) || field == "json"),
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn malformed_key_files_name_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.json");
    let kp = seeded(Suite::Ed25519, 5);
    let pk = kp.public_key().to_string();
    let sk = hex::encode(kp.secret_bytes());
    let sm2_pk = seeded(Suite::Sm2, 5).public_key().to_string();
    let other_pk = seeded(Suite::Ed25519, 6).public_key().to_string();

    expect_bad_file(&path, "not json", "<document>");
    expect_bad_file(&path, "", "<document>");
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"{pk}"}}"#),
        "secret_key",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"rsa","public_key":"{pk}","secret_key":"{sk}"}}"#),
        "suite",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"{pk}","secret_key":"zz"}}"#),
        "secret_key",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"{pk}","secret_key":"00ff"}}"#),
        "secret_key",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"ed25519:00","secret_key":"{sk}"}}"#),
        "public_key",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"{other_pk}","secret_key":"{sk}"}}"#),
        "public_key",
    );
    expect_bad_file(
        &path,
        &format!(r#"{{"suite":"ed25519","public_key":"{sm2_pk}","secret_key":"{sk}"}}"#),
        "public_key",
    );
    // An SM2 secret that is out of range (zero).
    expect_bad_file(
        &path,
        &format!(
            r#"{{"suite":"sm2","public_key":"{sm2_pk}","secret_key":"{}"}}"#,
            "00".repeat(32)
        ),
        "secret_key",
    );

    // A missing file is an I/O error naming the path.
    let missing = dir.path().join("missing.json");
    let err = read_key_file(&missing).unwrap_err();
    assert_eq!(err.code(), "IO_ERROR");
    assert!(err.to_string().contains("missing.json"));
}

// --- encodings -------------------------------------------------------------------------------

#[test]
fn serde_json_round_trips() {
    for suite in Suite::ALL {
        let kp = seeded(suite, 7);
        let pk = kp.public_key();
        let json = serde_json::to_string(&pk).expect("ser");
        assert_eq!(
            json,
            format!("\"{}:{}\"", suite.name(), hex::encode(pk.as_bytes()))
        );
        assert_eq!(serde_json::from_str::<PublicKey>(&json).expect("de"), pk);
        assert_eq!(pk.to_string().parse::<PublicKey>().expect("parse"), pk);

        let sig = kp.sign(b"serde");
        let json = serde_json::to_string(&sig).expect("ser");
        assert_eq!(json, format!("\"{}\"", hex::encode(&sig.0)));
        assert_eq!(serde_json::from_str::<Signature>(&json).expect("de"), sig);

        let hash = suite.hash(b"serde");
        let json = serde_json::to_string(&hash).expect("ser");
        assert_eq!(json, format!("\"{}\"", hex::encode(hash.0)));
        assert_eq!(serde_json::from_str::<Hash>(&json).expect("de"), hash);

        let json = serde_json::to_string(&suite).expect("ser");
        assert_eq!(json, format!("\"{}\"", suite.name()));
        assert_eq!(serde_json::from_str::<Suite>(&json).expect("de"), suite);
    }
    assert!(serde_json::from_str::<Suite>("\"rsa\"").is_err());
    assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
    assert!(serde_json::from_str::<PublicKey>("\"ed25519:00\"").is_err());
    assert!(serde_json::from_str::<Signature>("\"0\"").is_err());
    assert!(serde_json::from_str::<PublicKey>("42").is_err());
}

#[test]
fn borsh_round_trips_and_validates() {
    for suite in Suite::ALL {
        let kp = seeded(suite, 8);
        let pk = kp.public_key();
        let sig = kp.sign(b"borsh");
        let hash = suite.hash(b"borsh");

        let bytes = borsh::to_vec(&(suite, &pk, &sig, hash)).expect("borsh");
        let back: (Suite, PublicKey, Signature, Hash) = borsh::from_slice(&bytes).expect("de");
        assert_eq!(back, (suite, pk.clone(), sig, hash));
        assert_eq!(borsh::to_vec(&hash).expect("borsh"), hash.0.to_vec());

        // Decoding checks the encoding (length, SM2 tag); the point itself is checked by
        // verification. [2; 32] does not decompress on Ed25519; 0x05 is not a SEC1 tag for SM2.
        let mut bad = borsh::to_vec(&pk).expect("borsh");
        let len = bad.len();
        bad[len - pk.as_bytes().len()..].fill(if suite == Suite::Sm2 { 5 } else { 2 });
        match suite {
            Suite::Sm2 => assert!(borsh::from_slice::<PublicKey>(&bad).is_err()),
            Suite::Ed25519 => {
                let decoded = borsh::from_slice::<PublicKey>(&bad).expect("well-formed encoding");
                assert!(PublicKey::from_bytes(suite, decoded.as_bytes()).is_err());
                assert!(verify(&decoded, b"borsh", &kp.sign(b"borsh")).is_err());
                assert_eq!(
                    verify_batch(&[(&decoded, b"borsh", &kp.sign(b"borsh"))]),
                    vec![false]
                );
            }
        }
        // Truncated input is an error, not a panic.
        assert!(borsh::from_slice::<PublicKey>(&bad[..len - 1]).is_err());
    }
    assert!(borsh::from_slice::<Suite>(&[2]).is_err());
}

#[test]
fn zip215_edge_case_single_and_batch_agree() {
    // ZIP-215 accepts small-order keys and checks the cofactored equation. With A = identity
    // (encoding 0x01 00..00), R = identity and s = 0, [8][s]B = [8]R + [8][k]A holds for any
    // message, so both paths must accept it (a key owner choosing such a key only hurts itself).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let pk = PublicKey::from_bytes(Suite::Ed25519, &identity).expect("ZIP-215 accepts");
    let mut sig = vec![0u8; 64];
    sig[0] = 1;
    let sig = Signature(sig);
    let single = verify(&pk, b"anything", &sig).is_ok();
    assert!(single);

    let mut items = batch_items(&[Suite::Ed25519], 8);
    items.push((pk, b"anything".to_vec(), sig));
    items[3].1.push(0); // and one genuinely bad item to force the fallback path
    let results = verify_batch(&as_refs(&items));
    for (i, (pk, msg, sig)) in items.iter().enumerate() {
        assert_eq!(verify(pk, msg, sig).is_ok(), results[i], "item {i}");
    }
    assert!(results[8]);
    assert!(!results[3]);
}
