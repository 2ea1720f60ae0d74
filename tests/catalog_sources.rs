//! The vendor-document parser and the catalog build, through the library:
//! `faultline::catalog::source::parse_document` on the hand-written documents
//! in `fixtures/catalog/` (each format's tricky cells, and every kind of bad
//! input), `build_from_dir` on `fixtures/catalog/build/` (the merge rules),
//! and both on the real documents in `catalog/sources/`.
//!
//! Every expected text here was written from reading the document it comes
//! from, not from the program's output.

use faultline::catalog::build::{BuildError, build_from_dir};
use faultline::catalog::source::{Lang, SourceError, SourceRow, parse_document};
use faultline::catalog::{Category, Entry, Texts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/catalog").join(name)
}

/// Parses a fixture the way the build does: by file name and bytes.
fn parse(name: &str) -> Result<Vec<SourceRow>, SourceError> {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap();
    let file = path.file_name().unwrap().to_str().unwrap();
    parse_document(file, &bytes)
}

fn rows(name: &str) -> BTreeMap<String, SourceRow> {
    let rows = parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let n = rows.len();
    let map: BTreeMap<String, SourceRow> = rows.into_iter().map(|r| (r.code.clone(), r)).collect();
    assert_eq!(map.len(), n, "{name}: codes are unique");
    map
}

/// Checks one row: (status, message, description, remedy).
fn check(
    row: &SourceRow,
    status: Option<u16>,
    message: Option<&str>,
    description: Option<&str>,
    remedy: Option<&str>,
) {
    let got = (
        row.status,
        row.message.as_deref(),
        row.description.as_deref(),
        row.remedy.as_deref(),
    );
    assert_eq!(
        got,
        (status, message, description, remedy),
        "{} at line {}",
        row.code,
        row.line
    );
}

#[test]
fn markdown_table_with_chinese_headers_en_messages_and_zh_texts() {
    let rows = rows("markdown-zh.md");
    // The table in the code block and the parameter table are not read.
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        [
            "DEMO.0001",
            "DEMO.0002",
            "DEMO.0003",
            "DEMO.0004",
            "DEMO.0005",
            "DEMO.0006",
            "DEMO.0007"
        ]
    );
    for row in rows.values() {
        assert_eq!(row.lang, Lang::Zh, "{}", row.code);
        assert_eq!(row.file, "markdown-zh.md");
    }
    assert_eq!(rows["DEMO.0001"].line, 21);
    check(
        &rows["DEMO.0001"],
        Some(400),
        Some("forceCreate must be set to true."),
        Some("当前用户已经超过镜像共享配额。"),
        Some("请设置forceCreate的值为true。"),
    );
    check(
        &rows["DEMO.0002"],
        Some(404),
        Some("The value of hw_firmware_type is invalid."),
        Some("参数hw_firmware_type不合法。"),
        Some("取值为：BMS、ECS。"),
    );
    // An empty status cell in a Markdown table is the status above spanning
    // this row (issue 9: tables flattened from HTML with rowspan); an
    // escaped pipe; entities; <br> list items.
    check(
        &rows["DEMO.0003"],
        Some(404),
        Some("Names may not contain a | pipe."),
        Some("名称包含非法字符 <、>。"),
        Some("请确保名称符合以下要求： - 长度为1~128位; - 不以空格开头"),
    );
    // `-`, `无` and `无。` remedies are absent.
    for code in ["DEMO.0004", "DEMO.0005", "DEMO.0006"] {
        assert_eq!(rows[code].remedy, None, "{code}");
        assert!(rows[code].description.is_some(), "{code}");
    }
    check(
        &rows["DEMO.0007"],
        Some(400),
        Some("See the guide or a*b*c."),
        Some("请参见指南。"),
        Some("请联系技术支持。"),
    );
}

