//! Execute blocks of transactions deterministically through a registry of modules.
//!
//! # Terminology
//! - **Module**: one [`Module`] implementation owning a key prefix of state, its calls and its
//!   events (`notary`, later tender, payment, ...). The [`accounts`] core is not a module: it
//!   checks sender, keys and nonce before any module runs.
//! - **State view**: read access to the state a block executes on ([`StateView`]).
//!
//! # Invariants
//! - Execution is a pure function of (state, block context, transactions): it never reads the
//!   clock, randomness, the network or the disk except through [`StateView`], and iterates only
//!   ordered collections. Every node therefore computes the same writes, receipts and roots.
//! - A failed call applies none of its writes; its nonce is still consumed so it cannot replay.
//! - Signatures are verified by the caller (batched) before execution; execution checks that the
//!   signing keys belong to the sender.

pub mod notary;

use std::collections::BTreeMap;
use xa_types::{
    Address, ErrorCode, Event, Genesis, Hash, PublicKey, Receipt, Suite, Transaction, TxError,
    TxStatus, address_of, decode, encode,
    modules::accounts::{Account, account_key},
    modules::validators::{self, ValidatorSet},
};

/// Failure to read state: the node's storage failed, not the transaction.
#[derive(Debug, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct StateError(pub String);

/// Read access to the state a block executes on.
pub trait StateView {
    /// The value of `key`, or `None` if absent.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

/// Writes produced by execution: `None` deletes. Ordered, so iteration is deterministic.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A layer of uncommitted writes over a base view.
struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: Writes,
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
}

/// What a module call sees and may do.
pub struct CallContext<'a> {
    view: &'a dyn StateView,
    writes: Writes,
    events: Vec<Event>,
    /// The sending account.
    pub sender: Address,
    /// Keys that signed the transaction.
    pub signers: Vec<PublicKey>,
    /// The transaction hash.
    pub tx_hash: Hash,
    /// Height of the executing block.
    pub height: u64,
    /// Consensus time of the executing block (ms since the Unix epoch).
    pub time_ms: u64,
    /// The chain's suite.
    pub suite: Suite,
}

impl CallContext<'_> {
    /// Read a key as this call sees it (including its own writes).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TxError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        self.view
            .get(key)
            .map_err(|e| TxError::new(ErrorCode::Internal, e.to_string()))
    }

    /// Write a key.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// Delete a key.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Emit an event.
    pub fn emit(&mut self, module: &str, kind: &str, attributes: Vec<(String, String)>) {
        self.events.push(Event {
            module: module.to_string(),
            kind: kind.to_string(),
            attributes,
        });
    }
}

/// A module: its name, its calls, and how they execute.
pub trait Module: Send + Sync {
    /// The module's name, used in [`xa_types::Call::module`].
    fn name(&self) -> &'static str;
    /// The module's methods.
    fn methods(&self) -> &'static [&'static str];
    /// Stateless checks of a call (decodable, within bounds), used by the mempool.
    fn check(&self, method: &str, args: &[u8]) -> Result<(), TxError>;
    /// Execute a call. On error, none of its writes are applied.
    fn execute(&self, ctx: &mut CallContext<'_>, method: &str, args: &[u8]) -> Result<(), TxError>;
}

/// How to treat a transaction that may not be included (wrong nonce, expired, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Building a proposal: leave such transactions out and report them.
    Build,
    /// Verifying a proposal: such a transaction makes the whole block invalid.
    Verify,
}

/// The context of the block being executed.
#[derive(Clone, Copy, Debug)]
pub struct BlockContext {
    /// Height of the block.
    pub height: u64,
    /// Its consensus time.
    pub time_ms: u64,
}

