//! Vendor error-code pages of other services and vendors, in the shapes
//! their published documents have (`fixtures/catalog/vendors/`, written for
//! these tests after reading real pages; none is a copy): raw HTML tables
//! inside Markdown with anchors and `rowspan`, several tables per document,
//! parameter tables, glossaries and HTTP-status lists beside the error
//! codes, Chinese headers, GFM rows without a closing `|`, Markdown status
//! cells left empty under a status that spanned rows, continuation rows,
//! and codes of every shape (`DBS.200001`, `SVCSTG.CCE-ADDONMGR.4000003`,
//! `AuthFailure.SignatureFailure`, `111404022`, `ORA-00942`).
//!
//! Every expected value was written from the fixture's text by hand.

mod support;

use faultline::catalog::source::{SourceError, SourceRow, parse_document};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::*;

fn vendors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalog/vendors")
}

fn parse(path: &Path) -> Result<Vec<SourceRow>, SourceError> {
    let bytes = std::fs::read(path).unwrap();
    parse_document(path.file_name().unwrap().to_str().unwrap(), &bytes)
}

/// (code, status, message) of every row of a fixture, in document order.
fn rows(name: &str) -> Vec<(String, Option<u16>, Option<String>)> {
    parse(&vendors().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| (r.code, r.status, r.message))
        .collect()
}

fn expect(
    rows: &[(&str, Option<u16>, Option<&str>)],
) -> Vec<(String, Option<u16>, Option<String>)> {
    rows.iter()
        .map(|(c, s, m)| (c.to_string(), *s, m.map(str::to_string)))
        .collect()
}

fn row(name: &str, code: &str) -> SourceRow {
    parse(&vendors().join(name))
        .unwrap()
        .into_iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("{code} not in {name}"))
}

#[test]
fn html_table_inside_markdown_with_a_parameter_table_and_a_rowspan() {
    // The "Name | Type | Description" table of the response body comes
    // first and is skipped; the status 400 spans DBS.200001 and DBS.200004.
    assert_eq!(
        rows("rds-error-codes.md"),
        expect(&[
            ("DBS.200001", Some(400), Some("Parameter error.")),
            ("DBS.200004", Some(400), Some("Operation is illegal.")),
            (
                "DBS.200002",
                Some(404),
                Some("The DB instance does not exist.")
            ),
            ("CBC.18000016", Some(403), Some("Account frozen.")),
        ])
    );
    let r = row("rds-error-codes.md", "DBS.200004");
    assert_eq!(
        r.description.as_deref(),
        Some("The operation is <not> allowed.")
    );
    let r = row("rds-error-codes.md", "DBS.200002");
    assert_eq!(
        r.remedy.as_deref(),
        Some("- Check the instance ID. - Check that the instance was not deleted.")
    );
}

#[test]
fn markdown_spanned_status_cells_continuation_rows_and_gfm_rows() {
    // The "Code | Description" list of HTTP statuses is skipped; the empty
    // status cells under 400 take it; the row with an empty code cell
    // continues CCE.01400001's remedy; CCE_CM.0401's row has no closing |.
    assert_eq!(
        rows("cce-error-codes.md"),
        expect(&[
            (
                "SVCSTG.CCE-ADDONMGR.4000003",
                Some(400),
                Some("Invalid add-on template.")
            ),
            (
                "SVCSTG.CCE-ADDONMGR.4000004",
                Some(400),
                Some("Add-on already installed.")
            ),
            ("CCE.01400001", Some(400), Some("Invalid request body.")),
            ("CCE_CM.0401", Some(401), Some("Unauthorized.")),
            ("CCE.01500001", Some(500), Some("Internal error.")),
        ])
    );
    let r = row("cce-error-codes.md", "CCE.01400001");
    assert_eq!(
        r.remedy.as_deref(),
        Some("Check the request body against the API reference.")
    );
    assert_eq!(
        row("cce-error-codes.md", "CCE_CM.0401").remedy.as_deref(),
        Some("Obtain a new token.")
    );
    assert_eq!(row("cce-error-codes.md", "CCE.01500001").remedy, None);
}

#[test]
fn two_chinese_pipe_tables_of_word_codes() {
    // 错误码 | 说明: no status, no message column: the Chinese description is
    // the row's text (the message is chosen at build time).
    let got: Vec<(String, Option<u16>, Option<String>)> =
        parse(&vendors().join("tencent-error-codes.md"))
            .unwrap()
            .into_iter()
            .map(|r| (r.code, r.status, r.description))
            .collect();
    assert_eq!(
        got,
        expect(&[
            (
                "AuthFailure.SignatureFailure",
                None,
                Some("签名错误。请检查签名计算过程。")
            ),
            ("InvalidParameterValue", None, Some("参数取值错误。")),
            (
                "RequestLimitExceeded",
                None,
                Some("请求的次数超过了频率限制。")
            ),
            (
                "FailedOperation.InstanceNotFound",
                None,
                Some("实例不存在。")
            ),
            ("ResourceInsufficient.Cpu", None, Some("CPU 资源不足。")),
            ("UnsupportedOperation", None, Some("操作不支持。")),
        ])
    );
}