#[test]
fn rst_grid_table_with_multi_line_cells_lists_and_a_row_span() {
    let rows = rows("grid-en.rst");
    assert_eq!(rows.len(), 4);
    let r = &rows["DEMO.0101"];
    assert_eq!((r.line, r.lang), (15, Lang::En));
    check(
        r,
        Some(400),
        Some("The name is invalid."),
        Some("The image name contains more than 128 characters."),
        Some(
            "Ensure that the name meets the following requirements: - Letters and digits only. - 1 to 128 characters; - Hyphens (-) and underscores (_)",
        ),
    );
    // Two paragraphs in one cell.
    check(
        &rows["DEMO.0102"],
        Some(500),
        Some("The thread list is empty."),
        Some("An internal error."),
        Some("An internal system error occurred. Contact technical support."),
    );
    // A backslash escape inside bold; ``-`` is an absent remedy.
    check(
        &rows["DEMO.0103"],
        Some(403),
        Some("Check __system__id."),
        Some("Policy does not allow %s."),
        None,
    );
    // The status cell spans DEMO.0103 and DEMO.0104; a Chinese description
    // wrapped over two lines joins without a space and makes the row Chinese.
    let r = &rows["DEMO.0104"];
    assert_eq!((r.line, r.lang), (30, Lang::Zh));
    check(
        r,
        Some(403),
        Some("Not authorized."),
        Some("云服务器的系统盘不支持创建镜像。"),
        Some("请联系技术支持。"),
    );
}

#[test]
fn rst_grid_table_with_chinese_headers_aligned_by_display_width() {
    let rows = rows("grid-zh.rst");
    check(
        &rows["ZH.0001"],
        Some(400),
        None,
        Some("当前用户已经超过镜像配额。"),
        Some("请申请更多配额，或删除已有镜像。"),
    );
    check(
        &rows["ZH.0002"],
        None,
        None,
        Some("镜像名称格式非法。"),
        None,
    );
    assert!(rows.values().all(|r| r.lang == Lang::Zh));
}

#[test]
fn html_table_whose_cells_label_description_and_remedy() {
    let rows = rows("html-zh.html");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows["HZ.0001"].line, 14);
    check(
        &rows["HZ.0001"],
        None,
        None,
        Some("备份策略数量达到上限。"),
        Some("请删除其他备份策略后重试。"),
    );
    check(
        &rows["HZ.0002"],
        None,
        None,
        Some("名称不能包含<、>和& 等字符，长度不超过128。"),
        None,
    );
    // `建议：无` without the full stop is absent too.
    check(&rows["HZ.0003"], None, None, Some("云服务器不存在。"), None);
    // Both labels in one paragraph.
    check(
        &rows["HZ.0004"],
        None,
        None,
        Some("配额不足。"),
        Some("请联系管理员更改配额。"),
    );
    // A list after the remedy label belongs to the remedy.
    check(
        &rows["HZ.0005"],
        None,
        None,
        Some("参数校验失败。"),
        Some("请检查以下参数： - 名称; - 类型"),
    );
    assert!(rows.values().all(|r| r.lang == Lang::Zh));
}

#[test]
fn html_table_with_english_headers_entities_and_a_row_span() {
    let rows = rows("html-en.html");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows["HE.0001"].line, 10);
    check(
        &rows["HE.0001"],
        Some(400),
        Some("The value of name is \"invalid\"."),
        Some("The name contains “<p>”."),
        Some("Check the name: it must not contain tags."),
    );
    check(
        &rows["HE.0002"],
        Some(400),
        Some("Too many requests."),
        Some("Flow control & throttling."),
        Some("1. Wait a minute. 2. Try again"),
    );
    check(
        &rows["HE.0003"],
        None,
        Some("Unknown error."),
        Some("An internal error occurred."),
        None,
    );
    assert!(rows.values().all(|r| r.lang == Lang::En));
}

/// The error of a bad fixture: its file, line and problem.
fn error(name: &str) -> SourceError {
    match parse(name) {
        Ok(rows) => panic!("{name} parsed into {} rows", rows.len()),
        Err(e) => e,
    }
}

