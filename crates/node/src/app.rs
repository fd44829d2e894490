//! The consensus application: propose blocks from the mempool, verify others' proposals, and
//! commit finalized blocks in height order.

use crate::block::{ChainBlock, from_digest};
use crate::chain::Chain;
use commonware_actor::Feedback;
use commonware_consensus::{
    Heightable, Reporter,
    marshal::{Update, ancestry::Ancestry},
    simplex::{scheme::ed25519::Scheme, types::Context},
};
use commonware_cryptography::{Digested, ed25519, sha256::Digest};
use commonware_runtime::Clock;
use commonware_utils::{Acknowledgement, acknowledgement::Exact};
use futures::{StreamExt, channel::mpsc};
use std::{
    marker::PhantomData,
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

/// How long a leader with an empty mempool waits before proposing an empty block.
pub const IDLE_PROPOSAL_WAIT: Duration = Duration::from_millis(500);

/// Least time between a block and its child that a leader with transactions to include waits
/// for (from the parent's timestamp, and never longer than this in all), so that a steady
/// trickle of transactions fills a few blocks instead of many small ones. A block costs the
/// validators a fixed amount of CPU whatever it holds (proposal, votes and certificates with
/// their signatures, a dozen fsyncs, the state tree's top levels rewritten): with clients
/// sending one transaction per request at 1,500 tx/s, blocks of ~100 transactions came every
/// ~75 ms. A backlog is not slowed down: building and voting on a full block takes longer
/// than this anyway.
pub const MIN_BLOCK_INTERVAL: Duration = Duration::from_millis(200);

/// Consensus context of a proposal.
pub type Ctx = Context<Digest, ed25519::PublicKey>;

/// The application marshal drives.
pub struct App<E> {
    chain: Arc<Chain>,
    _runtime: PhantomData<fn() -> E>,
}

impl<E> Clone for App<E> {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            _runtime: PhantomData,
        }
    }
}

impl<E> App<E> {
    /// An application over `chain`.
    pub fn new(chain: Arc<Chain>) -> Self {
        Self {
            chain,
            _runtime: PhantomData,
        }
    }
}