#[test]
fn grid_table_with_numeric_codes_a_row_span_and_an_empty_status() {
    // The parameter table is skipped. 400 spans two rows (open separator);
    // ORA-00942's status cell is empty under a drawn border: no status.
    let got: Vec<(String, Option<u16>, Option<String>)> =
        parse(&vendors().join("dcs-error-codes.rst"))
            .unwrap()
            .into_iter()
            .map(|r| (r.code, r.status, r.description))
            .collect();
    assert_eq!(
        got,
        expect(&[
            ("111400002", Some(400), Some("Invalid project ID format.")),
            ("111400004", Some(400), Some("Empty request body.")),
            (
                "111404022",
                Some(404),
                Some("This DCS instance does not exist.")
            ),
            ("ORA-00942", None, Some("Table or view does not exist.")),
            (
                "APIGW.0308",
                Some(429),
                Some("The throttling threshold has been reached.")
            ),
        ])
    );
}

#[test]
fn html_page_with_a_glossary_and_two_error_tables() {
    type Row = (String, Option<u16>, Option<String>, Option<String>);
    let got: Vec<Row> = parse(&vendors().join("aws-error-codes.html"))
        .unwrap()
        .into_iter()
        .map(|r| (r.code, r.status, r.description, r.remedy))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        vec![
            (
                "InvalidParameterValue".into(),
                None,
                s(
                    "A value specified in a parameter is not valid, is unsupported, or cannot be used."
                ),
                None
            ),
            (
                "ThrottlingException".into(),
                None,
                s("The request was denied due to request throttling."),
                None
            ),
            (
                "InternalFailure".into(),
                Some(500),
                None,
                s("Retry the request.")
            ),
            (
                "ServiceUnavailable".into(),
                None,
                None,
                s("Retry the request later.")
            ),
        ]
    );
}

#[test]
fn chinese_html_in_markdown_with_a_rowspan() {
    assert_eq!(
        rows("apig-error-codes-zh.md"),
        expect(&[
            (
                "APIGW.0301",
                Some(401),
                Some("Incorrect IAM authentication information.")
            ),
            (
                "APIGW.0302",
                Some(401),
                Some("The IAM user is not authorized to access the API.")
            ),
        ])
    );
    let r = row("apig-error-codes-zh.md", "APIGW.0302");
    assert_eq!(r.description.as_deref(), Some("IAM用户被禁止访问该API。"));
    assert_eq!(r.remedy.as_deref(), Some("请检查用户是否被加入黑名单。"));
}

#[test]
fn a_document_without_an_error_code_table_is_an_error_naming_it() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/catalog/vendors-bad/response-fields-only.md");
    let e = parse(&path).unwrap_err();
    assert_eq!(e.path, Path::new("response-fields-only.md"));
    assert_eq!(e.line, 3, "{e}");
    assert!(e.problem.contains("reads as the error code"), "{e}");

    // Through the build, the error names the file with its directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&path, dir.path().join("page.md")).unwrap();
    let out = faultline()
        .args(["catalog", "build", "--sources"])
        .arg(dir.path())
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3: ", dir.path().join("page.md").display())),
        "{stderr}"
    );
}

#[test]
fn build_reads_a_directory_of_other_vendors_pages_without_a_manifest() {
    // The built-in category overrides name codes these pages lack: the
    // build warns and succeeds.
    let out = faultline()
        .args(["catalog", "build", "--sources"])
        .arg(vendors())
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("override"));
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by_code: BTreeMap<&str, &Value> = entries
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e))
        .collect();
    // 4 + 5 + 6 + 5 + 4 + 2 rows, InvalidParameterValue in two documents.
    assert_eq!(by_code.len(), 25, "{:?}", by_code.keys());
    let field = |code: &str, f: &str| by_code[code][f].clone();
    assert_eq!(field("DBS.200001", "service"), "DBS");
    assert_eq!(
        field("SVCSTG.CCE-ADDONMGR.4000003", "service"),
        "SVCSTG.CCE-ADDONMGR"
    );
    assert_eq!(field("ORA-00942", "service"), "ORA");
    assert_eq!(field("111404022", "service"), "111404022");
    assert_eq!(
        field("AuthFailure.SignatureFailure", "service"),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(field("DBS.200004", "status"), 400);
    assert_eq!(field("ORA-00942", "status"), Value::Null);
    // One entry from two vendors' pages, a description in each language.
    assert_eq!(
        field("InvalidParameterValue", "sources"),
        serde_json::json!(["aws-error-codes.html", "tencent-error-codes.md"])
    );
    assert_eq!(
        field("InvalidParameterValue", "description")["zh"],
        "参数取值错误。"
    );
    // A row that gives only a remedy takes it as its message.
    assert_eq!(field("InternalFailure", "message"), "Retry the request.");
    assert_eq!(field("ThrottlingException", "category"), "retry");
}
