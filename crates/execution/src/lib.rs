//! Execute blocks of transactions deterministically through a registry of modules.
//!
//! # Terminology
//! - **Module**: one [`Module`] implementation owning a key prefix of state, its calls, their
//!   default [`Policy`] and its events (`identity`, `governance`, `notary`, `tender`, later
//!   payment, ...). The accounts core is not a module: it checks sender, keys and nonce before
//!   any module runs.
//! - **State view**: read access to the state a block executes on ([`StateView`]).
//! - **Authorizers**: the accounts on whose authority a call runs: the sender and the
//!   co-signers of a transaction, or the approvers of a governance proposal.
//!
//! # Permission checks: one place
//! [`Executor::execute_hashed`] checks every transaction before any module runs:
//! 1. *Sender level* ([`resolve_signers`], shared with the mempool): the sender is a registered
//!    (`UNKNOWN_ACCOUNT`), active (`ACCOUNT_FROZEN`) account; every signature is by an active key
//!    of the sender or of a registered, active co-signing account (a retired or revoked key is
//!    `KEY_REVOKED`, a key of no account `BAD_SIGNATURE`); the sender itself signed; expiry and
//!    nonce. Failing these, a transaction is left out in [`Mode::Build`] and invalidates the
//!    block in [`Mode::Verify`].
//! 2. *Call level* ([`policy::evaluate`]): the call's policy (state key
//!    `policy/{module}/{method}`, else [`Module::default_policy`]) must be met by the
//!    authorizers, with `own` resolved by [`Module::target_org`]. Failing it, the transaction is
//!    included with a failed receipt `PERMISSION_DENIED`; only its nonce is consumed.
//!
//! Modules then only check what the policy language cannot say (e.g. granting `chain_admin`).
//!
//! # Read visibility
//! State and calls are public except personal data: a module declares private keys
//! ([`Module::private_key_owner`]) and private calls ([`Module::is_private_call`],
//! [`Module::data_subject`]). The API asks [`Executor::can_read`] and [`Executor::can_see_call`]:
//! personal data of account `A` is visible to `A`, to `org_admin`s of `A`'s organization, and to
//! `chain_admin`s and `auditor`s.
//!
//! # Invariants
//! - Execution is a pure function of (state, block context, transactions): it never reads the
//!   clock, randomness, the network or the disk except through [`StateView`], and iterates only
//!   ordered collections. Every node therefore computes the same writes, receipts and roots.
//! - A failed call applies none of its writes; its nonce is still consumed so it cannot replay.
//! - Signatures are verified by the caller (batched) before execution; execution checks that the
//!   signing keys belong to the sender.
//! - Execution knows nothing about key histories beyond reporting, for tracked keys only, each
//!   transaction's resulting value ([`BlockOutcome::versions`]); the node appends the links.

pub mod dkg;
pub mod governance;
pub mod identity;
pub mod notary;
pub mod payment;
pub mod policy;
pub mod reshare;
pub mod sealing;
pub mod tender;

pub use policy::{Signers, resolve_signers};
use std::collections::BTreeMap;
use xa_types::{
    Address, Call, ErrorCode, Event, Genesis, Hash, Policy, PublicKey, Receipt, Suite, Transaction,
    TxError, TxStatus, address_of, decode, encode,
    modules::accounts::{Account, account_key},
    modules::governance::PARAMS_KEY,
    modules::history,
    modules::identity::{
        AUDITOR, CHAIN_ADMIN, ORG_ADMIN, ORG_LIST_KEY, Org, OrgStatus, key_index_key, org_key,
    },
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
    /// Values read from `base` during this block: every transaction reads the same policy,
    /// organization and parameter records, which would otherwise be a storage lookup each.
    /// `base` does not change during a block, so a cached value is the value. Only looked up,
    /// never iterated, so its order cannot leak into results.
    reads: std::cell::RefCell<std::collections::HashMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl<'a> Overlay<'a> {
    fn new(base: &'a dyn StateView) -> Self {
        Self {
            base,
            writes: Writes::new(),
            reads: Default::default(),
        }
    }
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.reads.borrow().get(key) {
            return Ok(v.clone());
        }
        let v = self.base.get(key)?;
        self.reads.borrow_mut().insert(key.to_vec(), v.clone());
        Ok(v)
    }
}

