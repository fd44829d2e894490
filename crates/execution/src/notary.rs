//! The notary module (存证): anchor a document digest; the record keeps block, time and signers.

use crate::{CallContext, Module};
use xa_types::{
    ErrorCode, Policy, TxError, decode, encode,
    modules::notary::{
        ANCHOR, AnchorArgs, MAX_KIND, MAX_TITLE, MODULE, NotaryRecord, OFFICER, record_key,
    },
};

/// The notary module.
pub struct Notary;

fn args(bytes: &[u8]) -> Result<AnchorArgs, TxError> {
    let a: AnchorArgs = decode(bytes).map_err(|e| {
        TxError::new(
            ErrorCode::InvalidArgument,
            format!("body.call.args: not notary.anchor arguments ({e})"),
        )
    })?;
    if a.title.is_empty() || a.title.len() > MAX_TITLE {
        return Err(TxError::new(
            ErrorCode::InvalidArgument,
            format!("args.title: must be 1 to {MAX_TITLE} bytes"),
        ));
    }
    if a.kind.len() > MAX_KIND {
        return Err(TxError::new(
            ErrorCode::InvalidArgument,
            format!("args.kind: must be at most {MAX_KIND} bytes"),
        ));
    }
    Ok(a)
}

impl Module for Notary {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn methods(&self) -> &'static [&'static str] {
        &[ANCHOR]
    }

    fn check(&self, _method: &str, bytes: &[u8]) -> Result<(), TxError> {
        args(bytes).map(|_| ())
    }

    fn roles(&self) -> &'static [&'static str] {
        &[OFFICER]
    }

    /// `1 of any role @ any`: anyone with a role may anchor (applications spec §9); a
    /// registered account holding no role may not.
    fn default_policy(&self, _method: &str) -> Policy {
        Policy::any_role()
    }

    fn execute(
        &self,
        ctx: &mut CallContext<'_>,
        _method: &str,
        bytes: &[u8],
    ) -> Result<(), TxError> {
        let a = args(bytes)?;
        let key = record_key(&a.digest);
        if let Some(existing) = ctx.get(&key)? {
            let height = decode::<NotaryRecord>(&existing)
                .map(|r| r.height)
                .unwrap_or_default();
            return Err(TxError::new(
                ErrorCode::AlreadyExists,
                format!(
                    "args.digest: {} was already anchored at height {height}",
                    a.digest
                ),
            ));
        }
        let record = NotaryRecord {
            digest: a.digest,
            title: a.title,
            file_size: a.file_size,
            kind: a.kind,
            submitter: ctx.sender,
            signers: ctx.signers.clone(),
            height: ctx.height,
            time_ms: ctx.time_ms,
            tx_hash: ctx.tx_hash,
        };
        ctx.put(key, encode(&record));
        ctx.emit(
            MODULE,
            "anchored",
            vec![
                ("digest".into(), a.digest.to_string()),
                ("submitter".into(), ctx.sender.to_string()),
            ],
        );
        Ok(())
    }
}
