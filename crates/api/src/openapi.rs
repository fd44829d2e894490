//! The OpenAPI 3.1 document served at `/v1/openapi.json`.
//!
//! Written as data rather than derived: the API is small, and a derive crate would add more
//! build time than this file has lines.

use serde_json::{Value, json};

fn err() -> Value {
    json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(schema: Value) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
}

/// The document.
pub fn document() -> Value {
    let hash = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    // What the verification page's form sends: a hash in either case, padded, or nothing.
    let form_hash = json!({"type": "string", "pattern": "^\\s*([0-9a-fA-F]{64})?\\s*$"});
    let codes: Vec<&str> = xa_types::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let bearer = json!([{}, {"bearer": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Xiong'an Chain API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Submit signed transactions, read blocks, transactions and state with Merkle proofs, and follow committed blocks. Errors are {\"error\":{\"code\",\"message\"}} with stable codes."
        },
        "paths": {
            "/v1/status": {"get": {"summary": "Chain and node status", "responses": {"200": ok(json!({"type": "object"}))}}},
            "/v1/transactions": {"post": {
                "summary": "Submit a signed transaction",
                "parameters": [
                    {"name": "wait", "in": "query", "schema": {"type": "boolean"}, "description": "Wait until committed"},
                    {"name": "timeout_ms", "in": "query", "schema": {"type": "integer"}, "description": "Wait at most this long (default 30000, max 120000)"}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Transaction"}}}},
                "responses": {"200": ok(json!({"type": "object", "description": "committed, with receipt"})), "202": ok(json!({"type": "object", "description": "accepted, pending"})), "400": err(), "409": err(), "413": err(), "503": err()}
            }},
            "/v1/transactions/batch": {"post": {
                "summary": "Submit up to 10000 signed transactions; one result per transaction",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Transaction"}}}}},
                "responses": {"200": ok(json!({"type": "object"})), "400": err()}
            }},
            "/v1/transactions/{hash}": {"get": {
                "summary": "A transaction's status, block and receipt; a private call's arguments are replaced by their hash unless the bearer may read them (and its evidence package is refused)",
                "security": bearer.clone(),
                "parameters": [{"name": "hash", "in": "path", "required": true, "schema": hash}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the answer"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/blocks/{id}": {"get": {
                "summary": "A block by height, or the latest",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"oneOf": [{"type": "integer"}, {"const": "latest"}]}}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the answer"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/state/{module}/{key}": {"get": {
                "summary": "A state entry (or its absence) at a height, optionally with a Merkle proof against the block's state root. Private entries (personal data) answer 403 PERMISSION_DENIED, proof included, unless the bearer may read them",
                "security": bearer.clone(),
                "parameters": [
                    {"name": "module", "in": "path", "required": true, "schema": {"enum": ["notary", "accounts", "identity", "governance", "validators", "raw"]}},
                    {"name": "key", "in": "path", "required": true, "schema": {"type": "string"}, "description": "notary: digest; accounts: address; identity: org:ID, personal:ADDRESS or key:SUITE:HEX; governance: proposal id; validators: set or next; raw: hex of any state key"},
                    {"name": "proof", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "height", "in": "query", "schema": {"type": "integer"}}
                ],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/notary/{digest}": {"get": {
                "summary": "A notarized record with its block, time and signers",
                "parameters": [{"name": "digest", "in": "path", "required": true, "schema": hash}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the answer"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/accounts/{address}": {"get": {
                "summary": "An account: organization, roles, status, keys (active and revoked) and nonce; its personal data only when the bearer may read it",
                "security": bearer.clone(),
                "parameters": [{"name": "address", "in": "path", "required": true, "schema": hash}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the answer"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/auth/challenge": {"post": {
                "summary": "Start a login: a random challenge for an address, valid 120 s",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["address"], "properties": {"address": hash}}}}},
                "responses": {"200": ok(json!({"type": "object", "properties": {"challenge": {"type": "string"}, "expires_in_ms": {"type": "integer"}}})), "400": err()}
            }},
            "/v1/auth/token": {"post": {
                "summary": "Finish a login: the challenge signed by an active key of the account buys a bearer token valid 15 minutes. Signed bytes: 'XA-AUTH-V1' || u32_le(len(chain_id)) || chain_id || address || challenge",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["address", "challenge", "public_key", "signature"], "properties": {
                    "address": hash, "challenge": {"type": "string"}, "public_key": {"type": "string"}, "signature": {"type": "string"}}}}}},
                "responses": {"200": ok(json!({"type": "object", "properties": {"token": {"type": "string"}, "expires_in_ms": {"type": "integer"}}})), "400": err(), "401": err()}
            }},
            "/v1/auth/whoami": {"get": {
                "summary": "The caller identified by the bearer token, with its account (anonymous without a token)",
                "security": [{}, {"bearer": []}],
                "responses": {"200": ok(json!({"type": "object"})), "401": err()}
            }},
            "/v1/orgs": {"get": {"summary": "Every organization, removed ones included", "responses": {"200": ok(json!({"type": "object"}))}}},
            "/v1/orgs/{id}": {"get": {
                "summary": "One organization",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the entry"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/keys/{public_key}": {"get": {
                "summary": "The account a key belongs (or belonged) to, and whether the key is active, retired or revoked",
                "parameters": [{"name": "public_key", "in": "path", "required": true, "schema": {"type": "string"}, "description": "suite:hex"}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the entry"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/roles": {"get": {"summary": "Every role that can be granted: built-in ones and the officer roles modules declare", "responses": {"200": ok(json!({"type": "object"}))}}},
            "/v1/policies": {"get": {"summary": "The policy in force for every call of every module, in text form", "responses": {"200": ok(json!({"type": "object"}))}}},
            "/v1/policies/{module}/{method}": {"get": {
                "summary": "The policy in force for one call ('T of ROLES @ ORGS[, distinct orgs]' rules joined by 'or'), and whether it was set on chain or is the module's default",
                "parameters": [
                    {"name": "module", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "method", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the entry"}
                ],
                "responses": {"200": ok(json!({"type": "object"})), "400": err()}
            }},
            "/v1/proposals": {"get": {
                "summary": "Governance proposals, newest first",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"enum": ["open", "executed", "expired", "cancelled"]}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "At most this many (default 100); taken as 1 below 1 and as 1000 above 1000"}
                ],
                "responses": {"200": ok(json!({"type": "object"})), "400": err()}
            }},
            "/v1/proposals/{id}": {"get": {
                "summary": "One proposal with its approvals and the policy it needs",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}, {"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the entry"}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/tenders": {"get": {
                "summary": "Tender records, newest first, without their bids (see /v1/tenders/{id}); next_before pages on",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"enum": ["bidding", "closed", "evaluating", "publicity", "suspended", "awarded", "contracted", "failed"]}, "description": "Only tenders in this status (either case)"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "At most this many (default 100); taken as 1 below 1 and as 1000 above 1000"},
                    {"name": "before", "in": "query", "schema": {"type": "integer"}, "description": "Only tenders with a smaller id: the previous page's next_before"}
                ],
                "responses": {"200": ok(json!({"type": "object", "properties": {"tenders": {"type": "array", "items": {"type": "object"}}, "next_before": {"type": ["integer", "null"]}}})), "400": err()}
            }},
            "/v1/tenders/{id}": {"get": {
                "summary": "A tender, its bids as stored (before the opening: ciphertext, timelock-sealed key and commitment only) and its opening (every bid revealed together, with the recovered group signature)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok(json!({"type": "object", "properties": {"tender": {"type": "object"}, "bids": {"type": "array"}, "opening": {"type": ["object", "null"]}}})), "400": err(), "404": err()}
            }},
            "/v1/contracts/{id}": {"get": {
                "summary": "A construction contract: parent, payer, payee, price, ring-fenced wage share, milestones and money in and out",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/contracts/{id}/trail": {"get": {
                "summary": "Where every fen of a contract went: its payment requests, each with its transfer lines (to subcontractors and to each worker, with bank references), and recursively every subcontract (at most 8 levels, 1000 contracts, 20000 lines in all: a request cut short has a non-null next_from to page on with /v1/payments/{id})",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok(json!({"type": "object", "properties": {"contract": {"type": "object"}, "requests": {"type": "array", "items": {"type": "object", "properties": {"request": {"type": "object"}, "lines": {"type": "array", "items": {"type": "object"}}, "next_from": {"type": ["integer", "null"]}}}}, "subcontracts": {"type": "array"}}})), "400": err(), "404": err()}
            }},
            "/v1/payments/{id}": {"get": {
                "summary": "A payment request (progress, material or payroll): its summary (status SUBMITTED, REVIEWED, APPROVED, PARTIALLY_PAID, PAID, SETTLED or REJECTED; lines, lines paid, lines failed and unpaid, amount paid; who settled) and a page of its transfer lines, each with its bank reference and failed attempts; next_from pages on",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                    {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4294967295u64}, "description": "First line (default 0): the previous page's next_from"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4294967295u64}, "description": "At most this many lines (default 100); taken as 1 below 1 and as 1000 above 1000"}
                ],
                "responses": {"200": ok(json!({"type": "object", "properties": {"request": {"type": "object"}, "lines": {"type": "array", "items": {"type": "object"}}, "next_from": {"type": ["integer", "null"]}}})), "400": err(), "404": err()}
            }},
            "/v1/dkg": {"get": {"summary": "The tender threshold key in force (source, round, quorum, players, group key), the open reshare round with the dealers it waits for, and the next round number", "responses": {"200": ok(json!({"type": "object", "properties": {"source": {"enum": ["none", "trusted_dealer_devnet_only", "golden_round_zero_trusted_setup_devnet_only", "golden_reshare"]}, "reshares": {"type": "boolean"}, "key_round": {"type": "integer"}, "in_force": {"type": ["object", "null"]}, "open_round": {"type": ["object", "null"]}, "next_round": {"type": ["integer", "null"]}}}))}}},
            "/v1/dkg/rounds/{round}": {"get": {
                "summary": "A reshare round's record (dealers, players, required logs, the dealers whose logs it holds or, once done, used; status) and the size of each dealer log",
                "parameters": [{"name": "round", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok(json!({"type": "object"})), "400": err(), "404": err()}
            }},
            "/v1/validators": {"get": {"summary": "The validator set in force, a set pending for the next epoch boundary, and the epoch", "parameters": [{"name": "proof", "in": "query", "schema": {"type": "boolean"}, "description": "Attach the evidence package (docs/proofs.md) proving the set in force"}], "responses": {"200": ok(json!({"type": "object"})), "400": err()}}},
            "/v1/events": {"get": {"summary": "WebSocket: one JSON message per committed block (height, hash, time_ms, receipts)", "responses": {"101": {"description": "Switching protocols"}, "400": err(), "426": err()}}},
            "/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": ok(json!({"type": "object"}))}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text/plain exposition format"}}}},
            "/v1/headers/{height}": {"get": {
                "summary": "A block header (or 'latest') with its hash and finalization certificate (hex of the commonware codec bytes; null when finalized only through a descendant), for light clients",
                "parameters": [{"name": "height", "in": "path", "required": true, "schema": {"oneOf": [{"type": "integer"}, {"const": "latest"}]}}],
                "responses": {"200": ok(json!({"$ref": "#/components/schemas/HeaderWithCertificate"})), "400": err(), "404": err()}
            }},
            "/v1/headers": {"get": {
                "summary": "Headers from..=to (at most 1000, to defaults to the tip), each with its certificate",
                "parameters": [
                    {"name": "from", "in": "query", "required": true, "schema": {"type": "integer"}},
                    {"name": "to", "in": "query", "schema": {"type": "integer"}}
                ],
                "responses": {"200": ok(json!({"type": "object", "properties": {"from": {"type": "integer"}, "to": {"type": "integer"}, "headers": {"type": "array", "items": {"$ref": "#/components/schemas/HeaderWithCertificate"}}}})), "400": err()}
            }},
            "/v1/evidence/tx/{hash}": {"get": {
                "summary": "Evidence package (docs/proofs.md, format xa-evidence/1) proving a committed transaction and its receipt",
                "parameters": [{"name": "hash", "in": "path", "required": true, "schema": hash}],
                "responses": {"200": ok(json!({"$ref": "#/components/schemas/EvidencePackage"})), "400": err(), "404": err(), "503": err()}
            }},
            "/v1/evidence/notary/{digest}": {"get": {
                "summary": "Evidence package proving a notarized document: its anchoring transaction and its record in state",
                "parameters": [{"name": "digest", "in": "path", "required": true, "schema": hash}],
                "responses": {"200": ok(json!({"$ref": "#/components/schemas/EvidencePackage"})), "400": err(), "404": err(), "503": err()}
            }},
            "/v1/evidence/state/{module}/{key}": {"get": {
                "summary": "Evidence package proving a state entry's value or absence, or with history=true the key's complete history (notary records and validators/set keep one)",
                "parameters": [
                    {"name": "module", "in": "path", "required": true, "schema": {"enum": ["notary", "accounts", "validators"]}},
                    {"name": "key", "in": "path", "required": true, "schema": {"type": "string", "description": "a hash, or for validators 'set' or 'next'"}},
                    {"name": "history", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "height", "in": "query", "schema": {"type": "integer"}, "description": "default: the latest certified height"}
                ],
                "responses": {"200": ok(json!({"$ref": "#/components/schemas/EvidencePackage"})), "400": err(), "404": err(), "503": err()}
            }},
            "/v1/evidence/consistency": {"get": {
                "summary": "Evidence package proving that the chain at height 'to' extends the chain at height 'from'",
                "parameters": [
                    {"name": "from", "in": "query", "required": true, "schema": {"type": "integer"}},
                    {"name": "to", "in": "query", "required": true, "schema": {"type": "integer"}}
                ],
                "responses": {"200": ok(json!({"$ref": "#/components/schemas/EvidencePackage"})), "400": err(), "404": err(), "503": err()}
            }},
            "/v1/notary/{digest}/certificate": {"get": {
                "summary": "The printable evidence certificate (存证证书) of a notarized document, as HTML, with a verification code (hash of the evidence package) and a link to the portal's /verify page",
                "parameters": [{"name": "digest", "in": "path", "required": true, "schema": hash}],
                "responses": {"200": {"description": "text/html"}, "400": err(), "404": err(), "503": err()}
            }},
            "/verify": {"get": {
                "summary": "The public verification page (存证核验) that certificates link to, as HTML: verifies a notary record with the light client against the genesis and checks a certificate's verification code. The status tells the outcome: 200 verified (or the empty form), 400 a malformed field or a code without an evidence ID, 404 nothing anchored under the id, 409 the code does not match, 503 the node cannot verify now",
                "parameters": [
                    {"name": "digest", "in": "query", "required": false, "schema": form_hash, "description": "The evidence ID (document digest); empty shows the form"},
                    {"name": "code", "in": "query", "required": false, "schema": form_hash, "description": "The certificate's verification code (optional)"}
                ],
                "responses": {"200": {"description": "text/html"}, "400": {"description": "text/html"}, "404": {"description": "text/html"}, "409": {"description": "text/html"}, "503": {"description": "text/html"}}
            }}
        },
        "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from /v1/auth/token; requests without it are anonymous and see public data only"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string", "maxLength": 1100, "description": "Names the field and what is wrong with it; cut after 1,024 bytes, saying how long it was"}}}}},
            "HeaderWithCertificate": {"type": "object", "required": ["height", "hash", "header", "certificate"], "properties": {
                "height": {"type": "integer"}, "hash": hash, "header": {"type": "object"},
                "certificate": {"type": ["string", "null"], "description": "hex of the commonware simplex ed25519 Finalization"}}},
            "EvidencePackage": {"type": "object", "required": ["format", "genesis", "lineage", "headers", "linked", "record"], "description": "See docs/proofs.md", "properties": {
                "format": {"const": "xa-evidence/1"}, "genesis": {"type": "object"},
                "lineage": {"type": "array"}, "headers": {"type": "array"}, "linked": {"type": "array"},
                "record": {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["transaction", "state", "history", "notary", "consistency"]}}}}},
            "Transaction": {"type": "object", "required": ["body", "signatures"], "properties": {
                "body": {"type": "object", "required": ["chain_id", "sender", "nonce", "expiry_height", "call"], "properties": {
                    "chain_id": {"type": "string"},
                    "sender": hash,
                    "nonce": {"type": "integer", "minimum": 0},
                    "expiry_height": {"type": "integer", "minimum": 0},
                    "call": {"type": "object", "required": ["module", "method", "args"], "properties": {
                        "module": {"type": "string"}, "method": {"type": "string"},
                        "args": {"type": "string", "description": "hex of the borsh-encoded arguments"}}}}},
                "signatures": {"type": "array", "items": {"type": "object", "required": ["public_key", "signature"], "properties": {
                    "public_key": {"type": "string", "description": "suite:hex, e.g. ed25519:ab.."},
                    "signature": {"type": "string", "description": "hex"}}}}}}
        }}
    })
}
