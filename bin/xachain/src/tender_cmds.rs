//! `xachain tender ...`: publish, bid (sealed locally), close, open, score, publicize, object,
//! answer, award, show.
//!
//! Bids are sealed on this machine before they leave it: the content is encrypted under a fresh
//! key, which is timelock-encrypted to the tender's opening under the validators' threshold key
//! read from the chain (`tender/threshold`). Validators open a tender with `open-share`, each
//! signing the opening target with its share (`node-N/tender-share.json`, written by `init`:
//! trusted dealer, devnet only).

use crate::{ClientOpts, client_cmds::print, gov_cmds::send};
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use xa_client::Client;
use xa_types::{
    Address, Call, Hash, decode,
    modules::tender::{self as t, *},
};

/// `xachain tender ...`
#[derive(Subcommand)]
pub enum TenderCmd {
    /// Publish a tender (tender_agency).
    Publish {
        /// Title.
        #[arg(long)]
        title: String,
        /// Digest of the tender documents (hex).
        #[arg(long)]
        documents_digest: Hash,
        /// The tenderer (project owner) account.
        #[arg(long)]
        owner: Address,
        /// Bidding closes this many seconds after the committed tip's consensus time.
        #[arg(long)]
        deadline_in_secs: u64,
        /// Opening this many seconds after the deadline.
        #[arg(long, default_value_t = 0)]
        opening_after_secs: u64,
        /// Minimum valid bids (at least 3).
        #[arg(long, default_value_t = MIN_BIDDERS)]
        min_bidders: u32,
        /// Evaluation experts (repeat).
        #[arg(long = "expert", required = true)]
        experts: Vec<Address>,
        /// The supervisory department's organization.
        #[arg(long)]
        supervisor_org: String,
    },
    /// Seal and submit (or replace) your bid (company).
    Bid {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// Price in fen (0.01 yuan).
        #[arg(long)]
        price: u64,
        /// Digest of your technical proposal (hex).
        #[arg(long)]
        proposal_digest: Hash,
    },
    /// Withdraw your bid before the deadline.
    Withdraw {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Close bidding after the deadline (the publishing agency).
    Close {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Post this validator's partial signature on the tender's opening target. When a threshold
    /// of validators have posted, every bid opens in the same transaction.
    OpenShare {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The validator's share file (`node-N/tender-share.json`).
        #[arg(long)]
        validator_key: PathBuf,
    },
    /// Score a bidder (an expert on the committee).
    Score {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The bidder.
        #[arg(long)]
        bidder: Address,
        /// Score item as name=points (repeat).
        #[arg(long = "item", required = true)]
        items: Vec<String>,
    },
    /// Publicize the winning candidate (the publishing agency).
    Publicize {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The candidate.
        #[arg(long)]
        candidate: Address,
        /// Publicity length in seconds (at least 3 days).
        #[arg(long, default_value_t = MIN_PUBLICITY_MS / 1000)]
        duration_secs: u64,
    },
    /// Object during publicity (company): the tender is suspended until answered.
    Object {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The grounds.
        #[arg(long)]
        reason: String,
        /// Digest of the objection document (hex).
        #[arg(long)]
        document_digest: Hash,
    },
    /// Answer an objection (the supervisory department).
    Answer {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The objection's number.
        #[arg(long)]
        objection: u32,
        /// Digest of the answer (hex).
        #[arg(long)]
        answer_digest: Hash,
    },
    /// Award the tender after publicity (the publishing agency).
    Award {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Show a tender, and its opening once opened.
    Show {
        /// The tender.
        tender: u64,
    },
}

/// Read and decode a state entry by its raw key; `None` if absent.
fn read_state<T: borsh::BorshDeserialize>(client: &Client, key: &[u8]) -> Result<Option<T>> {
    let v = client.get(&format!("/v1/state/raw/{}", hex::encode(key)))?;
    match v["value_hex"].as_str() {
        None => Ok(None),
        Some(h) => {
            let bytes = hex::decode(h).context("value_hex")?;
            Ok(Some(decode(&bytes).context("decoding state")?))
        }
    }
}

fn now_ms(client: &Client) -> Result<u64> {
    client.status()?["time_ms"]
        .as_u64()
        .ok_or_else(|| anyhow!("the node's status has no time_ms"))
}

fn call<A: borsh::BorshSerialize>(method: &str, a: &A) -> Call {
    Call::new(t::MODULE, method, a)
}

/// `tender`.
pub fn tender(cmd: TenderCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    match cmd {
        TenderCmd::Publish {
            title,
            documents_digest,
            owner,
            deadline_in_secs,
            opening_after_secs,
            min_bidders,
            experts,
            supervisor_org,
        } => {
            let deadline_ms = now_ms(&client)?.saturating_add(deadline_in_secs * 1000);
            let args = PublishArgs {
                title,
                documents_digest,
                owner,
                deadline_ms,
                opening_ms: deadline_ms.saturating_add(opening_after_secs * 1000),
                min_bidders,
                experts,
                supervisor_org,
            };
            send(opts, call(PUBLISH, &args))?;
        }
        TenderCmd::Bid {
            tender,
            price,
            proposal_digest,
        } => {
            let key = crate::client_cmds::load_key(opts)?;
            let bidder = client.sender_of(&key)?;
            let threshold: ThresholdKey = read_state(&client, THRESHOLD_KEY)?
                .ok_or_else(|| anyhow!("this chain has no tender threshold key in its genesis"))?;
            let (chain_id, _) = client.chain_info()?;
            let content = BidContent {
                price,
                proposal_digest,
                salt: xa_crypto::random_seed(),
            };
            let bid = xa_execution::sealing::seal_bid(
                &threshold,
                key.public_key().suite(),
                &chain_id,
                tender,
                &bidder,
                &content,
                xa_crypto::random_seed(),
            )
            .map_err(|e| anyhow!("sealing the bid: {e}"))?;
            send(opts, call(SUBMIT_BID, &SubmitBidArgs { tender, bid }))?;
        }
        TenderCmd::Withdraw { tender } => {
            send(opts, call(WITHDRAW_BID, &TenderIdArgs { tender }))?;
        }
        TenderCmd::Close { tender } => {
            send(opts, call(CLOSE, &TenderIdArgs { tender }))?;
        }
        TenderCmd::OpenShare {
            tender,
            validator_key,
        } => {
            let text = std::fs::read_to_string(&validator_key)
                .with_context(|| format!("reading {}", validator_key.display()))?;
            let file: crate::init::TenderShareFile = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a tender share file", validator_key.display()))?;
            let share = hex::decode(&file.share).context("share: not hex")?;
            let (chain_id, _) = client.chain_info()?;
            let partial = xa_execution::sealing::partial_sign(&share, &chain_id, tender)
                .map_err(|e| anyhow!("{}: {e}", validator_key.display()))?;
            send(opts, call(OPEN_SHARE, &OpenShareArgs { tender, partial }))?;
        }
        TenderCmd::Score {
            tender,
            bidder,
            items,
        } => {
            let mut parsed = Vec::new();
            for item in items {
                let (name, points) = item
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--item: '{item}' is not name=points"))?;
                let points: u32 = points
                    .parse()
                    .map_err(|_| anyhow!("--item: '{points}' is not a number"))?;
                parsed.push((name.to_string(), points));
            }
            let args = ScoreArgs {
                tender,
                bidder,
                items: parsed,
            };
            send(opts, call(SCORE, &args))?;
        }
        TenderCmd::Publicize {
            tender,
            candidate,
            duration_secs,
        } => {
            let args = PublicizeArgs {
                tender,
                candidate,
                duration_ms: duration_secs.saturating_mul(1000),
            };
            send(opts, call(PUBLICIZE, &args))?;
        }
        TenderCmd::Object {
            tender,
            reason,
            document_digest,
        } => {
            let args = ObjectArgs {
                tender,
                reason,
                document_digest,
            };
            send(opts, call(OBJECT, &args))?;
        }
        TenderCmd::Answer {
            tender,
            objection,
            answer_digest,
        } => {
            let args = AnswerArgs {
                tender,
                objection,
                answer_digest,
            };
            send(opts, call(ANSWER, &args))?;
        }
        TenderCmd::Award { tender } => {
            send(opts, call(AWARD, &TenderIdArgs { tender }))?;
        }
        TenderCmd::Show { tender } => {
            let Some(record) = read_state::<Tender>(&client, &tender_key(tender))? else {
                bail!("tender {tender}: not found");
            };
            let opening: Option<Opening> = read_state(&client, &opening_key(tender))?;
            let v = json!({ "tender": record, "opening": opening });
            print(opts, &v, |_| show(&record, opening.as_ref()));
        }
    }
    Ok(())
}

fn show(t: &Tender, o: Option<&Opening>) {
    println!("tender:      {} {}", t.id, t.title);
    println!("status:      {}", t.status.as_str());
    println!("deadline_ms: {}", t.deadline_ms);
    println!("opening_ms:  {}", t.opening_ms);
    println!("bidders:     {}", t.bidders.len());
    if let Some(p) = &t.publicity {
        println!("publicity:   {} .. {}", p.start_ms, p.end_ms);
    }
    println!("objections:  {} ({} open)", t.objections, t.open_objections);
    if let Some(a) = &t.award {
        println!("award:       {} at {} fen", a.winner, a.price);
    }
    if let Some(o) = o {
        println!("opened at:   {} ms, {} valid", o.opened_ms, o.valid);
        for b in &o.bids {
            match &b.content {
                Some(c) => println!("  {}  {} fen", b.bidder, c.price),
                None => println!("  {}  invalid: {}", b.bidder, b.invalid_reason),
            }
        }
    }
}