/// The result of executing a block.
#[derive(Debug, Default)]
pub struct BlockOutcome {
    /// Writes to apply, in key order.
    pub writes: Writes,
    /// One receipt per included transaction, in order.
    pub receipts: Vec<Receipt>,
    /// Indices (into the input) of included transactions.
    pub included: Vec<usize>,
    /// Transactions left out in [`Mode::Build`], with why.
    pub excluded: Vec<(usize, TxError)>,
    /// For each key a successful call wrote, the hash of the last transaction that wrote it
    /// (the key-history chain records it; see `xa_types::modules::history`).
    pub writers: BTreeMap<Vec<u8>, Hash>,
}

/// Why a block could not be executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// A transaction may not be included (only in [`Mode::Verify`]).
    #[error("transaction {index} is not includable: {error}")]
    Invalid {
        /// Position in the block.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// Reading state failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The registry of modules and the chain constants execution depends on.
pub struct Executor {
    chain_id: String,
    suite: Suite,
    max_tx_bytes: usize,
    epoch_length: u64,
    modules: BTreeMap<&'static str, Box<dyn Module>>,
}

impl Executor {
    /// An executor for `genesis` with the built-in modules registered.
    pub fn new(genesis: &Genesis) -> Self {
        let mut this = Self {
            chain_id: genesis.chain_id.clone(),
            suite: genesis.suite,
            max_tx_bytes: genesis.params.max_tx_bytes as usize,
            epoch_length: genesis.params.epoch_length,
            modules: BTreeMap::new(),
        };
        this.register(Box::new(notary::Notary));
        this
    }

    /// Register a module; a later module of the same name replaces the earlier.
    pub fn register(&mut self, module: Box<dyn Module>) {
        self.modules.insert(module.name(), module);
    }

    /// The chain's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The writes that create genesis state.
    pub fn genesis_writes(genesis: &Genesis) -> Writes {
        let mut writes = Writes::new();
        for a in &genesis.accounts {
            let account = Account {
                next_nonce: 0,
                keys: vec![a.public_key.clone()],
                name: a.name.clone(),
            };
            writes.insert(
                account_key(&address_of(&a.public_key)),
                Some(encode(&account)),
            );
        }
        writes.insert(b"chain/genesis".to_vec(), Some(genesis.hash().0.to_vec()));
        let set = ValidatorSet {
            epoch: 0,
            validators: genesis.validators.clone(),
        };
        writes.insert(validators::SET_KEY.to_vec(), Some(encode(&set)));
        writes
    }

    /// Stateless checks a transaction must pass before it enters the mempool or a block:
    /// chain id, size, known module and method, decodable arguments, signer matches sender
    /// suite. Signatures themselves are verified separately (batched).
    pub fn check_stateless(&self, tx: &Transaction) -> Result<(), TxError> {
        if tx.body.chain_id != self.chain_id {
            return Err(TxError::new(
                ErrorCode::WrongChainId,
                format!(
                    "body.chain_id: '{}' is not this chain ('{}')",
                    tx.body.chain_id, self.chain_id
                ),
            ));
        }
        let size = tx.encoded_len();
        if size > self.max_tx_bytes {
            return Err(TxError::new(
                ErrorCode::TooLarge,
                format!(
                    "transaction: {size} bytes exceeds the limit of {}",
                    self.max_tx_bytes
                ),
            ));
        }
        if tx.signatures.is_empty() {
            return Err(TxError::new(
                ErrorCode::BadSignature,
                "signatures: at least one signature is required",
            ));
        }
        for (i, s) in tx.signatures.iter().enumerate() {
            if s.public_key.suite() != self.suite {
                return Err(TxError::new(
                    ErrorCode::WrongSuite,
                    format!(
                        "signatures[{i}].public_key: suite {} does not match the chain's {}",
                        s.public_key.suite().name(),
                        self.suite.name()
                    ),
                ));
            }
        }
        let module = self
            .modules
            .get(tx.body.call.module.as_str())
            .ok_or_else(|| {
                TxError::new(
                    ErrorCode::UnknownModule,
                    format!("body.call.module: no module '{}'", tx.body.call.module),
                )
            })?;
        if !module.methods().contains(&tx.body.call.method.as_str()) {
            return Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!(
                    "body.call.method: module '{}' has no method '{}'",
                    module.name(),
                    tx.body.call.method
                ),
            ));
        }
        module.check(&tx.body.call.method, &tx.body.call.args)
    }

    /// Load an account, or the implicit new account whose first key is the first signer.
    fn account(&self, view: &dyn StateView, tx: &Transaction) -> Result<Account, ExecError> {
        match view.get(&account_key(&tx.body.sender))? {
            Some(bytes) => decode::<Account>(&bytes)
                .map_err(|e| ExecError::State(StateError(format!("corrupt account: {e}")))),
            None => Ok(Account::default()),
        }
    }

    /// Check that the sender may send `tx` now: signer keys, nonce, expiry.
    fn check_sender(
        &self,
        account: &Account,
        tx: &Transaction,
        height: u64,
    ) -> Result<(), TxError> {
        check_expiry(tx, height)?;
        authorize(account, tx)?;
        check_nonce(account.next_nonce, tx.body.nonce)
    }

    /// Execute `txs` on `view` at `block`.
    pub fn execute_block(
        &self,
        view: &dyn StateView,
        block: BlockContext,
        txs: &[Transaction],
        mode: Mode,
    ) -> Result<BlockOutcome, ExecutionError> {
        let hashes: Vec<Hash> = txs.iter().map(|tx| tx.hash(self.suite)).collect();
        self.execute_hashed(view, block, txs, &hashes, mode)
    }

    /// [`Executor::execute_block`] with the transactions' hashes already computed
    /// (`hashes[i]` must be `txs[i].hash(suite)`).
    pub fn execute_hashed(
        &self,
        view: &dyn StateView,
        block: BlockContext,
        txs: &[Transaction],
        hashes: &[Hash],
        mode: Mode,
    ) -> Result<BlockOutcome, ExecutionError> {
        let mut overlay = Overlay {
            base: view,
            writes: Writes::new(),
        };
        let mut outcome = BlockOutcome::default();
        for (index, (tx, tx_hash)) in txs.iter().zip(hashes).enumerate() {
            let tx_hash = *tx_hash;
            let admitted = self.check_stateless(tx).and_then(|()| {
                let account = match self.account(&overlay, tx) {
                    Ok(a) => a,
                    Err(ExecError::State(e)) => return Err(TxError::new(ErrorCode::Internal, e.0)),
                };
                self.check_sender(&account, tx, block.height)?;
                Ok(account)
            });
            let mut account = match admitted {
                Ok(a) => a,
                Err(error) if error.code == ErrorCode::Internal => {
                    return Err(ExecutionError::State(StateError(error.message)));
                }
                Err(error) => match mode {
                    Mode::Build => {
                        outcome.excluded.push((index, error));
                        continue;
                    }
                    Mode::Verify => return Err(ExecutionError::Invalid { index, error }),
                },
            };
            // Consume the nonce whatever the call does.
            if account.keys.is_empty() {
                account.keys.push(tx.signatures[0].public_key.clone());
            }
            account.next_nonce += 1;
            overlay
                .writes
                .insert(account_key(&tx.body.sender), Some(encode(&account)));

            let mut ctx = CallContext {
                view: &overlay,
                writes: Writes::new(),
                events: Vec::new(),
                sender: tx.body.sender,
                signers: tx.signatures.iter().map(|s| s.public_key.clone()).collect(),
                tx_hash,
                height: block.height,
                time_ms: block.time_ms,
                suite: self.suite,
            };
            let result = match self.modules.get(tx.body.call.module.as_str()) {
                Some(m) => m.execute(&mut ctx, &tx.body.call.method, &tx.body.call.args),
                None => Err(TxError::new(ErrorCode::UnknownModule, "body.call.module")),
            };
            let receipt_index = outcome.receipts.len() as u32;
            let receipt = match result {
                Ok(()) => {
                    let CallContext { writes, events, .. } = ctx;
                    for key in writes.keys() {
                        outcome.writers.insert(key.clone(), tx_hash);
                    }
                    overlay.writes.extend(writes);
                    Receipt {
                        tx_hash,
                        height: block.height,
                        index: receipt_index,
                        status: TxStatus::Success,
                        code: String::new(),
                        message: String::new(),
                        events,
                    }
                }
                Err(e) if e.code == ErrorCode::Internal => {
                    return Err(ExecutionError::State(StateError(e.message)));
                }
                Err(e) => Receipt {
                    tx_hash,
                    height: block.height,
                    index: receipt_index,
                    status: TxStatus::Failed,
                    code: e.code.as_str().to_string(),
                    message: e.message,
                    events: Vec::new(),
                },
            };
            outcome.receipts.push(receipt);
            outcome.included.push(index);
        }
        self.end_block(&mut overlay, block.height)?;
        outcome.writes = overlay.writes;
        Ok(outcome)
    }

    /// What happens after a block's last transaction: at the last height of an epoch, a
    /// validator set decided by governance ([`validators::NEXT_KEY`]) comes into force for the
    /// next epoch ([`validators::SET_KEY`]).
    fn end_block(&self, overlay: &mut Overlay<'_>, height: u64) -> Result<(), StateError> {
        if !validators::is_last_in_epoch(height, self.epoch_length) {
            return Ok(());
        }
        let Some(bytes) = overlay.get(validators::NEXT_KEY)? else {
            return Ok(());
        };
        let mut set: ValidatorSet =
            decode(&bytes).map_err(|e| StateError(format!("corrupt validators/next: {e}")))?;
        set.epoch = validators::epoch_of(height, self.epoch_length) + 1;
        overlay
            .writes
            .insert(validators::SET_KEY.to_vec(), Some(encode(&set)));
        overlay.writes.insert(validators::NEXT_KEY.to_vec(), None);
        Ok(())
    }
}

