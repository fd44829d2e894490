//! Where one validator's time goes per transaction, without consensus or network:
//! `cargo bench -p xa-node --bench pipeline`.
//!
//! Two chains on temporary stores share a genesis with 2,000 registered senders. For each of
//! `BLOCKS` blocks of `TXS` signed notary anchors, it times: admission to the proposer's
//! mempool (signature checks, nonce rules), `build` on the proposer (selection, execution,
//! history links, state tree), admission on the voter (what gossip costs each peer), `verify`
//! on the voter, and `commit` on both. Plain `Instant` timing over the blocks after a
//! warm-up, reported in microseconds per transaction (total time over total transactions).

/// The allocator the `xachain` binary uses, so the figures match the node's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Wall time and this thread's CPU time since `start` (CPU time is what a phase costs; it
/// barely moves when other processes compete for the cores, wall time does).
struct Clock {
    wall: Instant,
    cpu: Duration,
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: thread_cpu(),
        }
    }

    fn stop(&self) -> (Duration, Duration) {
        (self.wall.elapsed(), thread_cpu() - self.cpu)
    }
}
use xa_node::{Chain, chain::hash_algo};
use xa_storage::Store;
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, Hash, KeyPair, Suite,
    Transaction, TxBody, address_of, modules::notary::AnchorArgs,
};

const CHAIN_ID: &str = "pipeline-bench";
const SENDERS: usize = 2_000;
const TXS: usize = 4_000;
const BLOCKS: usize = 12;
const WARMUP: usize = 2;

fn genesis(suite: Suite, keys: &[KeyPair]) -> Genesis {
    Genesis {
        chain_id: CHAIN_ID.into(),
        suite,
        genesis_time_ms: 1_000,
        validators: vec![GenesisValidator {
            name: "validator-0".into(),
            consensus_key: vec![7; 32],
            p2p_address: "127.0.0.1:1".into(),
        }],
        organizations: vec![GenesisOrg {
            id: "committee".into(),
            name: "City management committee".into(),
            founding: true,
        }],
        accounts: keys
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisAccount {
                name: format!("sender-{i}"),
                public_key: k.public_key(),
                org: "committee".into(),
                roles: vec!["citizen".into()],
            })
            .collect(),
        params: ChainParams {
            max_block_txs: TXS as u32,
            ..ChainParams::default()
        },
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    }
}

fn anchor(key: &KeyPair, nonce: u64, doc: u64) -> Transaction {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&doc.to_be_bytes());
    digest[31] = 0x5a;
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 1_000_000,
        call: Call::new(
            "notary",
            "anchor",
            &AnchorArgs {
                digest: Hash(digest),
                title: format!("bench-{doc}"),
                file_size: doc,
                kind: "bench".into(),
            },
        ),
    }
    .sign(key)
}

/// Microseconds per transaction over the measured blocks: (wall, CPU).
fn per_tx(v: &[((Duration, Duration), usize)]) -> (f64, f64) {
    let wall: Duration = v.iter().map(|((d, _), _)| *d).sum();
    let cpu: Duration = v.iter().map(|((_, c), _)| *c).sum();
    let n = v.iter().map(|(_, n)| *n).sum::<usize>().max(1) as f64;
    (wall.as_secs_f64() * 1e6 / n, cpu.as_secs_f64() * 1e6 / n)
}

fn run(suite: Suite) {
    let keys: Vec<KeyPair> = (0..SENDERS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            KeyPair::from_seed(suite, &seed).expect("key")
        })
        .collect();
    let g = genesis(suite, &keys);
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let open = |d: &tempfile::TempDir| -> Arc<Chain> {
        let store = Store::open(d.path(), hash_algo(suite)).expect("store");
        let cfg = xa_mempool::Config {
            max_txs: 4 * TXS,
            ..xa_mempool::Config::default()
        };
        Chain::open(g.clone(), store, cfg).expect("chain")
    };
    let (proposer, voter) = (open(&dirs[0]), open(&dirs[1]));
    let mut nonces = vec![0u64; SENDERS];
    let mut doc = 0u64;
    let (mut admit_p, mut build, mut admit_v, mut verify, mut commit_p, mut commit_v) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for b in 0..BLOCKS {
        let txs: Vec<Transaction> = (0..TXS)
            .map(|i| {
                let s = (b * TXS + i) % SENDERS;
                let tx = anchor(&keys[s], nonces[s], doc);
                nonces[s] += 1;
                doc += 1;
                tx
            })
            .collect();
        let t = Clock::start();
        let ok = proposer
            .submit(txs.clone())
            .iter()
            .filter(|r| r.is_ok())
            .count();
        let d_admit_p = t.stop();
        assert_eq!(ok, TXS, "proposer admitted every transaction");
        let t = Clock::start();
        let ok = voter.submit(txs).iter().filter(|r| r.is_ok()).count();
        let d_admit_v = t.stop();
        assert_eq!(ok, TXS, "voter admitted every transaction");

        let parent = proposer.tip_block().expect("tip");
        let now = parent.block().header.time_ms + 500;
        let t = Clock::start();
        let block = proposer
            .build(&parent, 0, b as u64 + 1, b as u64, vec![0; 32], now)
            .expect("build")
            .expect("parent known");
        let d_build = t.stop();
        // The proposer's build budget may cap a block below TXS on a busy machine; the rest
        // stays in the mempools for the next block.
        let n = block.block().txs.len();
        let vparent = voter.tip_block().expect("tip");
        let t = Clock::start();
        assert!(voter.verify(&block, &vparent, now).expect("verify"));
        let d_verify = t.stop();
        let t = Clock::start();
        proposer.commit(&block, Vec::new()).expect("commit");
        let d_commit_p = t.stop();
        let t = Clock::start();
        voter.commit(&block, Vec::new()).expect("commit");
        let d_commit_v = t.stop();
        if b >= WARMUP {
            admit_p.push((d_admit_p, TXS));
            admit_v.push((d_admit_v, TXS));
            build.push((d_build, n));
            verify.push((d_verify, n));
            commit_p.push((d_commit_p, n));
            commit_v.push((d_commit_v, n));
        }
    }
    let phases = [
        ("admit", per_tx(&admit_p)),
        ("build", per_tx(&build)),
        ("verify", per_tx(&verify)),
        ("commit", per_tx(&commit_p)),
        ("voter admit", per_tx(&admit_v)),
        ("voter commit", per_tx(&commit_v)),
    ];
    println!(
        "{suite:?}, µs per transaction over {} blocks of up to {TXS} (wall / CPU):",
        BLOCKS - WARMUP
    );
    for (name, (wall, cpu)) in phases {
        println!("  {name:<13} {wall:>6.1} / {cpu:>6.1}");
    }
    let cpu = |names: &[&str]| -> f64 {
        phases
            .iter()
            .filter(|(n, _)| names.contains(n))
            .map(|(_, (_, c))| c)
            .sum()
    };
    println!(
        "  per node CPU: proposer {:.1}, voter {:.1}",
        cpu(&["admit", "build", "commit"]),
        cpu(&["voter admit", "verify", "voter commit"])
    );
}

fn main() {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for suite in [Suite::Ed25519, Suite::Sm2] {
        if only
            .as_deref()
            .is_none_or(|o| format!("{suite:?}").to_lowercase().contains(o))
        {
            run(suite);
        }
    }
}
