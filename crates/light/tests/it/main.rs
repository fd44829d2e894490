//! Light client and evidence package tests, on synthetic chains of both suites.

mod fixture;

use fixture::TestChain;
use xa_light::{ErrorKind, LightClient, Package, Record, export, verify_bytes};
use xa_types::{Hash, Suite, modules::notary::record_key};

const SUITES: [Suite; 2] = [Suite::Ed25519, Suite::Sm2];

fn bytes(p: &Package) -> Vec<u8> {
    p.to_bytes()
}

fn reject(p: &Package) -> xa_light::LightError {
    verify_bytes(&bytes(p), None).expect_err("must not verify")
}

#[test]
fn transaction_and_notary_packages_verify() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, u64::MAX);
        c.empty(2);
        let (digest, tx_hash, height) = c.anchor("contract.pdf", None);
        c.empty(2);
        let p = export::transaction(&c.store, &c.genesis, &tx_hash).expect("export");
        let r = verify_bytes(&bytes(&p), Some(&c.genesis)).expect("verifies");
        assert_eq!(r.height, height);
        assert_eq!(r.signers.len(), 3);
        assert_eq!(r.via, None);
        let p = export::notary(&c.store, &c.genesis, &digest).expect("export");
        let b = bytes(&p);
        let r = verify_bytes(&b, Some(&c.genesis)).expect("verifies");
        let rec = r.notary.expect("notary record");
        assert_eq!(rec.digest, digest);
        assert_eq!(rec.title, "contract.pdf");
        println!("{suite:?}: notary package {} bytes", b.len());
        assert!(b.len() < 20 * 1024, "package is {} bytes", b.len());
    }
}

#[test]
fn uncertified_block_is_proven_through_a_certified_descendant() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, u64::MAX);
        c.empty(3);
        let (digest, _, height) = c.anchor("photo.jpg", Some(false));
        c.commit(vec![], vec![], Some(false));
        c.empty(1);
        let p = export::notary(&c.store, &c.genesis, &digest).expect("export");
        assert_eq!(p.linked.len(), 1);
        assert_eq!(p.headers[0].header.height, height + 2);
        let r = verify_bytes(&bytes(&p), None).expect("verifies");
        assert_eq!(r.via, Some(height + 2));
        // The genesis block too, through the history root.
        let p = export::state(&c.store, &c.genesis, b"validators/set", Some(0)).expect("export");
        verify_bytes(&bytes(&p), None).expect("genesis state verifies");
        // A linked header with a tampered proof fails, naming it.
        let mut p = export::notary(&c.store, &c.genesis, &digest).expect("export");
        p.linked[0].proof.path[0].0[3] ^= 1;
        let e = reject(&p);
        assert_eq!(e.kind, ErrorKind::Proof);
        assert!(e.part.starts_with("linked[0].proof"), "{e}");
    }
}

#[test]
fn state_value_and_absence_verify() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, u64::MAX);
        let (digest, _, _) = c.anchor("a.txt", None);
        c.empty(1);
        let p = export::state(&c.store, &c.genesis, &record_key(&digest), None).expect("export");
        verify_bytes(&bytes(&p), None).expect("inclusion");
        let absent = record_key(&Hash([0x55; 32]));
        let p = export::state(&c.store, &c.genesis, &absent, None).expect("export");
        let Record::State(s) = &p.record else {
            panic!()
        };
        assert!(s.value.is_none());
        verify_bytes(&bytes(&p), None).expect("absence");
        // Claiming a value for the absent key fails.
        let mut bad = p.clone();
        if let Record::State(s) = &mut bad.record {
            s.value = Some(b"forged".to_vec());
        }
        let e = reject(&bad);
        assert_eq!(e.part, "record.proof", "{e}");
        // Claiming absence for the present key fails.
        let mut p = export::state(&c.store, &c.genesis, &record_key(&digest), None).unwrap();
        if let Record::State(s) = &mut p.record {
            s.value = None;
        }
        assert_eq!(reject(&p).kind, ErrorKind::Proof);
    }
}