/// What a module call sees and may do.
pub struct CallContext<'a> {
    view: &'a dyn StateView,
    exec: &'a Executor,
    writes: Writes,
    sticky: Writes,
    events: Vec<Event>,
    /// The sending account (for a call executed by governance: the proposer).
    pub sender: Address,
    /// Keys that signed the transaction.
    pub signers: Vec<PublicKey>,
    /// The accounts on whose authority the call runs, sorted: sender and co-signers, or, for a
    /// call executed by a governance proposal, its approvers. The policy check has passed.
    pub authorizers: Vec<Address>,
    /// The proposal executing this call, if it runs by governance.
    pub proposal: Option<u64>,
    /// The chain id.
    pub chain_id: &'a str,
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

    /// Write a key that is kept even if the call then fails: for recording a state transition
    /// the failure itself causes (a proposal found expired). Also applied on success.
    pub fn put_even_if_failed(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key.clone(), Some(value.clone()));
        self.sticky.insert(key, Some(value));
    }

    /// Read and decode a record; a corrupt record is an internal error.
    pub fn read<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, TxError> {
        match self.get(key)? {
            None => Ok(None),
            Some(b) => decode(&b).map(Some).map_err(|e| {
                TxError::new(
                    ErrorCode::Internal,
                    format!("corrupt state at {}: {e}", String::from_utf8_lossy(key)),
                )
            }),
        }
    }

    /// Whether any authorizer currently holds `role` (and is active).
    pub fn authorized_by_role(&self, role: &str) -> Result<bool, TxError> {
        for a in &self.authorizers {
            if let Some(acct) = self.read::<Account>(&account_key(a))?
                && acct.is_active()
                && acct.has_role(role)
            {
                return Ok(true);
            }
        }
        Ok(false)
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

impl StateView for CallContext<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.view.get(key),
        }
    }
}

/// A module: its name, its calls, who may make them, and how they execute.
///
/// A module declares its calls in [`Module::methods`] and, for each, a default policy in
/// [`Module::default_policy`]; the chain can override it by governance (`SetPolicy`). The
/// executor checks the policy before [`Module::execute`] runs, so `execute` only checks rules
/// the policy language cannot express.
pub trait Module: Send + Sync {
    /// The module's name, used in [`xa_types::Call::module`].
    fn name(&self) -> &'static str;
    /// The module's methods.
    fn methods(&self) -> &'static [&'static str];
    /// Stateless checks of a call (decodable, within bounds), used by the mempool.
    fn check(&self, method: &str, args: &[u8]) -> Result<(), TxError>;
    /// Execute a call. On error, none of its writes are applied.
    fn execute(&self, ctx: &mut CallContext<'_>, method: &str, args: &[u8]) -> Result<(), TxError>;
    /// Who may call `method` when no policy is set in state.
    fn default_policy(&self, method: &str) -> Policy;
    /// The organization a call targets, which a policy's `own` scope means (e.g. the
    /// organization an account is registered into). `None`: the call targets none, and an
    /// `own` rule cannot be met.
    fn target_org(
        &self,
        _method: &str,
        _args: &[u8],
        _view: &dyn StateView,
    ) -> Result<Option<String>, TxError> {
        Ok(None)
    }
    /// If `key` is private personal data of an account, that account.
    fn private_key_owner(&self, _key: &[u8]) -> Option<Address> {
        None
    }
    /// The officer roles this module declares (besides the built-in ones), e.g.
    /// `notary_officer`. Only built-in and declared roles can be granted.
    fn roles(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether calls of `method` carry personal data, so their arguments are redacted for
    /// readers who may not see it.
    fn is_private_call(&self, _method: &str) -> bool {
        false
    }
    /// For a private call, the account whose personal data its arguments hold, if decodable.
    fn data_subject(&self, _method: &str, _args: &[u8]) -> Option<Address> {
        None
    }
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
    /// Every write of a tracked key (`xa_types::modules::history::is_tracked`), in block order:
    /// one entry per (transaction, key) it wrote, with the value that transaction left, then
    /// the writes the chain made itself at the end of the block (zero transaction hash). The
    /// node appends one key-history link per entry. Untracked keys (accounts, nonces, indexes)
    /// are not reported.
    pub versions: Vec<KeyVersion>,
}

/// One transaction's write of a tracked key: a version in the key's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyVersion {
    /// The state key.
    pub key: Vec<u8>,
    /// The transaction that wrote it (zero for a write by the chain itself).
    pub tx_hash: Hash,
    /// The value it left, `None` for a deletion.
    pub value: Option<Vec<u8>>,
}