fn now_ms<E: Clock>(env: &E) -> u64 {
    env.current()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Make sure `first` and the ancestors the stream yields after it are executed, oldest first.
/// Returns false if the chain is invalid or leaves the finalized chain.
async fn ensure_executed(
    chain: &Chain,
    first: Digested<ChainBlock>,
    ancestry: &mut impl Ancestry<ChainBlock>,
) -> bool {
    let mut stack = Vec::new();
    let mut cur = first;
    loop {
        let (hash, height) = (cur.inner().hash(), cur.inner().block().header.height);
        if chain.is_known(&hash, height) {
            break;
        }
        if height <= chain.tip().0 {
            return false;
        }
        stack.push(cur);
        cur = match ancestry.next().await {
            Some(b) => b,
            None => return false,
        };
    }
    let mut parent = cur;
    while let Some(block) = stack.pop() {
        match chain.verify(block.inner(), parent.inner(), u64::MAX / 2) {
            Ok(true) => parent = block,
            Ok(false) => return false,
            Err(e) => {
                tracing::warn!("could not execute ancestor: {e}");
                return false;
            }
        }
    }
    true
}

impl<E> commonware_consensus::Application<E> for App<E>
where
    E: Clock + Send + Sync + 'static,
{
    type SigningScheme = Scheme;
    type Context = Ctx;
    type Block = ChainBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (env, ctx): (E, Ctx),
        ancestry: impl Ancestry<ChainBlock>,
        _input: (),
    ) -> Option<Digested<ChainBlock>> {
        let mut ancestry = ancestry;
        let parent = ancestry.next().await?;
        if !ensure_executed(&self.chain, parent.clone(), &mut ancestry).await {
            return None;
        }
        // With nothing to include, give transactions a moment to arrive instead of producing
        // a stream of empty blocks; an arrival that can be included ends the wait at once.
        // "Nothing to include" also covers a mempool holding only transactions already in
        // unfinalized ancestors or waiting behind a sender's missing nonce.
        let idle_until = env.current() + IDLE_PROPOSAL_WAIT;
        let mut checked_at = None;
        while env.current() < idle_until {
            let arrivals = self.chain.mempool.arrivals();
            if checked_at != Some(arrivals) {
                checked_at = Some(arrivals);
                if self.chain.has_includable(parent.inner()) {
                    break;
                }
            }
            env.sleep(Duration::from_millis(10)).await;
        }
        // Give a trickle time to fill the block. The wait is capped, so a parent stamped in the
        // future (a proposer's clock may run up to MAX_CLOCK_DRIFT_MS ahead) cannot hold it
        // past the leader timeout.
        let ready_at =
            parent.inner().block().header.time_ms + MIN_BLOCK_INTERVAL.as_millis() as u64;
        let wait = Duration::from_millis(ready_at.saturating_sub(now_ms(&env)));
        if !wait.is_zero() {
            env.sleep(wait.min(MIN_BLOCK_INTERVAL)).await;
        }
        let proposer = ctx.leader.as_ref().to_vec();
        match self.chain.build(
            parent.inner(),
            ctx.round.epoch().get(),
            ctx.round.view().get(),
            ctx.parent.0.get(),
            proposer,
            now_ms(&env),
        ) {
            Ok(Some(block)) => {
                let digest = crate::block::to_digest(&block.hash());
                tracing::debug!(
                    height = block.block().header.height,
                    txs = block.block().txs.len(),
                    "proposed"
                );
                Some(Digested::precomputed(block, digest))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!("failed to build a block: {e}");
                None
            }
        }
    }

    async fn verify(&mut self, (env, ctx): (E, Ctx), ancestry: impl Ancestry<ChainBlock>) -> bool {
        let mut ancestry = ancestry;
        let Some(block) = ancestry.next().await else {
            return false;
        };
        let h = &block.inner().block().header;
        if h.view != ctx.round.view().get()
            || h.epoch != ctx.round.epoch().get()
            || h.parent_view != ctx.parent.0.get()
            || h.parent != from_digest(&ctx.parent.1)
            || h.proposer.as_slice() != ctx.leader.as_ref()
        {
            tracing::warn!(
                height = h.height,
                "proposal header does not match its consensus context"
            );
            return false;
        }
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        if !ensure_executed(&self.chain, parent.clone(), &mut ancestry).await {
            return false;
        }
        match self
            .chain
            .verify(block.inner(), parent.inner(), now_ms(&env))
        {
            Ok(ok) => ok,
            Err(e) => {
                tracing::warn!("could not verify block: {e}");
                false
            }
        }
    }
}

/// A finalized block handed from marshal to the committer task.
pub type Finalized = (Digested<ChainBlock>, Exact);

/// Receives finalized blocks from marshal (in height order, at least once) and queues them
/// for the committer task; see [`committer`].
#[derive(Clone)]
pub struct Finalizer {
    tx: mpsc::UnboundedSender<Finalized>,
}

impl Finalizer {
    /// A finalizer and the receiving end for [`committer`].
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Finalized>) {
        let (tx, rx) = mpsc::unbounded();
        (Self { tx }, rx)
    }
}

impl Reporter for Finalizer {
    type Activity = Update<ChainBlock>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        if let Update::Block(block, ack) = activity {
            // If the committer is gone the node is shutting down; dropping the ack stops marshal.
            let _ = self.tx.unbounded_send((block, ack));
        }
        Feedback::Ok
    }
}

/// Commit finalized blocks: execute if needed, persist with the finalization certificate, then
/// acknowledge so marshal will not redeliver, and tell the orchestrator (which starts the next
/// epoch's engine after an epoch's last block). A block that fails to commit stops the node
/// rather than skipping a height.
pub async fn committer(
    chain: Arc<Chain>,
    marshal: crate::engine::MarshalMailbox,
    mut rx: mpsc::UnboundedReceiver<Finalized>,
    orchestrator: mpsc::UnboundedSender<crate::orchestrator::Event>,
) {
    use commonware_codec::Encode;
    while let Some((block, ack)) = rx.next().await {
        let height = block.height();
        let finalization = marshal
            .get_finalization(height)
            .await
            .map(|f| f.encode().to_vec())
            .unwrap_or_default();
        match chain.commit(block.inner(), finalization) {
            Ok(()) => {
                ack.acknowledge();
                let _ = orchestrator
                    .unbounded_send(crate::orchestrator::Event::Committed(height.get()));
            }
            Err(e) => {
                let reason = format!("failed to commit finalized block {}: {e}", height.get());
                tracing::error!("{reason}; this node stops committing");
                chain.halt(reason);
                return;
            }
        }
    }
}