#[test]
fn history_detects_removed_duplicated_reordered_versions() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, u64::MAX);
        let key = b"notary/register/parcel-17".to_vec();
        c.write(&key, Some(b"owner: A"), Hash([1; 32]));
        c.empty(1);
        c.write(&key, Some(b"owner: B"), Hash([2; 32]));
        c.write(&key, None, Hash([3; 32]));
        c.write(&key, Some(b"owner: C"), Hash([4; 32]));
        c.empty(1);
        let p = export::history(&c.store, &c.genesis, &key, None).expect("export");
        let Record::History(h) = &p.record else {
            panic!()
        };
        assert_eq!(h.versions.len(), 4);
        assert_eq!(h.versions[2].value, None);
        assert_eq!(h.versions[3].tx_hash, Hash([4; 32]));
        let r = verify_bytes(&bytes(&p), None).expect("verifies");
        assert!(
            r.statements[0].contains("exactly 4 versions"),
            "{:?}",
            r.statements
        );

        let edit = |f: &dyn Fn(&mut Vec<xa_types::modules::history::Version>)| {
            let mut bad = p.clone();
            if let Record::History(h) = &mut bad.record {
                f(&mut h.versions);
            }
            reject(&bad)
        };
        let e = edit(&|v| {
            v.remove(1);
        });
        assert_eq!(e.part, "record.proof", "removed: {e}");
        let e = edit(&|v| {
            v.remove(3);
        });
        assert_eq!(e.part, "record.proof", "removed last: {e}");
        let e = edit(&|v| {
            let d = v[1].clone();
            v.insert(1, d);
        });
        assert_eq!(e.part, "record.proof", "duplicated: {e}");
        let e = edit(&|v| v.swap(1, 2));
        assert!(e.part.starts_with("record.versions"), "reordered: {e}");
        // Reordered with heights rewritten to look increasing: the chain catches it.
        let e = edit(&|v| {
            let (a, b) = (v[1].value.clone(), v[2].value.clone());
            v[1].value = b;
            v[2].value = a;
        });
        assert_eq!(e.part, "record.proof", "values swapped: {e}");
        let e = edit(&|v| v[0].tx_hash = Hash([9; 32]));
        assert_eq!(e.part, "record.proof", "writer altered: {e}");
    }
}