/// Move `writes` (made by `tx_hash`) into `into`, reporting each tracked key's new value to
/// `versions`. Untracked keys cost one prefix check.
fn apply_writes(into: &mut Writes, writes: Writes, tx_hash: Hash, versions: &mut Vec<KeyVersion>) {
    for (key, value) in writes {
        if history::is_tracked(&key) {
            versions.push(KeyVersion {
                key: key.clone(),
                tx_hash,
                value: value.clone(),
            });
        }
        into.insert(key, value);
    }
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
    max_block_txs_bound: u32,
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
            max_block_txs_bound: genesis.params.max_block_txs,
            modules: BTreeMap::new(),
        };
        this.register(Box::new(identity::Identity));
        this.register(Box::new(governance::Governance));
        this.register(Box::new(notary::Notary));
        this.register(Box::new(tender::TenderModule));
        this.register(Box::new(payment::PaymentModule));
        this.register(Box::new(dkg::DkgModule));
        this
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The most transactions a block may ever hold: genesis' `max_block_txs`, which also bounds
    /// the block size every node decodes with. Governance may lower the limit, never raise it
    /// above this.
    pub fn max_block_txs_bound(&self) -> u32 {
        self.max_block_txs_bound
    }

    /// Every role that can be granted: the built-in roles and those the modules declare, sorted.
    pub fn known_roles(&self) -> Vec<&'static str> {
        let mut roles: Vec<&'static str> = xa_types::modules::identity::BUILTIN_ROLES.to_vec();
        for m in self.modules.values() {
            roles.extend_from_slice(m.roles());
        }
        roles.sort_unstable();
        roles.dedup();
        roles
    }

    /// The names of the registered modules, in order.
    pub fn module_names(&self) -> Vec<&'static str> {
        self.modules.keys().copied().collect()
    }

    /// The registered module `name`.
    pub fn module(&self, name: &str) -> Option<&dyn Module> {
        self.modules.get(name).map(|m| m.as_ref())
    }

    /// The policy of `module.method` in force on `view`: the one set in state, else the
    /// module's default. `NOT_FOUND`/`UNKNOWN_MODULE` if there is no such call.
    pub fn policy_of(
        &self,
        view: &dyn StateView,
        module: &str,
        method: &str,
    ) -> Result<Policy, TxError> {
        let m = self.modules.get(module).ok_or_else(|| {
            TxError::new(
                ErrorCode::UnknownModule,
                format!("module: no module '{module}'"),
            )
        })?;
        policy::policy_in_state(view, module, method)
            .map(|p| p.unwrap_or_else(|| m.default_policy(method)))
    }

    /// Whether `caller` (an account address, `None` for an anonymous reader) may read `key`.
    /// Everything is public except personal data, which only its owner, `org_admin`s of the
    /// owner's organization, `chain_admin`s and `auditor`s may read.
    pub fn can_read(
        &self,
        view: &dyn StateView,
        caller: Option<&Address>,
        key: &[u8],
    ) -> Result<bool, StateError> {
        match self.modules.values().find_map(|m| m.private_key_owner(key)) {
            None => Ok(true),
            Some(owner) => may_see_personal_data(view, caller, Some(&owner)),
        }
    }

    /// Whether `caller` may see the arguments of `call` (in a block body or a transaction
    /// lookup); when not, the API shows the call with its arguments redacted.
    pub fn can_see_call(
        &self,
        view: &dyn StateView,
        caller: Option<&Address>,
        call: &Call,
    ) -> Result<bool, StateError> {
        let Some(m) = self.modules.get(call.module.as_str()) else {
            return Ok(true);
        };
        if !m.is_private_call(&call.method) {
            return Ok(true);
        }
        let subject = m.data_subject(&call.method, &call.args);
        may_see_personal_data(view, caller, subject.as_ref())
    }

    /// Register a module; a later module of the same name replaces the earlier.
    pub fn register(&mut self, module: Box<dyn Module>) {
        self.modules.insert(module.name(), module);
    }

    /// The chain's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The writes that create genesis state: organizations, accounts with their roles, the key
    /// index, chain parameters, the validator set and the tender threshold key (if any). `genesis` should have passed
    /// [`Genesis::validate`].
    pub fn genesis_writes(genesis: &Genesis) -> Writes {
        let mut writes = Writes::new();
        let mut ids: Vec<String> = Vec::new();
        for o in &genesis.organizations {
            let org = Org {
                id: o.id.clone(),
                name: o.name.clone(),
                founding: o.founding,
                status: OrgStatus::Active,
            };
            writes.insert(org_key(&o.id), Some(encode(&org)));
            ids.push(o.id.clone());
        }
        ids.sort();
        ids.dedup();
        writes.insert(ORG_LIST_KEY.to_vec(), Some(encode(&ids)));
        for a in &genesis.accounts {
            let address = address_of(&a.public_key);
            let mut account = Account {
                next_nonce: 0,
                keys: vec![a.public_key.clone()],
                name: a.name.clone(),
                org: a.org.clone(),
                ..Account::default()
            };
            for r in &a.roles {
                account.add_role(r);
            }
            writes.insert(account_key(&address), Some(encode(&account)));
            writes.insert(key_index_key(&a.public_key), Some(address.0.to_vec()));
        }
        writes.insert(PARAMS_KEY.to_vec(), Some(encode(&genesis.params)));
        writes.insert(b"chain/genesis".to_vec(), Some(genesis.hash().0.to_vec()));
        let set = ValidatorSet {
            epoch: 0,
            validators: genesis.validators.clone(),
        };
        writes.insert(validators::SET_KEY.to_vec(), Some(encode(&set)));
        if let Some(k) = &genesis.tender_threshold_trusted_dealer_devnet_only {
            writes.insert(
                xa_types::modules::tender::THRESHOLD_KEY.to_vec(),
                Some(encode(k)),
            );
        }
        if let Some(d) = &genesis.tender_dkg_trusted_setup_devnet_only {
            use xa_types::modules::dkg;
            let output = encode(&dkg::DkgOutput {
                round: 0,
                output: d.output.clone(),
            });
            writes.insert(dkg::output_at_key(0), Some(output.clone()));
            writes.insert(dkg::OUTPUT_KEY.to_vec(), Some(output));
            writes.insert(dkg::NEXT_ROUND_KEY.to_vec(), Some(encode(&1u64)));
            for k in &d.keys {
                writes.insert(dkg::dkg_key_key(&k.consensus_key), Some(encode(&k.dkg_key)));
            }
        }
        if let Some(ms) = genesis.tender_min_publicity_ms_devnet_only {
            writes.insert(
                xa_types::modules::tender::MIN_PUBLICITY_KEY.to_vec(),
                Some(encode(&ms)),
            );
        }
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
        let mut overlay = Overlay::new(view);
        let mut outcome = BlockOutcome::default();
        for (index, (tx, tx_hash)) in txs.iter().zip(hashes).enumerate() {
            let tx_hash = *tx_hash;
            let admitted = self.check_stateless(tx).and_then(|()| {
                check_expiry(tx, block.height)?;
                let signers = resolve_signers(&overlay, tx)?;
                check_nonce(signers.sender.next_nonce, tx.body.nonce)?;
                Ok(signers)
            });
            let signers = match admitted {
                Ok(s) => s,
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
            let mut account = signers.sender.clone();
            account.next_nonce += 1;
            overlay
                .writes
                .insert(account_key(&tx.body.sender), Some(encode(&account)));

            let (result, output) = match self.run_call(&overlay, block, tx, tx_hash, &signers) {
                Ok(ran) => ran,
                Err(denied) => (Err(denied), CallOutput::default()),
            };
            let receipt_index = outcome.receipts.len() as u32;
            let receipt = match result {
                Ok(()) => {
                    apply_writes(
                        &mut overlay.writes,
                        output.writes,
                        tx_hash,
                        &mut outcome.versions,
                    );
                    Receipt {
                        tx_hash,
                        height: block.height,
                        index: receipt_index,
                        status: TxStatus::Success,
                        code: String::new(),
                        message: String::new(),
                        events: output.events,
                    }
                }
                Err(e) if e.code == ErrorCode::Internal => {
                    return Err(ExecutionError::State(StateError(e.message)));
                }
                Err(e) => {
                    // A failed call keeps only the writes it marked as kept on failure.
                    apply_writes(
                        &mut overlay.writes,
                        output.kept_on_failure,
                        tx_hash,
                        &mut outcome.versions,
                    );
                    Receipt {
                        tx_hash,
                        height: block.height,
                        index: receipt_index,
                        status: TxStatus::Failed,
                        code: e.code.as_str().to_string(),
                        message: e.message,
                        events: Vec::new(),
                    }
                }
            };
            outcome.receipts.push(receipt);
            outcome.included.push(index);
        }
        self.end_block(&mut overlay, block.height, &mut outcome.versions)?;
        outcome.writes = overlay.writes;
        Ok(outcome)
    }

    /// Check the call's policy against the transaction's authorizers, then run the module.
    /// Returns the call's result and output; an `Err` here means the call never ran
    /// (permission denied, or a state read failed).
    fn run_call(
        &self,
        overlay: &Overlay<'_>,
        block: BlockContext,
        tx: &Transaction,
        tx_hash: Hash,
        signers: &Signers,
    ) -> Result<(Result<(), TxError>, CallOutput), TxError> {
        let call = &tx.body.call;
        let module = self.modules.get(call.module.as_str()).ok_or_else(|| {
            TxError::new(ErrorCode::UnknownModule, "body.call.module: no such module")
        })?;
        let policy = self.policy_of(overlay, &call.module, &call.method)?;
        let target = module.target_org(&call.method, &call.args, overlay)?;
        let authorizers = signers.all();
        policy::evaluate(
            overlay,
            &policy,
            &authorizers,
            target.as_deref(),
            &format!("{}.{}", call.module, call.method),
        )?;
        let mut ctx = CallContext {
            view: overlay,
            exec: self,
            writes: Writes::new(),
            sticky: Writes::new(),
            events: Vec::new(),
            sender: tx.body.sender,
            signers: tx.signatures.iter().map(|s| s.public_key.clone()).collect(),
            authorizers: authorizers.iter().map(|(a, _)| *a).collect(),
            proposal: None,
            chain_id: &self.chain_id,
            tx_hash,
            height: block.height,
            time_ms: block.time_ms,
            suite: self.suite,
        };
        let result = module.execute(&mut ctx, &call.method, &call.args);
        let CallContext {
            writes,
            events,
            sticky,
            ..
        } = ctx;
        Ok((
            result,
            CallOutput {
                writes,
                events,
                kept_on_failure: sticky,
            },
        ))
    }

    /// What happens after a block's last transaction: at the last height of an epoch, a
    /// validator set decided by governance ([`validators::NEXT_KEY`]) comes into force for the
    /// next epoch ([`validators::SET_KEY`]).
    fn end_block(
        &self,
        overlay: &mut Overlay<'_>,
        height: u64,
        versions: &mut Vec<KeyVersion>,
    ) -> Result<(), StateError> {
        if !validators::is_last_in_epoch(height, self.epoch_length) {
            return Ok(());
        }
        let Some(bytes) = overlay.get(validators::NEXT_KEY)? else {
            return Ok(());
        };
        let mut set: ValidatorSet =
            decode(&bytes).map_err(|e| StateError(format!("corrupt validators/next: {e}")))?;
        set.epoch = validators::epoch_of(height, self.epoch_length) + 1;
        let writes = Writes::from([
            (validators::SET_KEY.to_vec(), Some(encode(&set))),
            (validators::NEXT_KEY.to_vec(), None),
        ]);
        apply_writes(&mut overlay.writes, writes, Hash::default(), versions);
        Ok(())
    }
}

