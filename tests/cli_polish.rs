//! First-use polish (issue 13, item 3): what a new user meets first —
//! help texts whose examples run as written, help that describes every
//! option, readable reports and error messages.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// `faultline ARGS --help` as text.
fn help(args: &[&str]) -> String {
    let out = Command::new(support::bin_path())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Every command path (`[]`, `["scan"]`, `["catalog", "list"]`...), found by
/// reading the `Commands:` section of each help, so a new subcommand is
/// covered without editing this test.
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = vec![Vec::<String>::new()];
    let mut i = 0;
    while i < paths.len() {
        let args: Vec<&str> = paths[i].iter().map(String::as_str).collect();
        let text = help(&args);
        let mut in_commands = false;
        for line in text.lines() {
            if line == "Commands:" {
                in_commands = true;
            } else if in_commands && line.starts_with("  ") && !line.starts_with("   ") {
                let name = line.split_whitespace().next().unwrap();
                if name != "help" {
                    let mut p = paths[i].clone();
                    p.push(name.to_string());
                    paths.push(p);
                }
            } else if in_commands && !line.starts_with(' ') {
                in_commands = false;
            }
        }
        i += 1;
    }
    paths
}

/// The indented lines of a help's `Examples:` (or `Example:`) section.
fn example_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_examples = false;
    for line in text.lines() {
        if line == "Examples:" || line == "Example:" {
            in_examples = true;
        } else if in_examples && line.starts_with("  ") {
            lines.push(line.trim().to_string());
        } else if in_examples {
            in_examples = false;
        }
    }
    lines
}

/// Log lines with a quota code in them (Ecs.0013 is `quota` in the catalog).
const LOG: &str = "2026-11-30T02:04:20Z api call failed: Ecs.0013 quota exceeded\nall fine\n";