/// Internal error of account loading.
enum ExecError {
    State(StateError),
}

impl From<StateError> for ExecError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

/// Check that every key signing `tx` may act for its sender: one of the account's keys, or,
/// for an account that does not exist yet, the key its address derives from.
pub fn authorize(account: &Account, tx: &Transaction) -> Result<(), TxError> {
    let authorized = match tx.signatures.first() {
        None => false,
        Some(first) if account.keys.is_empty() => address_of(&first.public_key) == tx.body.sender,
        Some(_) => tx
            .signatures
            .iter()
            .all(|s| account.keys.contains(&s.public_key)),
    };
    if authorized {
        Ok(())
    } else {
        Err(TxError::new(
            ErrorCode::BadSignature,
            "signatures: a signing key does not belong to body.sender",
        ))
    }
}

/// Check that `tx` may still be included in a block at `height`.
pub fn check_expiry(tx: &Transaction, height: u64) -> Result<(), TxError> {
    if tx.body.expiry_height < height {
        return Err(TxError::new(
            ErrorCode::Expired,
            format!(
                "body.expiry_height: {} is below the next block height {height}",
                tx.body.expiry_height
            ),
        ));
    }
    Ok(())
}

/// Check a transaction nonce against the account's next nonce.
pub fn check_nonce(next: u64, nonce: u64) -> Result<(), TxError> {
    match nonce.cmp(&next) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(TxError::new(
            ErrorCode::StaleNonce,
            format!("body.nonce: {nonce} was already used (next is {next})"),
        )),
        std::cmp::Ordering::Greater => Err(TxError::new(
            ErrorCode::NonceTooHigh,
            format!("body.nonce: {nonce} is ahead of the next nonce {next}"),
        )),
    }
}

/// A state view over a plain ordered map (genesis, tests, tools).
impl StateView for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}

#[cfg(test)]
mod tests;