#[test]
fn bad_documents_are_errors_naming_file_line_and_problem() {
    let cases: &[(&str, usize, &[&str])] = &[
        ("truncated.md", 6, &["does not end with '|'", "cut off"]),
        (
            "truncated.rst",
            10,
            &[
                "grid table that starts at line 4",
                "without a closing border",
                "truncated",
            ],
        ),
        (
            "truncated.html",
            5,
            &[
                "HTML table that starts at line 1",
                "</table> is missing",
                "truncated",
            ],
        ),
        (
            "missing-cell.md",
            4,
            &["has 4 cells but the header has 5", "a cell is missing"],
        ),
        (
            "missing-cell.rst",
            6,
            &["it has 2 of the table's 3 cells", "a cell is missing"],
        ),
        (
            "missing-cell.html",
            4,
            &[
                "has 1 cell(s) but the header has 2 columns",
                "a cell is missing",
            ],
        ),
        (
            "duplicate.rst",
            8,
            &["BAD.0001 is listed again (first at line 4)"],
        ),
        (
            "not-utf8.md",
            3,
            &[
                "not valid UTF-8",
                "byte 0xE9 at column 22",
                "convert it to UTF-8",
            ],
        ),
        ("empty.md", 1, &["the document is empty"]),
        ("no-table.md", 1, &["no table found"]),
        (
            "no-code-column.md",
            3,
            &[
                "reads as the error code",
                r#"columns: "Parameter", "Type", "Description""#,
                "\"Error Code\" or \"错误码\"",
            ],
        ),
    ];
    for (name, line, words) in cases {
        let e = error(&format!("bad/{name}"));
        assert_eq!(e.path, Path::new(name), "{e}");
        assert_eq!(e.line, *line, "{e}");
        for w in *words {
            assert!(e.problem.contains(w), "{name}: {w:?} not in {e}");
        }
        assert!(
            e.to_string().starts_with(&format!("{name}:{line}: ")),
            "{e}"
        );
    }
}

#[test]
fn header_and_cell_problems() {
    let cases = [
        (
            "|Error Code|Description|Details|\n|--|--|--|\n|A.0001|x|y|\n",
            1,
            r#"columns 2 ("Description") and 3 ("Details") both read as the description column"#,
        ),
        (
            "|Error Code|Message|\n|--|--|\n|A.0001|x|\n|A 0002|y|\n",
            4,
            r#""A 0002" in the "Error Code" column is not an error code: it has ' ' at byte 1"#,
        ),
        (
            "|Error Code|Message|\n|--|--|\n||x|\n",
            3,
            r#"this row has no error code in its "Error Code" column"#,
        ),
        (
            "|状态码|错误码|\n|--|--|\n|Bad Request|A.0001|\n",
            3,
            r#"A.0001: "Bad Request" in the "状态码" column is not an HTTP status"#,
        ),
        (
            "|Error Code|Message|\n|--|--|--|\n",
            2,
            "the delimiter row under this table's header has 3 cells but the header has 2",
        ),
        (
            "|Error Code|Message|\n|--|--|\n\nText.\n",
            1,
            "this Markdown table has a header but no rows",
        ),
    ];
    for (doc, line, problem) in cases {
        let e = parse_document("doc.md", doc.as_bytes()).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.problem.contains(problem), "{e}");
    }
}