/// The files the examples name, made in `dir` (the only thing the test
/// chooses: every example runs there, as written).
fn example_fixtures(dir: &Path) {
    let gz = |path: &Path| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(LOG.as_bytes()).unwrap();
        std::fs::write(path, e.finish().unwrap()).unwrap();
    };
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/app.log"), LOG).unwrap();
    gz(&dir.join("logs/old.log.gz"));
    std::fs::write(dir.join("app.log"), LOG).unwrap();
    gz(&dir.join("app.log.gz"));
    std::fs::write(
        dir.join("big.log.zst"),
        zstd::encode_all(LOG.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    // `catalog build` reads catalog/sources and my-docs/: the checked-in documents.
    for to in ["catalog/sources", "my-docs"] {
        copy_dir(&support::root().join("catalog/sources"), &dir.join(to));
    }
    let entry = serde_json::json!([{
        "code": "MyApp.0001", "service": "MyApp", "status": 400,
        "message": "Quota exceeded.", "description": {"en": "Too many widgets."},
        "remedy": {"en": "Delete some widgets."}, "category": "quota"
    }]);
    std::fs::write(dir.join("my-codes.json"), entry.to_string()).unwrap();
    // `merge` adds reports of `scan --format json`: made by the scan they
    // document.
    for report in ["shard-1.json", "shard-2.json", "a.json", "b.json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["scan", "--format", "json", "app.log"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        std::fs::write(dir.join(report), out.stdout).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// The exit status an example documents: `--fail-on` over logs with a
/// quota hit exits 1; everything else succeeds.
fn expected_status(line: &str) -> i32 {
    if line.contains("--fail-on") { 1 } else { 0 }
}

#[test]
fn every_help_example_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    example_fixtures(dir.path());
    let bin_dir = support::bin_path().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for cmd in command_paths() {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let examples = example_lines(&help(&args));
        for line in &examples {
            // A line that is neither a command nor a pipe into one is the
            // second half of a wrapped example.
            assert!(
                line.starts_with("faultline ") || line.contains("| faultline "),
                "`faultline {} --help`: example line {line:?} is not a whole command",
                cmd.join(" ")
            );
            if !line.starts_with("faultline ") {
                continue;
            }
            // `tail` runs until stopped: two seconds, then SIGTERM (a clean
            // shutdown, status 0). `exec` makes the signal reach faultline.
            let script = if line.starts_with("faultline tail") {
                format!("exec timeout --preserve-status -s TERM 2 {line}")
            } else {
                line.clone()
            };
            let out = Command::new("sh")
                .arg("-c")
                .arg(&script)
                .current_dir(dir.path())
                .env("PATH", &path)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(expected_status(line)),
                "example {line:?} from `faultline {} --help`: stderr: {}",
                cmd.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} examples found");
}

#[test]
fn tail_help_quotes_its_globs() {
    for line in example_lines(&help(&["tail"])) {
        for word in line.split_whitespace() {
            assert!(
                !word.contains('*') || word.starts_with('\''),
                "unquoted glob {word:?} in tail example {line:?}"
            );
        }
    }
}

/// The entries of a help's `Arguments:` and `Options:` sections, each with
/// its description (empty when it has none).
fn described_args(text: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        if line == "Arguments:" || line == "Options:" {
            in_section = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_section = false;
        }
        if !in_section {
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if indent <= 6 && (body.starts_with('-') || body.starts_with('<') || body.starts_with('['))
        {
            // `  -q, --quiet  Print...` or `      --top <N>` with the text below.
            let (name, desc) = match body.find("  ") {
                Some(i) => (&body[..i], body[i..].trim()),
                None => (body, ""),
            };
            entries.push((name.to_string(), desc.to_string()));
        } else if let Some(last) = entries.last_mut() {
            last.1.push(' ');
            last.1.push_str(body);
        }
    }
    entries
}

#[test]
fn every_argument_of_every_command_is_described() {
    for cmd in command_paths() {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        for (name, desc) in described_args(&help(&args)) {
            assert!(
                !desc.trim().is_empty(),
                "`faultline {} --help`: {name} has no description",
                cmd.join(" ")
            );
        }
    }
}

#[test]
fn catalog_list_category_lists_its_values() {
    let text = help(&["catalog", "list"]);
    let (_, desc) = described_args(&text)
        .into_iter()
        .find(|(n, _)| n.starts_with("--category"))
        .unwrap();
    // The seven categories of SPEC section 2, written out independently.
    for c in [
        "quota",
        "access",
        "retry",
        "resource_state",
        "fix_request",
        "unsupported",
        "contact_support",
    ] {
        assert!(desc.contains(c), "--category help lacks {c}: {desc}");
    }
}

#[test]
fn quiet_promises_no_progress_bar_only_where_there_is_one() {
    for cmd in [&["explain"][..], &["catalog", "list"], &["tail"]] {
        let (_, desc) = described_args(&help(cmd))
            .into_iter()
            .find(|(n, _)| n.starts_with("-q"))
            .unwrap();
        assert!(
            !desc.contains("and no progress bar"),
            "{cmd:?}: -q says {desc:?}"
        );
    }
}

/// A scan's text report of a log with two unknown codes (known prefix Ecs,
/// codes not in the catalog) and one known.
fn text_report(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "x Ecs.9876 y\nx Ecs.9877 y\nx Ecs.9877 y\nx Ecs.0013 y\n",
    )
    .unwrap();
    let out = support::faultline()
        .args(["scan", "--format", "text"])
        .args(extra)
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn top_limits_both_lists_and_zero_lists_none() {
    let zero = text_report(&["--top", "0"]);
    assert!(
        !zero.contains("Ecs.9876") && !zero.contains("Ecs.9877"),
        "{zero}"
    );
    assert!(!zero.contains("  Ecs.0013"), "{zero}");
    assert!(zero.contains("... and 2 more"), "{zero}");
    let one = text_report(&["--top", "1"]);
    assert!(
        one.contains("Ecs.9877") && !one.contains("Ecs.9876"),
        "{one}"
    );
    assert!(one.contains("... and 1 more"), "{one}");
    let help = help(&["scan"]);
    assert!(help.contains("unknown-codes list"), "--top help: {help}");
}

#[test]
fn one_line_is_not_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("one.log");
    std::fs::write(&log, "x Ecs.0013 y\n").unwrap();
    let out = support::faultline()
        .args(["scan", "--format", "text"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" in 1 line, "), "{text}");
}

/// Terminal columns by hand: CJK ideographs take two, ASCII one.
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{4e00}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn chinese_service_names_keep_the_columns_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("zh.json");
    let entry = serde_json::json!([{
        "code": "Ecs.7771", "service": "云服务器", "status": 400,
        "message": "配额不足。", "description": {"zh": "配额不足。"},
        "remedy": {"zh": "申请扩大配额。"}, "category": "quota"
    }]);
    std::fs::write(&user, entry.to_string()).unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "x Ecs.7771 y\nx Ecs.0013 y\nx Ecs.0013 y\n").unwrap();
    let out = support::faultline()
        .arg("--catalog")
        .arg(&user)
        .args(["scan", "--format", "text"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The service table: every row as wide as its header.
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("service"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() >= 4, "{text}");
    for row in &table {
        assert_eq!(columns(row), columns(table[0]), "row {row:?} in\n{text}");
    }
    // The top codes: the category column starts at one column in each row.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Ecs.7771") || l.contains("Ecs.0013"))
        .filter(|l| l.contains("quota"))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let at: Vec<usize> = rows
        .iter()
        .map(|r| columns(&r[..r.find("quota").unwrap()]))
        .collect();
    assert_eq!(at[0], at[1], "{text}");
}

#[test]
fn control_characters_in_file_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.log");
    std::fs::write(&good, "x Ecs.0013 y\n").unwrap();
    let bad = dir.path().join("red\x1b[31mfile.log");
    let out = support::faultline()
        .args(["scan", "--format", "text"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("red\\u{1b}[31mfile.log"), "{stderr}");
    assert!(stdout.contains("red\\u{1b}[31mfile.log"), "{stdout}");
}
