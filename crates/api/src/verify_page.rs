//! The public verification page (`/verify`, 存证核验) that every evidence certificate links to.
//!
//! Whoever holds a printed certificate enters its evidence id (the document digest) and its
//! verification code. The node exports the record's evidence package, verifies it with the
//! light client against the chain's genesis (as an offline verifier would), shows the proven
//! facts next to the form, and says whether the code matches the package. The status code says
//! the outcome too: 200 verified (or only the form), 400 a malformed field (or a code without
//! an id), 404 nothing anchored under that id, 409 a code that does not match, 503 the node
//! cannot verify now.

use crate::{ApiState, certificate, evidence::verification_code};
use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use xa_light::{ExportError, export};
use xa_types::{Hash, modules::notary::NotaryRecord};

/// The query of `/verify`: both fields optional (no digest shows the empty form).
#[derive(Deserialize)]
pub(crate) struct VerifyQuery {
    digest: Option<String>,
    code: Option<String>,
}

/// What the page reports.
enum Outcome {
    /// No evidence id given: the form only.
    Form,
    /// A field is malformed: its name and what is wrong.
    Malformed(&'static str, String),
    /// Nothing is anchored under the digest, as of the given height.
    NotAnchored(Hash, u64),
    /// The record verifies; `code` is whether the given code matches (`None`: none given).
    Verified {
        record: Box<NotaryRecord>,
        report: Box<xa_light::Report>,
        code: Option<bool>,
    },
    /// The node could not produce or verify the evidence (an internal fault, not the user's).
    Failed(String),
}

impl Outcome {
    fn status(&self) -> StatusCode {
        match self {
            Outcome::Form => StatusCode::OK,
            Outcome::Malformed(..) => StatusCode::BAD_REQUEST,
            Outcome::NotAnchored(..) => StatusCode::NOT_FOUND,
            Outcome::Verified {
                code: Some(false), ..
            } => StatusCode::CONFLICT,
            Outcome::Verified { .. } => StatusCode::OK,
            Outcome::Failed(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

fn parse_field(field: &'static str, raw: &str) -> Result<Hash, Outcome> {
    let raw = raw.trim();
    raw.to_ascii_lowercase().parse::<Hash>().map_err(|_| {
        Outcome::Malformed(
            field,
            format!("{field}: '{raw}' is not 64 hexadecimal characters"),
        )
    })
}

/// `GET /verify?digest=&code=`.
pub(crate) async fn page(
    State(s): State<ApiState>,
    q: Result<Query<VerifyQuery>, QueryRejection>,
) -> Response {
    let (digest, code, outcome) = match q {
        Err(e) => (
            None,
            None,
            Outcome::Malformed("query", format!("query: {}", e.body_text())),
        ),
        Ok(Query(q)) => {
            let outcome = check(&s, q.digest.as_deref(), q.code.as_deref()).await;
            (q.digest, q.code, outcome)
        }
    };
    let body = render(&s, digest.as_deref(), code.as_deref(), &outcome);
    (outcome.status(), Html(body.into_string())).into_response()
}

async fn check(s: &ApiState, digest: Option<&str>, code: Option<&str>) -> Outcome {
    let code_given = code.is_some_and(|c| !c.trim().is_empty());
    let Some(digest) = digest.filter(|d| !d.trim().is_empty()) else {
        // A code alone checks nothing: say so rather than show an empty form as if all is well.
        return if code_given {
            Outcome::Malformed(
                "digest",
                "digest: enter the evidence ID that the verification code belongs to".into(),
            )
        } else {
            Outcome::Form
        };
    };
    let digest = match parse_field("digest", digest) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let code = match code.filter(|c| !c.trim().is_empty()) {
        None => None,
        Some(c) => match parse_field("code", c) {
            Ok(c) => Some(c),
            Err(o) => return o,
        },
    };
    let chain = s.chain.clone();
    let exported =
        tokio::task::spawn_blocking(move || export::notary(&chain.store, &chain.genesis, &digest))
            .await;
    let package = match exported {
        Ok(Ok(p)) => p,
        Ok(Err(ExportError::NotFound(_))) => return Outcome::NotAnchored(digest, s.chain.tip().0),
        Ok(Err(e)) => return Outcome::Failed(e.to_string()),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let report = match xa_light::verify_package(&package, Some(&s.chain.genesis)) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("this node's evidence does not verify: {e}")),
    };
    let Some(record) = report.notary.clone() else {
        return Outcome::Failed("the evidence package carries no notary record".into());
    };
    let matches = code.map(|c| c == verification_code(&package, s.chain.suite));
    Outcome::Verified {
        record: Box::new(record),
        report: Box::new(report),
        code: matches,
    }
}

fn render(s: &ApiState, digest: Option<&str>, code: Option<&str>, outcome: &Outcome) -> Markup {
    let genesis = &s.chain.genesis;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "存证核验 Evidence verification · " (genesis.chain_id) }
                style { (maud::PreEscaped(certificate::STYLE)) (maud::PreEscaped(STYLE)) }
            }
            body {
                main.certificate {
                    h1 { "存证核验" }
                    p.subtitle { "Evidence verification · " (genesis.chain_id) }
                    form method="get" action=(certificate::VERIFY_PATH) {
                        label for="digest" { "存证编号 Evidence ID" }
                        input #digest name="digest" value=(digest.unwrap_or_default())
                            size="70" maxlength="80" placeholder="64 hexadecimal characters" autocomplete="off";
                        label for="code" { "验证码 Verification code (optional)" }
                        input #code name="code" value=(code.unwrap_or_default())
                            size="70" maxlength="80" placeholder="64 hexadecimal characters" autocomplete="off";
                        button type="submit" { "核验 Verify" }
                    }
                    (result(genesis, outcome))
                    p.note {
                        "This node exports the record's evidence package and checks it with the light client "
                        "against the chain's genesis (hash " (genesis.hash()) "), from the validators' "
                        "signatures down to the record. To check without trusting this node, download "
                        "the package (GET /v1/evidence/notary/{id}) and run "
                        code { "xachain verify package.json --genesis genesis.json --document FILE" }
                        "."
                    }
                }
            }
        }
    }
}

