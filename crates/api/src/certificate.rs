//! The evidence certificate (存证证书) of a notary record: a printable HTML page.

use maud::{DOCTYPE, Markup, html};
use xa_light::Report;
use xa_types::{Genesis, Hash, modules::notary::NotaryRecord};

/// Path of the portal's verification page, linked from every certificate.
pub const VERIFY_PATH: &str = "/verify";

/// `YYYY-MM-DD HH:MM:SS UTC` for milliseconds since the Unix epoch.
///
/// Hand-written (the civil-from-days conversion) to avoid a date crate for one format.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Render the certificate page.
pub fn render(genesis: &Genesis, record: &NotaryRecord, report: &Report, code: &Hash) -> Markup {
    let verify = format!("{VERIFY_PATH}?digest={}&code={code}", record.digest);
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { "存证证书 Evidence Certificate " (record.digest) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                main.certificate {
                    h1 { "存证证书" }
                    p.subtitle { "Evidence Certificate · " (genesis.chain_id) }
                    table {
                        (record_rows(genesis, record, report))
                        tr { th { "验证码 Verification code" } td.mono.code { (code) } }
                    }
                    p.verify {
                        "验证 Verify: " a href=(verify) { (verify) }
                    }
                    p.note {
                        "The verification code is the " (genesis.suite.name())
                        " hash of the evidence package (GET /v1/evidence/notary/" (record.digest)
                        "). Anyone holding the chain's genesis file can check the package offline: "
                        code { "xachain verify package.json --genesis genesis.json --document FILE" }
                    }
                }
            }
        }
    }
}

/// The rows describing a verified notary record, shared by the certificate and the
/// verification page (so both always show the same facts).
pub(crate) fn record_rows(genesis: &Genesis, record: &NotaryRecord, report: &Report) -> Markup {
    html! {
        tr { th { "存证编号 Evidence ID" } td.mono { (record.digest) } }
        tr { th { "提交者 Submitter" } td.mono { (record.submitter) } }
        tr { th { "文件名 File name" } td { (record.title) } }
        tr { th { "文件大小 File size" } td { (record.file_size) " bytes" } }
        tr { th { "类型 Kind" } td { (record.kind) } }
        tr { th { "文件摘要 Digest (" (genesis.suite.name()) ")" } td.mono { (record.digest) } }
        tr { th { "交易 Transaction" } td.mono { (record.tx_hash) } }
        tr { th { "区块高度 Block height" } td { (report.height) } }
        tr { th { "区块哈希 Block hash" } td.mono { (report.block_hash) } }
        tr { th { "上链时间 Time" } td { (utc(report.time_ms)) } }
        tr {
            th { "签名验证节点 Validators" }
            td {
                ul { @for s in &report.signers { li { (s) } } }
                @if let Some(anchor) = report.via {
                    small { "(finalized through the certificate of block " (anchor) ")" }
                }
            }
        }
        tr { th { "创世哈希 Genesis hash" } td.mono { (report.genesis_hash) } }
    }
}

pub(crate) const STYLE: &str = "body{font-family:serif;background:#fff;color:#111}\
.certificate{max-width:52rem;margin:2rem auto;padding:2rem 3rem;border:6px double #8b0000}\
h1{text-align:center;letter-spacing:.5em;color:#8b0000;margin-bottom:0}\
.subtitle{text-align:center;margin-top:.3rem}\
table{width:100%;border-collapse:collapse;margin-top:1.5rem}\
th{text-align:left;width:16rem;vertical-align:top;padding:.35rem;border-bottom:1px solid #ddd}\
td{padding:.35rem;border-bottom:1px solid #ddd}\
.mono{font-family:monospace;word-break:break-all}.code{font-weight:bold}\
ul{margin:0;padding-left:1.2rem}.note{font-size:.85rem;color:#444}\
@media print{.certificate{border-color:#000}a{color:#000}}";

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }
}