/// Several transactions of one block write the same key: one version each, in block order, all
/// at that height; the exporter lists them from the node's stored block versions, and leaving
/// out, altering, reordering or re-attributing an intermediate one fails.
#[test]
fn history_keeps_every_transactions_version_within_a_block() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, u64::MAX);
        let key = b"payment/request/7".to_vec();
        let h1 = c.write(&key, Some(b"submitted"), Hash([1; 32]));
        let h2 = c.write_many(
            &key,
            &[
                (Some(b"line 0 paid"), Hash([2; 32])),
                (Some(b"line 1 paid"), Hash([3; 32])),
                (Some(b"line 2 paid"), Hash([4; 32])),
            ],
        );
        c.empty(1);
        let h3 = c.write_many(
            &key,
            &[(None, Hash([5; 32])), (Some(b"again"), Hash([6; 32]))],
        );
        c.empty(1);
        // Only blocks writing the key twice or more store their versions.
        assert!(c.store.block_versions(&key, h1).unwrap().is_none());
        assert_eq!(
            c.store.block_versions(&key, h2).unwrap().map(|v| v.len()),
            Some(3)
        );

        let p = export::history(&c.store, &c.genesis, &key, None).expect("export");
        let Record::History(h) = &p.record else {
            panic!()
        };
        let got: Vec<(u64, Hash, Option<&[u8]>)> = h
            .versions
            .iter()
            .map(|v| (v.height, v.tx_hash, v.value.as_deref()))
            .collect();
        let want: Vec<(u64, Hash, Option<&[u8]>)> = vec![
            (h1, Hash([1; 32]), Some(b"submitted")),
            (h2, Hash([2; 32]), Some(b"line 0 paid")),
            (h2, Hash([3; 32]), Some(b"line 1 paid")),
            (h2, Hash([4; 32]), Some(b"line 2 paid")),
            (h3, Hash([5; 32]), None),
            (h3, Hash([6; 32]), Some(b"again")),
        ];
        assert_eq!(got, want);
        let r = verify_bytes(&bytes(&p), None).expect("verifies");
        assert!(
            r.statements[0].contains("exactly 6 versions"),
            "{:?}",
            r.statements
        );
        // A history as of the block with three writes ends with its last one.
        let at = export::history(&c.store, &c.genesis, &key, Some(h2 + 1)).expect("export");
        let Record::History(a) = &at.record else {
            panic!()
        };
        assert_eq!(a.versions.len(), 4);
        verify_bytes(&bytes(&at), None).expect("verifies");

        let edit = |f: &dyn Fn(&mut Vec<xa_types::modules::history::Version>)| {
            let mut bad = p.clone();
            if let Record::History(h) = &mut bad.record {
                f(&mut h.versions);
            }
            reject(&bad)
        };
        for (what, e) in [
            (
                "intermediate omitted",
                edit(&|v| {
                    v.remove(2);
                }),
            ),
            ("intermediates swapped", edit(&|v| v.swap(1, 2))),
            (
                "intermediate value altered",
                edit(&|v| v[2].value = Some(b"line 1 paid twice".to_vec())),
            ),
            (
                "intermediate re-attributed",
                edit(&|v| v[2].tx_hash = Hash([4; 32])),
            ),
            (
                "intermediate deleted",
                edit(&|v| v[4].value = Some(b"never deleted".to_vec())),
            ),
            (
                "block collapsed to its last version",
                edit(&|v| {
                    v.drain(1..3);
                }),
            ),
            (
                "intermediate moved to the next block",
                edit(&|v| v[3].height = h2 + 1),
            ),
        ] {
            assert_eq!(e.part, "record.proof", "{what}: {e}");
        }
        // Heights must still never decrease.
        let e = edit(&|v| v[3].height = h1);
        assert_eq!(e.part, "record.versions[3].height", "{e}");
    }
}

#[test]
fn consistency_between_heights_and_forks() {
    for suite in SUITES {
        let mut a = TestChain::new(suite, u64::MAX);
        let mut b = TestChain::new(suite, u64::MAX);
        a.empty(4);
        b.empty(4);
        a.anchor("fork-a", None);
        b.anchor("fork-b", None);
        a.empty(5);
        b.empty(5);
        let p = export::consistency(&a.store, &a.genesis, 3, 10).expect("export");
        verify_bytes(&bytes(&p), Some(&a.genesis)).expect("consistent");
        let p2 = export::consistency(&a.store, &a.genesis, 7, 10).expect("export");
        verify_bytes(&bytes(&p2), None).expect("consistent");
        // Fork: the proof for chain A checked against chain B's (equivocated, but certified)
        // header at 10.
        let fork = export::consistency(&b.store, &b.genesis, 7, 10).expect("export");
        let mut mixed = p2.clone();
        let i = mixed
            .headers
            .iter()
            .position(|h| h.header.height == 10)
            .unwrap();
        let j = fork
            .headers
            .iter()
            .position(|h| h.header.height == 10)
            .unwrap();
        mixed.headers[i] = fork.headers[j].clone();
        let e = reject(&mixed);
        assert_eq!(e.part, "record.proof", "{e}");
        assert_eq!(e.kind, ErrorKind::Proof);
        // And B's proof against A's headers.
        let mut mixed = fork.clone();
        mixed.headers = p2.headers.clone();
        mixed.linked = p2.linked.clone();
        assert_eq!(reject(&mixed).part, "record.proof");
        // A proof claiming other sizes.
        let mut bad = p.clone();
        if let Record::Consistency(c) = &mut bad.record {
            c.proof.size1 = 4;
        }
        assert_eq!(reject(&bad).kind, ErrorKind::Mismatch);
    }
}

