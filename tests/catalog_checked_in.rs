//! The checked-in `catalog/catalog.json` (the catalog embedded in the
//! binary) against expectations that do not come from faultline: the counts
//! SPEC section 1 gives, the codes found in each vendor document by a plain
//! scan of its bytes written here, and entries checked by hand against the
//! documents (file and line named at each). `catalog_cli`'s freshness test
//! only says the file is what the parser builds; this says the file is right.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checked_in() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(root().join("catalog/catalog.json")).unwrap();
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    let n = entries.len();
    let map: BTreeMap<String, Value> = entries
        .into_iter()
        .map(|e| (e["code"].as_str().unwrap().to_string(), e))
        .collect();
    assert_eq!(map.len(), n, "each code once");
    map
}

const PREFIXES: [&str; 6] = ["IMG", "Ecs", "Common", "Pdp", "BackupService", "CSBS"];

/// Distinct `PREFIX.DDDD` tokens (not inside a longer word or number) in a
/// document's raw bytes: a reference independent of the parser, which
/// reads tables; it holds because the documents name codes only in their
/// tables.
fn codes_in(document: &Path) -> BTreeSet<String> {
    let text = std::fs::read(document).unwrap();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = BTreeSet::new();
    for prefix in PREFIXES {
        let p = prefix.as_bytes();
        for i in 0..text.len() {
            let rest = &text[i..];
            if !rest.starts_with(p) || rest.len() < p.len() + 5 {
                continue;
            }
            let tail = &rest[p.len()..p.len() + 5];
            let digits = tail[0] == b'.' && tail[1..].iter().all(u8::is_ascii_digit);
            let left = i == 0 || !word(text[i - 1]);
            let right = rest.get(p.len() + 5).is_none_or(|&b| !word(b));
            if digits && left && right {
                found.insert(String::from_utf8(rest[..p.len() + 5].to_vec()).unwrap());
            }
        }
    }
    found
}

#[test]
fn counts_per_service_are_the_spec_counts() {
    let catalog = checked_in();
    assert_eq!(catalog.len(), 589);
    let mut by_prefix: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for (code, e) in &catalog {
        *by_prefix
            .entry(code.split('.').next().unwrap())
            .or_default() += 1;
        *by_service
            .entry(e["service"].as_str().unwrap())
            .or_default() += 1;
    }
    // SPEC section 1: IMG 204, Ecs 141, Common 13, Pdp 1, BackupService
    // 160, CSBS 70; services IMS (IMG), ECS (Ecs, Common, Pdp), CBR, CSBS.
    let spec: BTreeMap<&str, usize> = [
        ("IMG", 204),
        ("Ecs", 141),
        ("Common", 13),
        ("Pdp", 1),
        ("BackupService", 160),
        ("CSBS", 70),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_prefix, spec);
    let services: BTreeMap<&str, usize> = [
        ("IMS", 204),
        ("ECS", 141 + 13 + 1),
        ("CBR", 160),
        ("CSBS", 70),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_service, services);
}

#[test]
fn each_document_contributes_exactly_the_codes_it_names() {
    let catalog = checked_in();
    // (document, format): SPEC section 1's table.
    let documents = [
        ("000_99463f059da4eb6a.txt", "markdown"),
        ("001_5f82b5cb8c9a88ab.txt", "rst"),
        ("002_88a0fa6ea5009032.txt", "rst"),
        ("003_5eb3cf20583f06fb.txt", "rst"),
        ("004_75f0c48911c30ff2.txt", "html"),
    ];
    let mut per_format: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (file, format) in documents {
        let named = codes_in(&root().join("catalog/sources").join(file));
        let listed: BTreeSet<String> = catalog
            .iter()
            .filter(|(_, e)| {
                e["sources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s.as_str() == Some(file))
            })
            .map(|(code, _)| code.clone())
            .collect();
        assert_eq!(listed, named, "{file}");
        per_format.entry(format).or_default().extend(named);
    }
    let counts: BTreeMap<&str, usize> = per_format.iter().map(|(f, c)| (*f, c.len())).collect();
    // The IMS Markdown document has 199 codes; the reST ones 177 (IMS),
    // 155 (ECS) and 160 (CBR), all distinct across services; HTML 70 (CSBS).
    let expected: BTreeMap<&str, usize> =
        [("html", 70), ("markdown", 199), ("rst", 177 + 155 + 160)]
            .into_iter()
            .collect();
    assert_eq!(counts, expected);
    // SPEC: the two IMS documents share 172 codes, 27 only in the Chinese
    // (Markdown) one, 5 only in the English one.
    let md = &per_format["markdown"];
    let ims_rst = codes_in(&root().join("catalog/sources/001_5f82b5cb8c9a88ab.txt"));
    assert_eq!(md.intersection(&ims_rst).count(), 172);
    assert_eq!(md.difference(&ims_rst).count(), 27);
    assert_eq!(ims_rst.difference(md).count(), 5);
}

#[test]
fn hand_checked_entries() {
    let c = checked_in();
    let entry = |code: &str| -> Value {
        let mut e = c[code].clone();
        e.as_object_mut().unwrap().remove("category");
        e
    };
    // 002_88a0fa6ea5009032.txt line 309: the one Pdp code.
    assert_eq!(
        entry("Pdp.0001"),
        serde_json::json!({
            "code": "Pdp.0001", "service": "ECS", "status": 403,
            "message": "Policy does not allow %s to be performed.",
            "description": {"en": "API authentication failed."},
            "remedy": {"en": "Add permissions on IAM. For details, see API permissions."},
            "sources": ["002_88a0fa6ea5009032.txt"]
        })
    );
    // Same document, line 311; SPEC section 1 lists it under retry.
    assert_eq!(
        entry("Common.0024"),
        serde_json::json!({
            "code": "Common.0024", "service": "ECS", "status": 202,
            "message": "exceeds flow over limit",
            "description": {"en": "Limited by traffic control."},
            "remedy": {"en": "The number of concurrent requests has exceeded the upper limit. Try again later."},
            "sources": ["002_88a0fa6ea5009032.txt"]
        })
    );
    assert_eq!(c["Common.0024"]["category"], "retry");
    // 004_75f0c48911c30ff2.txt lines 413-416: an HTML row with 描述/建议
    // paragraphs and no status; the description is the message. SPEC
    // section 1 lists it under quota.
    assert_eq!(
        entry("CSBS.9006"),
        serde_json::json!({
            "code": "CSBS.9006", "service": "CSBS", "status": null,
            "message": "配额不足。",
            "description": {"zh": "配额不足。"},
            "remedy": {"zh": "请联系管理员更改配额或删除不再使用的备份。"},
            "sources": ["004_75f0c48911c30ff2.txt"]
        })
    );
    assert_eq!(c["CSBS.9006"]["category"], "quota");
    // SPEC section 1's entry example, in both IMS documents.
    let e = &c["IMG.0015"];
    assert_eq!(e["status"], 400);
    assert_eq!(
        e["message"],
        "The number of private images has reached the maximum allowed."
    );
    assert_eq!(e["description"]["zh"], "当前用户已经超过镜像配额。");
    assert_eq!(e["remedy"]["zh"], "请申请更多配额，或删除已有镜像。");
    assert_eq!(e["category"], "quota");
    assert_eq!(
        e["sources"],
        serde_json::json!(["000_99463f059da4eb6a.txt", "001_5f82b5cb8c9a88ab.txt"])
    );
}
