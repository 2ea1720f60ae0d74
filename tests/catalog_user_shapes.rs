//! User catalogs with codes of every vendor shape (SPEC section 1), in JSON
//! and CSV, through the real binary: accepted, rejected with entry, field
//! and line named, and `catalog export --format csv` read back by
//! `--catalog` as the same entries.
//!
//! Expected values are written here by hand, from the SPEC table and the
//! input files these tests write.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use support::*;

/// One code of each shape of the SPEC table, and the family prefix the
/// SPEC derives for it (the service of an entry that names none); word and
/// purely numeric codes have no family, so their service is the code.
const SHAPES: &[(&str, &str)] = &[
    ("Ecs.0013", "ECS"), // built in: keeps its service
    ("DBS.200001", "DBS"),
    ("CBC.18000016", "CBC"),
    ("ORA-00942", "ORA"),
    ("SVCSTG.CCE-ADDONMGR.4000003", "SVCSTG.CCE-ADDONMGR"),
    ("APIGW.0301", "APIGW"),
    ("InvalidParameterValue", "InvalidParameterValue"),
    (
        "AuthFailure.SignatureFailure",
        "AuthFailure.SignatureFailure",
    ),
    ("ThrottlingException", "ThrottlingException"),
    ("10000000", "10000000"),
    ("111404022", "111404022"),
    ("a:b_c-d.e", "a:b_c-d.e"),
];

fn export_with(catalog: &Path) -> BTreeMap<String, Value> {
    let out = faultline()
        .args(["catalog", "export", "--format", "json", "--catalog"])
        .arg(catalog)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    entries
        .into_iter()
        .map(|e| (e["code"].as_str().unwrap().to_string(), e))
        .collect()
}

fn check(file: &Path) -> (i32, String) {
    let out = faultline()
        .args(["catalog", "check"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn every_shape_is_accepted_from_json_with_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shapes.json");
    let items: Vec<Value> = SHAPES
        .iter()
        .map(|(c, _)| json!({"code": c, "message": format!("message of {c}")}))
        .collect();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec_pretty(&items).unwrap());
    std::fs::write(&file, bytes).unwrap();
    let (status, text) = check(&file);
    assert_eq!(status, 0, "{text}");
    let catalog = export_with(&file);
    assert_eq!(catalog.len(), 589 + SHAPES.len() - 1);
    for (code, service) in SHAPES {
        let e = &catalog[*code];
        assert_eq!(e["service"], *service, "{code}");
        assert_eq!(e["message"], format!("message of {code}"));
    }
}

#[test]
fn every_shape_is_accepted_from_csv_with_quotes_suffixes_and_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shapes.csv");
    let mut csv = String::from("\u{feff}code,service,status,message,remedy,remedy_zh,category\r\n");
    for (code, _) in SHAPES {
        csv.push_str(&format!("{code},,,message of {code},,,\r\n"));
    }
    // RFC 4180 quoting: a comma, a line break and quotes inside fields; a
    // remedy with no suffix in Chinese goes to zh.
    csv.push_str(
        "Foo-1,Foo,429,\"Slow down, please\",\"Wait,\nthen \"\"retry\"\"\",请稍后重试。,retry\r\n",
    );
    csv.push_str("Bar.77,,,m,请联系技术支持。,,\r\n");
    std::fs::write(&file, csv).unwrap();
    let (status, text) = check(&file);
    assert_eq!(status, 0, "{text}");
    let catalog = export_with(&file);
    for (code, service) in SHAPES {
        assert_eq!(catalog[*code]["service"], *service, "{code}");
        assert_eq!(catalog[*code]["message"], format!("message of {code}"));
    }
    let foo = &catalog["Foo-1"];
    assert_eq!(foo["service"], "Foo");
    assert_eq!(foo["status"], 429);
    assert_eq!(foo["message"], "Slow down, please");
    assert_eq!(
        foo["remedy"],
        json!({"en": "Wait,\nthen \"retry\"", "zh": "请稍后重试。"})
    );
    assert_eq!(foo["category"], "retry");
    assert_eq!(foo["sources"], json!(["shapes.csv"]));
    assert_eq!(
        catalog["Bar.77"]["remedy"],
        json!({"zh": "请联系技术支持。"})
    );
    assert_eq!(catalog["Bar.77"]["service"], "Bar");
}