#[test]
fn validator_set_lineage_and_forged_certificates() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, 4);
        c.change_set(4..8); // takes effect in epoch 1 (heights 4..=7)
        c.empty(5);
        let (digest, _, height) = c.anchor("deed.pdf", None); // height 6, epoch 1
        c.empty(4); // into epoch 2 (unchanged set)
        let p = export::notary(&c.store, &c.genesis, &digest).expect("export");
        assert_eq!(p.lineage.len(), 1);
        let r = verify_bytes(&bytes(&p), Some(&c.genesis)).expect("verifies");
        assert_eq!(r.epochs, vec![1]);
        assert_eq!(r.height, height);
        let h = export::history(&c.store, &c.genesis, b"validators/set", None).expect("export");
        assert_eq!(h.lineage.len(), 2);
        let r = verify_bytes(&bytes(&h), None).expect("set history verifies");
        assert_eq!(r.epochs, vec![1, 2]);

        // Without the lineage, epoch 1's set is unknown.
        let mut bad = p.clone();
        bad.lineage.clear();
        let e = reject(&bad);
        assert_eq!(e.kind, ErrorKind::UnknownEpoch, "{e}");
        assert_eq!(e.part, "headers[0].certificate");

        // Certified by the set governance had already replaced (epoch 0's keys sign in epoch 1).
        let mut bad = p.clone();
        let header = bad.headers[0].header.clone();
        bad.headers[0].certificate = c.certificate(&header, &c.keys[&0], 3);
        let e = reject(&bad);
        assert_eq!(e.kind, ErrorKind::Certificate, "{e}");
        assert!(e.part.starts_with("headers[0].certificate"), "{e}");

        // Certified by keys that were never validators.
        let (never, _) = fixture::keys(100..104);
        let mut bad = p.clone();
        bad.headers[0].certificate = c.certificate(&header, &never, 3);
        let e = reject(&bad);
        assert_eq!(e.part, "headers[0].certificate.signatures", "{e}");

        // A forged lineage: a set change to never-validators, proven by nothing.
        let mut bad = p.clone();
        bad.lineage[0].set.validators = fixture::keys(100..104).1;
        let e = reject(&bad);
        assert_eq!(e.part, "lineage[0].proof", "{e}");

        // A certificate for another block.
        let mut bad = p.clone();
        let other = c.header(height + 1);
        bad.headers[0].certificate = c.certificate(&other, &c.keys[&1], 3);
        let e = reject(&bad);
        assert_eq!(e.part, "headers[0].certificate.proposal.payload", "{e}");

        // Another chain's genesis.
        let mut other = c.genesis.clone();
        other.chain_id.push('x');
        let e = verify_bytes(&bytes(&p), Some(&other)).expect_err("other chain");
        assert_eq!(e.part, "genesis");
    }
}

#[test]
fn light_client_api_follows_epochs() {
    let mut c = TestChain::new(Suite::Ed25519, 4);
    c.change_set(10..14);
    c.empty(6);
    let mut lc = LightClient::new(&c.genesis).expect("client");
    let h3 = c.header(3);
    let h5 = c.header(5);
    let cert5 = c.store.finalization(5).unwrap().unwrap();
    assert_eq!(
        lc.verify_certified(&h5, &cert5).unwrap_err().kind,
        ErrorKind::UnknownEpoch
    );
    lc.verify_certified(&h3, &c.store.finalization(3).unwrap().unwrap())
        .expect("epoch 0");
    let (v, proof) = c.store.get_with_proof(b"validators/set", 3).unwrap();
    let set: xa_types::modules::validators::ValidatorSet = xa_types::decode(&v.unwrap()).unwrap();
    assert_eq!(lc.verify_set_change(3, &set, &proof).expect("change"), 1);
    assert_eq!(lc.verify_certified(&h5, &cert5).expect("epoch 1").len(), 3);
    // Set change at a height that is not an epoch's last.
    assert_eq!(
        lc.verify_set_change(5, &set, &proof).unwrap_err().kind,
        ErrorKind::Mismatch
    );
}

