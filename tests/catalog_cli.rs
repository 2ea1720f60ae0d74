//! The catalog commands (`explain`, `catalog build|check|export|list|show`,
//! `--catalog`) run as the real binary.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::*;

fn stdout_of(args: &[&str]) -> String {
    let out = faultline().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn checked_in_catalog_is_what_the_sources_build_to() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("catalog.json");
    faultline()
        .args(["catalog", "build", "--sources", "catalog/sources", "-o"])
        .arg(&fresh)
        .assert()
        .success();
    let fresh = std::fs::read_to_string(fresh).unwrap();
    let checked_in = std::fs::read_to_string(root().join("catalog/catalog.json")).unwrap();
    assert!(
        fresh == checked_in,
        "catalog/catalog.json is stale: run `cargo run --release -- catalog build` and commit it"
    );
}

#[test]
fn export_has_every_code_in_the_spec_shape() {
    let entries: Vec<Value> =
        serde_json::from_str(&stdout_of(&["catalog", "export", "--format", "json"])).unwrap();
    assert_eq!(entries.len(), 589);
    let mut by_prefix: BTreeMap<&str, usize> = BTreeMap::new();
    let mut previous = "";
    let categories = [
        "quota",
        "access",
        "retry",
        "resource_state",
        "fix_request",
        "unsupported",
        "contact_support",
    ];
    for e in &entries {
        let code = e["code"].as_str().unwrap();
        assert!(code > previous, "sorted by code: {previous} then {code}");
        previous = code;
        *by_prefix
            .entry(code.split('.').next().unwrap())
            .or_default() += 1;
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut expected = vec![
            "category",
            "code",
            "description",
            "message",
            "remedy",
            "service",
            "sources",
            "status",
        ];
        expected.sort();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort();
        assert_eq!(keys_sorted, expected, "{code}");
        assert!(["IMS", "ECS", "CBR", "CSBS"].contains(&e["service"].as_str().unwrap()));
        assert!(!e["message"].as_str().unwrap().is_empty(), "{code} message");
        assert!(
            categories.contains(&e["category"].as_str().unwrap()),
            "{code}"
        );
        assert!(!e["sources"].as_array().unwrap().is_empty(), "{code}");
        for field in ["description", "remedy"] {
            for (lang, text) in e[field].as_object().unwrap() {
                assert!(lang == "en" || lang == "zh", "{code} {field}.{lang}");
                let text = text.as_str().unwrap();
                assert!(!text.trim().is_empty(), "{code} {field}.{lang}");
                for markup in ["**", "\\_", "<p", "</", "&nbsp;", "&amp;", "  "] {
                    assert!(
                        !text.contains(markup),
                        "{code} {field}.{lang} has {markup:?}: {text}"
                    );
                }
                assert!(
                    !["-", "无", "无。"].contains(&text),
                    "{code} {field}.{lang} is {text:?}"
                );
            }
        }
        match e["service"].as_str().unwrap() {
            "CSBS" => assert_eq!(e["status"], Value::Null, "{code}"),
            _ => assert!(
                e["status"]
                    .as_u64()
                    .is_some_and(|s| (100..600).contains(&s)),
                "{code}"
            ),
        }
    }
    let expected: BTreeMap<&str, usize> = [
        ("BackupService", 160),
        ("CSBS", 70),
        ("Common", 13),
        ("Ecs", 141),
        ("IMG", 204),
        ("Pdp", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_prefix, expected);
}

#[test]
fn ims_entries_merge_both_documents() {
    let catalog = catalog();
    let both = catalog
        .values()
        .filter(|e| e["service"] == "IMS" && e["sources"].as_array().unwrap().len() == 2)
        .count();
    let zh_only = catalog
        .values()
        .filter(|e| e["sources"] == json!(["000_99463f059da4eb6a.txt"]))
        .count();
    let en_only = catalog
        .values()
        .filter(|e| e["sources"] == json!(["001_5f82b5cb8c9a88ab.txt"]))
        .count();
    assert_eq!((both, zh_only, en_only), (172, 27, 5));
    // Checked by hand against both documents.
    let e = &catalog["IMG.0015"];
    assert_eq!(
        e["message"],
        "The number of private images has reached the maximum allowed."
    );
    assert_eq!(e["description"]["zh"], "当前用户已经超过镜像配额。");
    assert_eq!(e["remedy"]["zh"], "请申请更多配额，或删除已有镜像。");
    assert_eq!(e["status"], 400);
    assert_eq!(e["category"], "quota");
    // CSBS: Chinese only; the message is the Chinese description.
    let c = &catalog["CSBS.0001"];
    assert_eq!(c["message"], "备份策略数量达到上限。");
    assert_eq!(c["description"], json!({"zh": "备份策略数量达到上限。"}));
    assert_eq!(c["remedy"], json!({"zh": "请删除其他备份策略后重试。"}));
    assert_eq!(c["status"], Value::Null);
}

#[test]
fn spec_category_examples() {
    let catalog = catalog();
    let examples = [
        ("quota", ["IMG.0015", "Ecs.0001", "CSBS.9006"]),
        ("access", ["Ecs.0023", "IMG.0087", "CSBS.9009"]),
        ("retry", ["IMG.0060", "Common.0024", "CSBS.1002"]),
        ("resource_state", ["IMG.0005", "IMG.0008", "Ecs.0031"]),
        ("fix_request", ["IMG.0002", "IMG.0013", "Ecs.0005"]),
        ("unsupported", ["IMG.0089", "Ecs.0037", "CSBS.6010"]),
        (
            "contact_support",
            ["IMG.0014", "Ecs.0002", "BackupService.6212"],
        ),
    ];
    for (category, codes) in examples {
        for code in codes {
            assert_eq!(catalog[code]["category"], category, "{code}");
        }
    }
}

#[test]
fn explain_prints_text_and_json_and_fails_on_unknown_codes() {
    let catalog = catalog();
    let text = stdout_of(&["explain", "Ecs.0013", "IMG.0015"]);
    for code in ["Ecs.0013", "IMG.0015"] {
        let e = &catalog[code];
        assert!(
            text.contains(&format!(
                "{code}  {} · HTTP {}",
                e["service"].as_str().unwrap(),
                e["status"]
            )),
            "{text}"
        );
        assert!(text.contains(e["message"].as_str().unwrap()), "{text}");
    }
    assert!(
        text.contains("zh: 请申请更多配额，或删除已有镜像。"),
        "{text}"
    );

    let json: Value =
        serde_json::from_str(&stdout_of(&["explain", "--format", "json", "CSBS.9006"])).unwrap();
    assert_eq!(json, json!([catalog["CSBS.9006"]]));

    let out = faultline()
        .args(["explain", "Ecs.9876", "ecs.0013", "Nope.0001", "Ecs.0013"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Ecs.9876 is not in the catalog (an unknown ECS code"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean Ecs.0013?"), "{stderr}");
    assert!(stderr.contains("no code with prefix \"Nope\""), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Ecs.0013  ECS"),
        "known codes still print"
    );
}

#[test]
fn list_show_and_csv_export() {
    let csbs = stdout_of(&["catalog", "list", "--service", "CSBS"]);
    assert_eq!(csbs.lines().count(), 70);
    assert!(csbs.lines().all(|l| l.starts_with("CSBS.")));
    let quota = stdout_of(&["catalog", "list", "--category", "quota"]);
    assert!(quota.lines().any(|l| l.starts_with("IMG.0015 ")), "{quota}");
    assert!(quota.lines().all(|l| l.contains(" quota ")));
    let out = faultline()
        .args(["catalog", "list", "--service", "NOPE"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("services: CBR, CSBS, ECS, IMS"));

    let show = stdout_of(&["catalog", "show", "BackupService.6133"]);
    assert!(show.starts_with("BackupService.6133  CBR · HTTP"), "{show}");
    assert!(
        show.lines()
            .any(|l| l.trim_start().starts_with("category ")),
        "{show}"
    );

    let csv = stdout_of(&["catalog", "export", "--format", "csv"]);
    assert!(csv.starts_with("code,service,status,category,message,"));
    // Records end with CRLF outside quotes; texts may hold quoted newlines.
    let (mut records, mut quoted) = (0, false);
    let bytes = csv.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted && i > 0 && bytes[i - 1] == b'\r' => records += 1,
            _ => {}
        }
    }
    assert_eq!(records, 590, "header and 589 entries");
}

#[test]
fn catalog_check_reports_the_spread_and_every_problem_of_a_user_catalog() {
    let out = stdout_of(&["catalog", "check"]);
    assert!(out.contains("589 valid entries, no problems"), "{out}");
    for category in [
        "quota",
        "access",
        "retry",
        "resource_state",
        "fix_request",
        "unsupported",
        "contact_support",
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(category))
            .unwrap();
        let n: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(n > 0, "{line}");
    }

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "[\n  {\"code\": \"Foo.0001\", \"status\": \"400\"},\n  {\"code\": \"foo bar\", \"category\": \"urgent\"}\n]\n",
    )
    .unwrap();
    let out = faultline()
        .args(["catalog", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let name = bad.display().to_string();
    assert!(
        text.contains(&format!(
            "{name}:line 2, entry 1 (Foo.0001), field \"status\""
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{name}:line 3, entry 2, field \"code\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{name}:line 3, entry 2, field \"category\": unknown category \"urgent\""
        )),
        "{text}"
    );

    // Using it is a fatal error that says the same.
    let out = faultline()
        .arg("--catalog")
        .arg(&bad)
        .args(["explain", "Ecs.0013"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has 3 problem(s)"));
}

#[test]
fn user_catalogs_add_and_override_codes_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("mine.json");
    std::fs::write(
        &user,
        r#"[{"code": "Foo.0001", "service": "FOO", "message": "Foo quota exceeded.", "category": "quota"},
            {"code": "Ecs.0013", "remedy": {"en": "Page the on-call."}}]"#,
    )
    .unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "a Foo.0001 b Foo.0002 c Ecs.0013\n").unwrap();
    let out = faultline()
        .arg("--catalog")
        .arg(&user)
        .args(["scan", "--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    let r = json_of(&out);
    assert_eq!(r["by_code"], json!({"Ecs.0013": 1, "Foo.0001": 1}));
    assert_eq!(r["unknown_codes"], json!({"Foo.0002": 1}));
    assert_eq!(r["by_service"]["FOO"], 1);

    let json: Value = serde_json::from_str(&stdout_of(&[
        "--catalog",
        user.to_str().unwrap(),
        "explain",
        "--format",
        "json",
        "Ecs.0013",
    ]))
    .unwrap();
    let builtin = &catalog()["Ecs.0013"];
    assert_eq!(json[0]["remedy"]["en"], "Page the on-call.");
    assert_eq!(json[0]["message"], builtin["message"]);
    assert_eq!(json[0]["category"], builtin["category"]);
    assert_eq!(json[0]["sources"][1], "mine.json");
}

#[test]
fn a_broken_source_document_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("catalog/sources")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    // Cut the CBR grid table after a row's text, before the border line
    // that closes it (line 12 is that border: cutting after it would leave
    // a complete one-row table).
    let cbr = dir.path().join("003_5eb3cf20583f06fb.txt");
    let text = std::fs::read_to_string(&cbr).unwrap();
    let cut: String = text.lines().take(11).collect::<Vec<_>>().join("\n");
    std::fs::write(&cbr, cut).unwrap();
    let out = faultline()
        .args(["catalog", "build", "-o", "-", "--sources"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("003_5eb3cf20583f06fb.txt:11:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