fn result(genesis: &xa_types::Genesis, outcome: &Outcome) -> Markup {
    match outcome {
        Outcome::Form => html! {},
        Outcome::Malformed(field, message) => html! {
            p.verdict.bad data-outcome="malformed" data-field=(field) { "✘ " (message) }
        },
        Outcome::NotAnchored(digest, height) => html! {
            p.verdict.bad data-outcome="not-anchored" {
                "✘ 未找到 Not found: no document with evidence ID " span.mono { (digest) }
                " is anchored on this chain (as of block " (height) ")."
            }
        },
        Outcome::Failed(message) => html! {
            p.verdict.bad data-outcome="unavailable" {
                "This node cannot verify the record now: " (message) ". Try again later or another node."
            }
        },
        Outcome::Verified {
            record,
            report,
            code,
        } => html! {
            @match code {
                Some(true) => p.verdict.good data-outcome="verified" {
                    "✔ 核验通过 Verified: the record below is anchored on the chain, its proof checks "
                    "against the genesis, and the verification code matches its evidence package."
                },
                Some(false) => p.verdict.bad data-outcome="code-mismatch" {
                    "✘ 验证码不符 The verification code does not match. The record below exists and "
                    "verifies, but a certificate with this code was not issued for it by this node, "
                    "or it was altered. Compare every detail below with the certificate."
                },
                None => p.verdict.good data-outcome="verified" {
                    "✔ The record below is anchored on the chain and its proof checks against the "
                    "genesis. Enter the certificate's verification code to check the certificate too."
                },
            }
            table { (certificate::record_rows(genesis, record, report)) }
        },
    }
}

const STYLE: &str = "form{display:grid;gap:.4rem;margin:1.5rem 0}\
input{font-family:monospace;padding:.3rem}button{justify-self:start;padding:.3rem 1.2rem}\
.verdict{padding:.6rem;border-radius:4px}.good{background:#e8f5e9;border:1px solid #2e7d32}\
.bad{background:#fdecea;border:1px solid #c62828}";