#[test]
fn flipped_bit_anywhere_fails() {
    for suite in SUITES {
        let mut c = TestChain::new(suite, 4);
        c.change_set(4..8);
        c.empty(5);
        let (digest, _, _) = c.anchor("flip.pdf", Some(false));
        c.empty(1);
        let p = export::notary(&c.store, &c.genesis, &digest).expect("export");
        assert!(!p.lineage.is_empty() && !p.linked.is_empty());
        let good = bytes(&p);
        verify_bytes(&good, None).expect("verifies");
        let mut parts = std::collections::BTreeMap::<String, usize>::new();
        for pos in 0..good.len() {
            // One bit per byte, cycling through all eight positions.
            let mut b = good.clone();
            b[pos] ^= 1 << (pos % 8);
            match verify_bytes(&b, None) {
                Ok(_) => panic!(
                    "{suite:?}: flipping bit {} of byte {pos} went unnoticed: {}",
                    pos % 8,
                    String::from_utf8_lossy(
                        &good[pos.saturating_sub(300)..(pos + 40).min(good.len())]
                    )
                ),
                Err(e) => {
                    assert!(
                        !e.part.is_empty() && !e.reason.is_empty(),
                        "byte {pos}: {e:?}"
                    );
                    let top = e.part.split(['.', '[']).next().unwrap_or("").to_string();
                    *parts.entry(top).or_default() += 1;
                }
            }
        }
        println!(
            "{suite:?}: {} flips rejected, by part: {parts:?}",
            good.len()
        );
    }
}

/// Deterministic mutations (no proptest): truncations, insertions, deletions, byte
/// substitutions, oversized and nested inputs. The parser and verifier must answer each with an
/// error, never a panic.
#[test]
fn mutated_packages_never_panic() {
    let mut c = TestChain::new(Suite::Sm2, u64::MAX);
    let (digest, _, _) = c.anchor("m.pdf", Some(false));
    c.empty(1);
    let good = bytes(&export::notary(&c.store, &c.genesis, &digest).unwrap());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*: a reproducible stream, enough for picking mutations.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut n = 0;
    for len in (0..good.len()).step_by(7) {
        assert!(
            verify_bytes(&good[..len], None).is_err(),
            "truncated at {len}"
        );
        n += 1;
    }
    for _ in 0..2_000 {
        let mut b = good.clone();
        for _ in 0..1 + next() % 4 {
            let pos = (next() as usize) % b.len().max(1);
            match next() % 4 {
                0 => b[pos] = next() as u8,
                1 => {
                    b.remove(pos);
                }
                2 => b.insert(pos, b"{}[]\",:0-e9\\u"[(next() % 13) as usize]),
                _ => {
                    let end = (pos + (next() as usize) % 64).min(b.len());
                    b.drain(pos..end);
                }
            }
        }
        if b != good {
            let _ = verify_bytes(&b, None);
            n += 1;
        }
    }
    let e = verify_bytes(&vec![b' '; xa_light::MAX_PACKAGE_BYTES + 1], None).unwrap_err();
    assert!(e.reason.contains("allowed"), "{e}");
    let nested = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
    assert!(verify_bytes(&nested, None).is_err());
    assert!(verify_bytes(b"", None).is_err());
    assert!(verify_bytes(b"null", None).is_err());
    assert!(verify_bytes(&[0xff, 0xfe, 0x00], None).is_err());
    let e = verify_bytes(br#"{"format":"xa-evidence/9"}"#, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Malformed);
    println!("{n} mutated packages rejected without a panic");
}

/// Frozen evidence packages (docs/vectors/): each must still verify, byte for byte, and its
/// SHA-256 is pinned so that the checked-in files cannot drift. `XA_WRITE_VECTORS=1`
/// regenerates them (then update the pinned hashes and docs/proofs.md).
#[test]
fn frozen_package_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors");
    if std::env::var_os("XA_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for suite in SUITES {
            let mut c = TestChain::new(suite, 4);
            c.change_set(4..8);
            c.empty(5);
            let (digest, _, _) = c.anchor("vector.pdf", Some(false));
            c.empty(1);
            let p = export::notary(&c.store, &c.genesis, &digest).unwrap();
            std::fs::write(dir.join(format!("notary-{}.json", suite.name())), bytes(&p)).unwrap();
            std::fs::write(
                dir.join(format!("genesis-{}.json", suite.name())),
                serde_json::to_vec_pretty(&c.genesis).unwrap(),
            )
            .unwrap();
        }
    }
    for (suite, pinned) in [(Suite::Ed25519, PINNED_ED25519), (Suite::Sm2, PINNED_SM2)] {
        let file = std::fs::read(dir.join(format!("notary-{}.json", suite.name()))).unwrap();
        let genesis: xa_types::Genesis = serde_json::from_slice(
            &std::fs::read(dir.join(format!("genesis-{}.json", suite.name()))).unwrap(),
        )
        .unwrap();
        let r = verify_bytes(&file, Some(&genesis)).expect("frozen package verifies");
        assert_eq!(r.epochs, vec![1]);
        assert_eq!(r.notary.unwrap().title, "vector.pdf");
        let sha = Suite::Ed25519.hash(&file).to_string();
        println!("{suite:?}: {} bytes, sha256 {sha}", file.len());
        assert_eq!(
            sha,
            pinned,
            "docs/vectors/notary-{}.json changed",
            suite.name()
        );
    }
}