#[test]
fn bad_codes_are_rejected_naming_line_entry_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("bad.json");
    std::fs::write(
        &json_file,
        "[\n  {\"code\": \"DBS.200001\"},\n  {\"code\": \"Ecs.\"},\n  {\"code\": \"a b\"},\n  {\"code\": \"-1\"},\n  {\"code\": \"Ecs.001é\"},\n  {\"code\": \"\"}\n]\n",
    )
    .unwrap();
    let (status, text) = check(&json_file);
    assert_eq!(status, 1, "{text}");
    let name = json_file.display().to_string();
    for (line, entry, code) in [
        (3, 2, "Ecs."),
        (4, 3, "a b"),
        (5, 4, "-1"),
        (6, 5, "Ecs.001é"),
        (7, 6, ""),
    ] {
        let want = format!(
            "{name}:line {line}, entry {entry}, field \"code\": {code:?} is not an error code"
        );
        assert!(text.contains(&want), "{want:?} not in\n{text}");
    }
    assert!(text.contains("1 valid entries, 5 problem(s)"), "{text}");

    let csv_file = dir.path().join("bad.csv");
    std::fs::write(
        &csv_file,
        "code,message\nDBS.200001,ok\n\"two\nlines\",x\nEcs.,y\n\"a,b\",z\nOK.1,w\n",
    )
    .unwrap();
    let (status, text) = check(&csv_file);
    assert_eq!(status, 1, "{text}");
    let name = csv_file.display().to_string();
    for (line, entry, code) in [(3, 2, "two\nlines"), (5, 3, "Ecs."), (6, 4, "a,b")] {
        let want = format!(
            "{name}:line {line}, entry {entry}, field \"code\": {code:?} is not an error code"
        );
        assert!(text.contains(&want), "{want:?} not in\n{text}");
    }
    assert!(text.contains("2 valid entries, 3 problem(s)"), "{text}");

    // A user catalog with a bad code is refused by every command (exit 2:
    // an error, not a finding).
    let out = faultline()
        .args(["explain", "Ecs.0013", "--catalog"])
        .arg(&csv_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("entry 3, field \"code\""));
}

#[test]
fn csv_syntax_and_header_problems_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "code,message\nA.1,\"open\n",
            "line 2: invalid CSV: a quoted field is never closed",
        ),
        (
            "code,colour\nA.1,red\n",
            "line 1, field \"colour\": unknown column",
        ),
        (
            "message\nhello\n",
            "line 1, field \"code\": the header row has no code column",
        ),
        (
            "code,status\nA.1,99\n",
            "line 2, entry 1 (A.1), field \"status\": \"99\" is not an HTTP status",
        ),
        (
            "code,message\nA.1,x,y\n",
            "line 2, entry 1: 3 field(s) but the header has 2 columns",
        ),
    ] {
        let file = dir.path().join("c.csv");
        std::fs::write(&file, text).unwrap();
        let (status, out) = check(&file);
        assert_eq!(status, 1, "{out}");
        assert!(
            out.contains(&format!("{}:{want}", file.display())),
            "{want:?} not in\n{out}"
        );
    }
}

#[test]
fn csv_export_reads_back_as_the_same_entries() {
    let dir = tempfile::tempdir().unwrap();
    // New codes of every shape, and an override of a built-in code, with
    // texts that need CSV quoting.
    let user = dir.path().join("user.json");
    let mut items: Vec<Value> = SHAPES[1..]
        .iter()
        .map(|(c, _)| {
            json!({
                "code": c,
                "status": 503,
                "message": format!("{c}: \"quoted\", with a comma"),
                "description": {"en": "line one\nline two", "zh": "描述，含逗号"},
                "remedy": {"en": "Retry."},
            })
        })
        .collect();
    items.push(json!({"code": "Ecs.0013", "status": null, "remedy": {"zh": "请重试。"}}));
    std::fs::write(&user, serde_json::to_vec(&items).unwrap()).unwrap();
    let from_json = export_with(&user);

    let out = faultline()
        .args(["catalog", "export", "--format", "csv", "--catalog"])
        .arg(&user)
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, &out.stdout).unwrap();
    let from_csv = export_with(&csv);

    assert_eq!(from_csv.len(), from_json.len());
    for (code, entry) in &from_json {
        assert_eq!(from_csv.get(code), Some(entry), "{code}");
    }
    assert_eq!(from_csv["Ecs.0013"]["status"], Value::Null);
    assert_eq!(
        from_csv["DBS.200001"]["description"]["en"],
        "line one\nline two"
    );
}
