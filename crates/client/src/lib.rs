//! Talk to a Xiong'an Chain node over HTTP: build, sign and submit transactions, read results.
//!
//! Blocking on purpose: the CLI and the load generator drive it from plain threads.

use serde_json::Value;
use std::time::Duration;
use xa_types::{Address, Call, Hash, KeyPair, Transaction, TxBody, address_of};

/// A client error: transport failure, or the node's structured error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached or answered garbage.
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The node answered with an error.
    #[error("{code}: {message} (HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable code.
        code: String,
        /// Message.
        message: String,
    },
}

impl ClientError {
    /// The stable code of an API error, if this is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            Self::Transport { .. } => None,
        }
    }
}

/// A node's HTTP API.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Client {
    /// A client for the API at `base`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(150)))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent,
            token: None,
        }
    }

    /// Log in as `address` with one of its keys: answer a challenge, keep the bearer token, and
    /// send it with every later request so the node answers what the account may read.
    pub fn login(&mut self, key: &KeyPair, address: &Address) -> Result<(), ClientError> {
        let (chain_id, _) = self.chain_info()?;
        let v = self.post(
            "/v1/auth/challenge",
            &serde_json::json!({ "address": address }),
        )?;
        let challenge: [u8; 32] = v["challenge"]
            .as_str()
            .and_then(|c| c.parse::<Hash>().ok())
            .map(|h| h.0)
            .ok_or_else(|| ClientError::Transport {
                url: format!("{}/v1/auth/challenge", self.base),
                message: "the answer holds no 32-byte challenge".into(),
            })?;
        let message = xa_types::auth::signing_message(&chain_id, address, &challenge);
        let v = self.post(
            "/v1/auth/token",
            &serde_json::json!({
                "address": address,
                "challenge": Hash(challenge),
                "public_key": key.public_key(),
                "signature": key.sign(&message),
            }),
        )?;
        self.token = v["token"].as_str().map(str::to_string);
        Ok(())
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn finish(
        url: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ClientError> {
        let mut resp = resp.map_err(|e| ClientError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body: Value = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_json()
            .map_err(|e| ClientError::Transport {
                url: url.to_string(),
                message: format!("HTTP {status}, unreadable body: {e}"),
            })?;
        if status >= 400 || (status == 202 && body.get("error").is_some()) {
            let code = body["error"]["code"]
                .as_str()
                .unwrap_or("UNKNOWN")
                .to_string();
            let message = body["error"]["message"].as_str().unwrap_or("").to_string();
            return Err(ClientError::Api {
                status,
                code,
                message,
            });
        }
        Ok(body)
    }

    /// GET a path, returning the JSON body.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.get(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        Self::finish(&url, req.call())
    }

    /// The node's CPU time in seconds (`process_cpu_seconds_total` from `/metrics`); `None` if the
    /// node does not report it (no procfs).
    pub fn process_cpu_seconds(&self) -> Result<Option<f64>, ClientError> {
        let url = format!("{}/metrics", self.base);
        let text = self
            .agent
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .map_err(|e| ClientError::Transport {
                url: url.clone(),
                message: e.to_string(),
            })?;
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix("process_cpu_seconds_total "))
            .and_then(|v| v.trim().parse().ok()))
    }

    /// POST JSON to a path, returning the JSON body.
    pub fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.post(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        Self::finish(&url, req.send_json(body))
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<Value, ClientError> {
        self.get("/v1/status")
    }

    /// Submit one transaction; with `wait`, return once it is committed.
    pub fn submit(&self, tx: &Transaction, wait: bool) -> Result<Value, ClientError> {
        let path = if wait {
            "/v1/transactions?wait=true"
        } else {
            "/v1/transactions"
        };
        self.post(path, tx)
    }

    /// Submit many transactions; one JSON result per transaction.
    pub fn submit_batch(&self, txs: &[Transaction]) -> Result<Vec<Value>, ClientError> {
        let v = self.post("/v1/transactions/batch", &txs)?;
        Ok(v["results"].as_array().cloned().unwrap_or_default())
    }

    /// The sender's next nonce, counting its transactions pending at this node.
    pub fn next_nonce(&self, address: &Address) -> Result<u64, ClientError> {
        let v = self.get(&format!("/v1/accounts/{address}"))?;
        Ok(v["pending_next_nonce"]
            .as_u64()
            .or_else(|| v["account"]["next_nonce"].as_u64())
            .unwrap_or(0))
    }

    /// Chain id and committed height from the status.
    pub fn chain_info(&self) -> Result<(String, u64), ClientError> {
        let s = self.status()?;
        Ok((
            s["chain_id"].as_str().unwrap_or_default().to_string(),
            s["height"].as_u64().unwrap_or(0),
        ))
    }

    /// The account `key` signs for: the owner recorded in the chain's key index (which stays
    /// right after the account rotated its first key away), else the address the key derives.
    pub fn sender_of(&self, key: &KeyPair) -> Result<Address, ClientError> {
        match self.get(&format!("/v1/keys/{}", key.public_key())) {
            Ok(v) => Ok(v["address"]
                .as_str()
                .and_then(|a| a.parse::<Address>().ok())
                .unwrap_or_else(|| address_of(&key.public_key()))),
            Err(e) if e.code() == Some("NOT_FOUND") => Ok(address_of(&key.public_key())),
            Err(e) => Err(e),
        }
    }

    /// Build and sign a transaction for `key`'s account, fetching chain id, height and nonce.
    pub fn build(
        &self,
        key: &KeyPair,
        call: Call,
        expiry_blocks: u64,
    ) -> Result<Transaction, ClientError> {
        let sender = self.sender_of(key)?;
        self.build_as(sender, key, call, expiry_blocks)
    }

    /// Build and sign a transaction for `sender` with `key` (one of its keys).
    pub fn build_as(
        &self,
        sender: Address,
        key: &KeyPair,
        call: Call,
        expiry_blocks: u64,
    ) -> Result<Transaction, ClientError> {
        let nonce = self.next_nonce(&sender)?;
        let (chain_id, height) = self.chain_info()?;
        Ok(TxBody {
            chain_id,
            sender,
            nonce,
            expiry_height: height + expiry_blocks,
            call,
        }
        .sign(key))
    }

    /// Build and sign a transaction for `key` with the given nonce (the sender is the address
    /// `key` derives: for load generators and fresh accounts).
    pub fn build_with_nonce(
        &self,
        key: &KeyPair,
        call: Call,
        expiry_blocks: u64,
        nonce: u64,
    ) -> Result<Transaction, ClientError> {
        let (chain_id, height) = self.chain_info()?;
        Ok(TxBody {
            chain_id,
            sender: address_of(&key.public_key()),
            nonce,
            expiry_height: height + expiry_blocks,
            call,
        }
        .sign(key))
    }

    /// `GET /v1/transactions/{hash}`.
    pub fn transaction(&self, hash: &Hash) -> Result<Value, ClientError> {
        self.get(&format!("/v1/transactions/{hash}"))
    }

    /// `GET /v1/blocks/{id}`.
    pub fn block(&self, id: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/blocks/{id}"))
    }
}