/// What a parse of (possibly damaged) `bytes` may say, whatever the
/// damage: rows of this file at lines the bytes have, whose code is written
/// from that line on (its characters in order: markup such as a backslash
/// escape may sit between them); or an error naming this file, a line of
/// it (or the end), and a problem.
fn check_parse(name: &str, bytes: &[u8]) {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let line_start = |line: usize| starts.get(line - 1).copied().unwrap_or(bytes.len());
    match parse_document(name, bytes) {
        Ok(rows) => {
            for r in rows {
                assert!((1..=lines).contains(&r.line), "{name}: row line {}", r.line);
                // A row's cells lie within a few lines of its first.
                let from = line_start(r.line);
                let mut rest = bytes[from..(from + 4096).min(bytes.len())].iter();
                assert!(
                    !r.code.is_empty() && r.code.bytes().all(|c| rest.any(|&b| b == c)),
                    "{name}: row code {:?} is not written from line {}",
                    r.code,
                    r.line
                );
                assert!((1..=lines).contains(&r.line), "{name}: row line {}", r.line);
                assert_eq!(r.file, name);
            }
        }
        Err(e) => {
            assert_eq!(e.path, Path::new(name));
            assert!(
                e.line <= lines + 1,
                "{name}: error line {} of {lines}",
                e.line
            );
            assert!(!e.problem.is_empty(), "{name}: an error says what is wrong");
        }
    }
}

#[test]
fn damaged_documents_never_panic() {
    // Every fixture cut at every byte, and with every byte in turn replaced
    // by a character that means something to one of the formats: each is
    // either rows or an error, and either tells the truth about the input.
    let marks: [&[u8]; 12] = [
        b"|",
        b"+",
        b"-",
        b"=",
        b"<",
        b">",
        b"\n",
        b"`",
        b"\\",
        b"&",
        b"\xFF",
        "宽".as_bytes(),
    ];
    for name in [
        "markdown-zh.md",
        "grid-en.rst",
        "grid-zh.rst",
        "html-zh.html",
        "html-en.html",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        // Undamaged, the fixture is rows.
        assert!(!parse_document(name, &bytes).unwrap().is_empty(), "{name}");
        for cut in 0..bytes.len() {
            check_parse(name, &bytes[..cut]);
            for mark in marks {
                let mut damaged = bytes[..cut].to_vec();
                damaged.extend_from_slice(mark);
                damaged.extend_from_slice(&bytes[cut + 1..]);
                check_parse(name, &damaged);
            }
        }
    }
}

fn stand_in(_: &str, message: &str, _: &Texts, _: &Texts) -> Category {
    if message.contains("quota") {
        Category::Quota
    } else {
        Category::ContactSupport
    }
}

fn texts(en: Option<&str>, zh: Option<&str>) -> Texts {
    Texts {
        en: en.map(str::to_string),
        zh: zh.map(str::to_string),
    }
}

#[test]
fn build_merges_documents_by_the_spec_rules() {
    let entries = build_from_dir(&fixture("build"), &stand_in).unwrap();
    let codes: Vec<&str> = entries.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["DEMO.0001", "DEMO.0002", "DEMO.0003", "OTHER.0001"]);
    let by: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.code.as_str(), e)).collect();
    // In both documents: the English message and status win over the
    // Chinese document's; each language keeps its texts; `-` is absent.
    assert_eq!(
        *by["DEMO.0001"],
        Entry {
            code: "DEMO.0001".into(),
            service: "Demo".into(),
            status: Some(400),
            message: "The quota is used up.".into(),
            description: texts(
                Some("The quota is reached."),
                Some("当前用户已经超过配额。")
            ),
            remedy: texts(Some("Increase the quota."), None),
            category: Category::Quota,
            sources: vec!["en.rst".into(), "zh.md".into()],
        }
    );
    let e = by["DEMO.0002"];
    assert_eq!(
        (e.status, e.remedy.clone(), e.sources.clone()),
        (Some(500), Texts::default(), vec!["en.rst".to_string()])
    );
    // Only in the Chinese document: its English message column still gives
    // the message.
    let e = by["DEMO.0003"];
    assert_eq!(e.message, "The image does not exist.");
    assert_eq!(e.status, Some(404));
    assert_eq!(e.description, texts(None, Some("镜像不存在。")));
    assert_eq!(e.sources, ["zh.md"]);
    // No message column: the Chinese description is the message; no status.
    let e = by["OTHER.0001"];
    assert_eq!(e.service, "Other");
    assert_eq!(e.status, None);
    assert_eq!(e.message, "配额不足。");
    assert_eq!(e.description, texts(None, Some("配额不足。")));
    assert_eq!(e.remedy, texts(None, Some("请删除不再使用的备份。")));
    assert_eq!(e.category, Category::ContactSupport);
}