/// What a call produced.
#[derive(Default)]
struct CallOutput {
    /// Its writes, applied if it succeeded.
    writes: Writes,
    /// Its events, kept if it succeeded.
    events: Vec<Event>,
    /// Writes applied even though it failed ([`CallContext::put_even_if_failed`]).
    kept_on_failure: Writes,
}

/// Whether `caller` may see the personal data of `subject` (`None`: of an unknown subject,
/// which only `chain_admin`s and `auditor`s may see).
fn may_see_personal_data(
    view: &dyn StateView,
    caller: Option<&Address>,
    subject: Option<&Address>,
) -> Result<bool, StateError> {
    let Some(caller) = caller else {
        return Ok(false);
    };
    if subject == Some(caller) {
        return Ok(true);
    }
    let read = |a: &Address| -> Result<Option<Account>, StateError> {
        match view.get(&account_key(a))? {
            None => Ok(None),
            Some(b) => decode::<Account>(&b)
                .map(Some)
                .map_err(|e| StateError(format!("corrupt account: {e}"))),
        }
    };
    let Some(me) = read(caller)?.filter(Account::is_active) else {
        return Ok(false);
    };
    if me.has_role(CHAIN_ADMIN) || me.has_role(AUDITOR) {
        return Ok(true);
    }
    if !me.has_role(ORG_ADMIN) {
        return Ok(false);
    }
    match subject {
        Some(s) => Ok(read(s)?.is_some_and(|acct| acct.org == me.org)),
        None => Ok(false),
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
mod payment_tests;
#[cfg(test)]
mod reshare_tests;
#[cfg(test)]
mod sealing_tests;
#[cfg(test)]
mod tender_tests;
#[cfg(test)]
mod tests;