const PINNED_ED25519: &str = "c16b8c687162d526276a19e7f479344419a5155bc043fc8b18987274ed87a295";
const PINNED_SM2: &str = "97b62bc07a20139daec54b5f1a804904ab8838e5c406166fe38599288eb1f232";

/// Packages exported with `xachain evidence export` from real 4-validator devnets (one
/// Ed25519, one SM2) on 2026-11-25, kept in docs/vectors/ beside the synthetic ones above.
/// Evidence outlives software versions: a package handed to a court must still verify after
/// every later change to the verifier, so these stay as they were written. They also seed the
/// package fuzzer (`fuzz/`).
#[test]
fn packages_exported_by_real_devnets_still_verify() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors");
    let cases: [(&str, &str, u64, Option<&str>); 5] = [
        (
            "devnet-2026-11-25-notary.json",
            "ed25519",
            1,
            Some("6e349f6898c29861c29afd70c4becb56128f8523be7639ae698a547b2e8ed222"),
        ),
        ("devnet-2026-11-25-tx.json", "ed25519", 1, None),
        ("devnet-2026-11-25-hist.json", "ed25519", 12, None),
        ("devnet-2026-11-25-cons.json", "ed25519", 5, None),
        (
            "devnet-2026-11-25-sm2-notary.json",
            "sm2",
            3,
            Some("7185a0e4107197c97f2996da46ab71f9262e0a5eee4ccb3f754261176c50c884"),
        ),
    ];
    for (file, suite, height, digest) in cases {
        let raw = std::fs::read(dir.join(file)).expect("fixture");
        let r = verify_bytes(&raw, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(r.suite, suite, "{file}");
        assert_eq!(r.height, height, "{file}");
        assert_eq!(r.signers.len(), 3, "{file}: a quorum of the 4 validators");
        assert_eq!(
            r.notary.as_ref().map(|n| n.digest.to_string()),
            digest.map(str::to_string),
            "{file}"
        );
        // One altered byte inside the signed data (a hex digit of the block hash) is caught.
        let text = String::from_utf8(raw).expect("utf-8");
        let hash = r.block_hash.to_string();
        let flipped = if hash.starts_with('0') { "1" } else { "0" };
        let altered = text.replacen(&hash, &format!("{flipped}{}", &hash[1..]), 1);
        assert_ne!(
            altered, text,
            "{file}: the block hash appears in the package"
        );
        assert!(
            verify_bytes(altered.as_bytes(), None).is_err(),
            "{file}: altered"
        );
    }
}