/// A copy of `fixtures/catalog/build` in a temporary directory, to break.
fn build_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("build")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn build_error(dir: &Path) -> (PathBuf, usize, String) {
    match build_from_dir(dir, &stand_in) {
        Ok(entries) => panic!("built {} entries", entries.len()),
        Err(BuildError::At {
            path,
            line,
            problem,
        }) => (path, line, problem),
        Err(BuildError::Document(e)) => (e.path, e.line, e.problem),
        Err(e @ BuildError::Io { .. }) => (PathBuf::new(), 0, e.to_string()),
    }
}

#[test]
fn build_errors_name_the_file_and_line() {
    // A document the manifest does not list.
    let dir = build_copy();
    std::fs::write(dir.path().join("new.md"), "|错误码|\n|--|\n|NEW.0001|\n").unwrap();
    let (path, line, problem) = build_error(dir.path());
    assert_eq!((path, line), (dir.path().join("new.md"), 1));
    assert!(problem.contains("not listed in"), "{problem}");
    assert!(
        problem.contains(r#"{"file": "new.md", "service": "..."}"#),
        "{problem}"
    );

    // A listed document that is not there.
    let dir = build_copy();
    std::fs::remove_file(dir.path().join("zh.md")).unwrap();
    let (path, line, problem) = build_error(dir.path());
    assert_eq!((path, line), (dir.path().join("documents.json"), 3));
    assert!(
        problem.contains("lists zh.md, which is not in"),
        "{problem}"
    );

    // A manifest that is not the expected JSON.
    let dir = build_copy();
    std::fs::write(
        dir.path().join("documents.json"),
        "[\n  {\"file\": \"en.rst\", \"service\": \"Demo\"},\n  {\"file\": \"zh.md\"}\n]\n",
    )
    .unwrap();
    let (path, line, problem) = build_error(dir.path());
    assert_eq!((path, line), (dir.path().join("documents.json"), 3));
    assert!(problem.contains("zh.md has no service"), "{problem}");

    // No manifest at all: every file is a document, services come from the
    // codes' family prefixes.
    let dir = build_copy();
    std::fs::remove_file(dir.path().join("documents.json")).unwrap();
    let entries = build_from_dir(dir.path(), &stand_in).unwrap();
    assert!(!entries.is_empty());
    for e in &entries {
        assert_eq!(e.service, e.code.split('.').next().unwrap(), "{}", e.code);
    }

    // A broken document: the error names it inside the directory.
    let dir = build_copy();
    let zh = dir.path().join("zh.md");
    let text = std::fs::read_to_string(&zh).unwrap();
    let cut = text.trim_end();
    let cut = &cut[..cut.rfind("DEMO.0003").unwrap() + 9];
    std::fs::write(&zh, cut).unwrap();
    let (path, line, problem) = build_error(dir.path());
    assert_eq!((path, line), (zh, 6));
    assert!(problem.contains("cut off"), "{problem}");

    // One code given for two services.
    let dir = build_copy();
    std::fs::write(
        dir.path().join("labelled.html"),
        "<table>\n<tr><th>错误码</th><th>说明</th></tr>\n<tr><td>DEMO.0002</td><td>描述：重复。</td></tr>\n</table>\n",
    )
    .unwrap();
    let (path, line, problem) = build_error(dir.path());
    assert_eq!((path, line), (dir.path().join("labelled.html"), 3));
    assert!(
        problem.contains("DEMO.0002 is given here for service Other")
            && problem.contains("en.rst:9 gives it for Demo"),
        "{problem}"
    );
}

// ---- The real vendor documents ----

fn sources() -> PathBuf {
    root().join("catalog/sources")
}

#[test]
fn real_documents_parse_into_rows_of_the_right_language() {
    let expect = [
        ("000_99463f059da4eb6a.txt", 199, Lang::Zh),
        ("001_5f82b5cb8c9a88ab.txt", 177, Lang::En),
        ("002_88a0fa6ea5009032.txt", 155, Lang::En),
        ("003_5eb3cf20583f06fb.txt", 160, Lang::En),
        ("004_75f0c48911c30ff2.txt", 70, Lang::Zh),
    ];
    for (file, count, lang) in expect {
        let bytes = std::fs::read(sources().join(file)).unwrap();
        let rows = parse_document(file, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), count, "{file}");
        assert!(rows.iter().all(|r| r.lang == lang), "{file}");
        assert!(rows.iter().all(|r| r.file == file), "{file}");
    }
}

fn real_catalog() -> BTreeMap<String, Entry> {
    build_from_dir(&sources(), &|_, _, _, _| Category::ContactSupport)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|e| (e.code.clone(), e))
        .collect()
}

#[test]
fn real_documents_build_every_code_once() {
    let catalog = real_catalog();
    assert_eq!(catalog.len(), 589);
    let mut by_prefix: BTreeMap<&str, usize> = BTreeMap::new();
    for code in catalog.keys() {
        *by_prefix
            .entry(code.split('.').next().unwrap())
            .or_default() += 1;
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
    let ims_000 = "000_99463f059da4eb6a.txt";
    let ims_001 = "001_5f82b5cb8c9a88ab.txt";
    let count = |sources: &[&str]| catalog.values().filter(|e| e.sources == sources).count();
    assert_eq!(count(&[ims_000, ims_001]), 172);
    assert_eq!(count(&[ims_000]), 27);
    assert_eq!(count(&[ims_001]), 5);
    for e in catalog.values() {
        let service = match e.prefix() {
            "IMG" => "IMS",
            "Ecs" | "Common" | "Pdp" => "ECS",
            "BackupService" => "CBR",
            "CSBS" => "CSBS",
            other => panic!("{other}"),
        };
        assert_eq!(e.service, service, "{}", e.code);
        assert_eq!(e.status.is_none(), service == "CSBS", "{}", e.code);
        for t in [&e.description, &e.remedy] {
            for text in [&t.en, &t.zh].into_iter().flatten() {
                for bad in [
                    "**",
                    "\\",
                    "``",
                    "<p",
                    "</",
                    "&nbsp;",
                    "&lt;",
                    "  ",
                    "描述：",
                    "建议：",
                ] {
                    assert!(!text.contains(bad), "{} has {bad:?}: {text}", e.code);
                }
                assert!(
                    !["-", "无", "无。", ""].contains(&text.as_str()),
                    "{}",
                    e.code
                );
                assert_eq!(text.trim(), text, "{}", e.code);
            }
        }
    }
}

#[test]
fn real_documents_spot_checks() {
    let c = real_catalog();
    // IMG.0015, in both IMS documents (000 line 44, 001 line 65).
    let e = &c["IMG.0015"];
    assert_eq!(e.status, Some(400));
    assert_eq!(
        e.message,
        "The number of private images has reached the maximum allowed."
    );
    assert_eq!(
        e.description,
        texts(
            Some("The number of private images has reached the quota."),
            Some("当前用户已经超过镜像配额。")
        )
    );
    assert_eq!(
        e.remedy,
        texts(
            Some("Increase the quota or delete existing images."),
            Some("请申请更多配额，或删除已有镜像。")
        )
    );
    // The documents disagree on the message: the English one (001) wins.
    assert_eq!(
        c["IMG.0039"].message,
        "An error occurred when read and write permissions of the bucket were granted to a specified user."
    );
    assert_eq!(c["IMG.0056"].message, "Invalid OS version.");
    // Bold markup, including bold around a lone full stop in 000.
    assert_eq!(c["IMG.0011"].message, "forceCreate must be set to true.");
    assert_eq!(
        c["IMG.0011"].remedy,
        texts(
            Some("Set forceCreate to true."),
            Some("请设置forceCreate的值为true。")
        )
    );
    assert_eq!(
        c["IMG.0088"].description.zh.as_deref(),
        Some("当前用户已经超过镜像共享配额。")
    );
    // `-` in 000 and ``-`` in 001: no remedy in either language.
    assert_eq!(c["IMG.0083"].remedy, Texts::default());
    // `<、>` in a Markdown cell is text, not a tag.
    assert_eq!(
        c["IMG.0054"].remedy.zh.as_deref(),
        Some(
            "请检查当前的镜像描述。镜像描述支持字母、数字、中文等，不支持回车、<、>，且长度不能超过1024个字符。"
        )
    );
    // The bullet list in 001's IMG.0075 remedy cell.
    assert_eq!(
        c["IMG.0075"].remedy.en.as_deref(),
        Some(
            "Ensure that the image file name meets the following requirements: - The name cannot start or end with space. - The name contains 1 to 128 characters. - The name contains the following four types of characters: - Uppercase letters; - Lowercase letters; - Digits; - Special characters, including hyphens (-), periods (.), underscores (_), and space"
        )
    );
    // Only in the Chinese document (000): its message column is English.
    let e = &c["IMG.0042"];
    assert_eq!(e.message, "The image is not a Marketplace image.");
    assert_eq!(e.description, texts(None, Some("当前镜像不能下架。")));
    // Only in the English document (001).
    let e = &c["IMG.0239"];
    assert_eq!(e.message, "Insufficient balance.");
    assert_eq!(
        e.remedy,
        texts(
            Some("Check the balance and top up the account if needed."),
            None
        )
    );
    // ECS: an escaped underscore inside bold; a two-paragraph cell.
    assert_eq!(
        c["Ecs.0017"].remedy.en.as_deref(),
        Some(
            "Check whether the __system__server_id value in disk metadata is the same as the UUID of the ECS to which the system disk or data disk is to be attached."
        )
    );
    assert_eq!(
        c["Ecs.0615"].remedy.en.as_deref(),
        Some("An internal system error occurred. Contact technical support to locate the fault.")
    );
    let e = &c["Common.0024"];
    assert_eq!(
        (e.status, e.message.as_str(), e.description.en.as_deref()),
        (
            Some(202),
            "exceeds flow over limit",
            Some("Limited by traffic control.")
        )
    );
    assert_eq!(
        e.remedy.en.as_deref(),
        Some("The number of concurrent requests has exceeded the upper limit. Try again later.")
    );
    assert_eq!(c["Common.0013"].status, Some(401));
    assert_eq!(
        c["Pdp.0001"].message,
        "Policy does not allow %s to be performed."
    );
    // CBR.
    let e = &c["BackupService.6139"];
    assert_eq!(
        (e.status, e.message.as_str()),
        (Some(500), "Failed to obtain xdomain_type.")
    );
    assert_eq!(e.service, "CBR");
    // CSBS: no status, no message column; the labelled cell is split.
    let e = &c["CSBS.0001"];
    assert_eq!(e.status, None);
    assert_eq!(e.message, "备份策略数量达到上限。");
    assert_eq!(e.description, texts(None, Some("备份策略数量达到上限。")));
    assert_eq!(e.remedy, texts(None, Some("请删除其他备份策略后重试。")));
    assert_eq!(c["CSBS.2004"].remedy, Texts::default()); // 建议：无。
    assert_eq!(c["CSBS.6032"].remedy, Texts::default()); // 建议：无
    assert_eq!(
        c["CSBS.9999"].remedy.zh.as_deref(),
        Some("请等待一段时间后重试或联系技术支持。")
    );
    assert_eq!(c["CSBS.9006"].description.zh.as_deref(), Some("配额不足。"));
}
