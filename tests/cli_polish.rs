//! First-use polish (issue 13, item 3): what a new user meets first —
//! help texts whose examples run as written, help that describes every
//! option, readable reports and error messages.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::services::{Proc, require_tool, series, wait_for};

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
    // `generate` is hidden from the top-level list (the README documents
    // it); its own help lists its subcommands.
    let mut paths = vec![Vec::<String>::new(), vec!["generate".to_string()]];
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

/// The visible subcommands, named as `--help` lists them (independent of
/// the man page and completion generators).
fn visible_command_paths() -> Vec<Vec<String>> {
    command_paths()
        .into_iter()
        .filter(|p| !p.is_empty() && p[0] != "generate")
        .collect()
}

fn generated(args: &[&str]) -> String {
    let out = support::faultline()
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_man_page_renders_with_a_section_for_every_subcommand() {
    let page = generated(&["man"]);
    // The roff structure: one title, the standard sections in order.
    assert!(page.contains("\n.TH faultline 1 "), "{page}");
    let at = |heading: &str| {
        page.find(&format!("\n.SH {heading}\n"))
            .unwrap_or_else(|| panic!("no .SH {heading} in\n{page}"))
    };
    assert!(at("NAME") < at("SYNOPSIS"));
    assert!(at("SYNOPSIS") < at("DESCRIPTION"));
    assert!(at("DESCRIPTION") < at("OPTIONS"));
    assert!(at("OPTIONS") < at("COMMANDS"));
    let paths = visible_command_paths();
    assert!(paths.len() >= 9, "{paths:?}");
    // Rendered by groff as man(1) would, with every warning on: no
    // warning, and the text has a section per subcommand and its options.
    let groff = require_tool(&["groff"], "groff-base");
    let mut child = Command::new(groff)
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "groff warns: {stderr}");
    // Bold and underlining as overstrikes removed: plain text.
    let text = strip_overstrike(&String::from_utf8_lossy(&out.stdout));
    for p in &paths {
        let heading = format!("FAULTLINE {}", p.join(" ").to_uppercase());
        assert!(
            text.lines().any(|l| l == heading),
            "no section {heading:?} in the rendered page:\n{text}"
        );
    }
    // Each subcommand's own options are in its section.
    let section = |name: &str| {
        let start = text.find(&format!("\n{name}\n")).unwrap();
        let rest = &text[start + 1..];
        let end = rest[1..]
            .find("\nFAULTLINE ")
            .or_else(|| rest[1..].find("\nEXAMPLES"))
            .unwrap_or(rest.len() - 1);
        rest[..end + 1].to_string()
    };
    let scan = section("FAULTLINE SCAN");
    for option in ["--threads", "-j", "--follow", "-L", "--color", "--fail-on"] {
        assert!(scan.contains(option), "{option} not in\n{scan}");
    }
    assert!(section("FAULTLINE TAIL").contains("--state-dir"));
    assert!(section("FAULTLINE CATALOG LIST").contains("--category"));
    // Examples are kept one a line, as written in --help.
    assert!(
        scan.lines()
            .any(|l| l.trim() == "faultline scan --format json --events hits.jsonl logs/*.gz"),
        "{scan}"
    );
    assert!(text.contains("EXIT STATUS"), "{text}");
}

/// `b\bb` (bold) and `_\bx` (underlined) as groff -Tutf8 writes them for a
/// pipe, reduced to the characters.
fn strip_overstrike(s: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{8}' {
            out.pop();
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    // Any SGR sequences (groff's default for a terminal) too.
    let text: String = out.into_iter().collect();
    let mut plain = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find('\x1b') {
        plain.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = rest.find('m').map_or("", |m| &rest[m + 1..]);
    }
    plain.push_str(rest);
    plain
}

/// Every visible subcommand's last name is offered somewhere in `script`.
fn assert_names_every_subcommand(shell: &str, script: &str) {
    for p in visible_command_paths() {
        let name = p.last().unwrap();
        assert!(
            script.contains(name.as_str()),
            "{shell} completions lack {name}"
        );
    }
}

#[test]
fn bash_completions_parse_and_complete_every_subcommand() {
    let script = generated(&["completions", "bash"]);
    assert_names_every_subcommand("bash", &script);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faultline.bash");
    std::fs::write(&file, &script).unwrap();
    let status = Command::new("bash").arg("-n").arg(&file).status().unwrap();
    assert!(status.success(), "bash -n rejects the completions");
    // Loaded and asked as bash asks on TAB: what follows `faultline ` and
    // `faultline catalog `.
    let complete = |words: &str| {
        let probe = format!(
            "source {}; COMP_WORDS=({words} ''); COMP_CWORD=${{#COMP_WORDS[@]}}; \
             COMP_CWORD=$((COMP_CWORD - 1)); COMP_LINE=\"{words} \"; COMP_POINT=${{#COMP_LINE}}; \
             fn=$(complete -p faultline | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
             \"$fn\" faultline '' \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = Command::new("bash").arg("-c").arg(&probe).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let top: Vec<String> = complete("faultline").lines().map(String::from).collect();
    for p in visible_command_paths().iter().filter(|p| p.len() == 1) {
        assert!(
            top.contains(&p[0]),
            "`faultline <TAB>` lacks {}: {top:?}",
            p[0]
        );
    }
    let catalog: Vec<String> = complete("faultline catalog")
        .lines()
        .map(String::from)
        .collect();
    for p in visible_command_paths().iter().filter(|p| p.len() == 2) {
        assert!(
            catalog.contains(&p[1]),
            "`faultline catalog <TAB>` lacks {}: {catalog:?}",
            p[1]
        );
    }
}

#[test]
fn zsh_completions_parse() {
    let script = generated(&["completions", "zsh"]);
    assert_names_every_subcommand("zsh", &script);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("_faultline");
    std::fs::write(&file, &script).unwrap();
    let zsh = require_tool(&["zsh"], "zsh");
    let out = Command::new(zsh).arg("-n").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "zsh -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fish_completions_parse_and_complete_every_subcommand() {
    let script = generated(&["completions", "fish"]);
    assert_names_every_subcommand("fish", &script);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faultline.fish");
    std::fs::write(&file, &script).unwrap();
    let fish = require_tool(&["fish"], "fish");
    let out = Command::new(&fish)
        .arg("--no-execute")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fish --no-execute: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // fish itself asked what follows `faultline `.
    let out = Command::new(&fish)
        .env("HOME", dir.path())
        .arg("-c")
        .arg(format!(
            "source {}; complete -C 'faultline '",
            file.display()
        ))
        .output()
        .unwrap();
    let offered: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    for p in visible_command_paths().iter().filter(|p| p.len() == 1) {
        assert!(
            offered.contains(&p[0].as_str()),
            "fish lacks {}: {offered:?}",
            p[0]
        );
    }
}

#[test]
fn a_closed_pipe_ends_generate_quietly() {
    // stdout a pipe whose reader is already gone: every write fails with
    // EPIPE (Rust programs ignore SIGPIPE), whatever the output's size.
    for args in [
        &["man"][..],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(support::bin_path())
            .arg("generate")
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// The OS's own wording of errno `n`, for counting it in stderr.
fn os_error(n: i32) -> String {
    std::io::Error::from_raw_os_error(n).to_string()
}

#[test]
fn events_that_cannot_be_written_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, LOG).unwrap();
    // /dev/full opens, and every write fails with ENOSPC.
    let out = support::faultline()
        .args(["scan", "--format", "json", "--events", "/dev/full"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write events to /dev/full: "),
        "{stderr}"
    );
    assert!(!stderr.contains("--events"), "{stderr}");
    assert_eq!(
        stderr.matches(&os_error(libc::ENOSPC)).count(),
        1,
        "{stderr}"
    );
}

/// `tail ARGS` that must fail at start-up: its exit status and stderr.
fn tail_fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(support::bin_path())
        .current_dir(dir)
        .arg("tail")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "tail {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_state_directory_that_is_a_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.log"), "").unwrap();
    std::fs::write(dir.path().join("state"), "not a directory").unwrap();
    for state in ["state", "state/sub"] {
        let stderr = tail_fails(dir.path(), &["--state-dir", state, "app.log"]);
        assert!(
            stderr.contains("state is a file, not a directory"),
            "--state-dir {state}: {stderr}"
        );
        assert!(stderr.contains("--state-dir"), "says what to do: {stderr}");
        assert!(!stderr.contains(&os_error(libc::EEXIST)), "{stderr}");
        assert!(!stderr.contains(&os_error(libc::ENOTDIR)), "{stderr}");
    }
}

#[test]
fn an_os_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("app.log"), LOG).unwrap();
    let enoent = os_error(libc::ENOENT);
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["tail", "--events", "nodir/e.jsonl", "app.log"],
            enoent.clone(),
        ),
        (
            vec!["tail", "--summaries", "nodir/s.jsonl", "app.log"],
            enoent.clone(),
        ),
        (
            vec!["scan", "--events", "nodir/e.jsonl", "app.log"],
            enoent.clone(),
        ),
        (
            vec!["--catalog", "nofile.json", "scan", "app.log"],
            enoent.clone(),
        ),
        (vec!["catalog", "check", "nofile.json"], enoent.clone()),
        (vec!["merge", "nofile.json"], enoent.clone()),
        (
            vec!["catalog", "build", "--sources", "nodir"],
            enoent.clone(),
        ),
    ];
    for (args, os) in cases {
        let out = Command::new(support::bin_path())
            .current_dir(d)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches(&os).count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn a_catalog_saved_with_a_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("bom.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        serde_json::json!([{
            "code": "MyApp.0001", "service": "MyApp", "message": "Widget quota exceeded.",
            "category": "quota"
        }])
        .to_string()
        .as_bytes(),
    );
    std::fs::write(&catalog, bytes).unwrap();
    let out = support::faultline()
        .arg("--catalog")
        .arg(&catalog)
        .args(["explain", "MyApp.0001"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Widget quota exceeded."),
        "{stderr}"
    );
}

/// A text report of `LOG` in `dir`, run under a pseudo-terminal (`script`
/// from util-linux) when `tty`, with `env` set and `--color` as given.
fn report_colors(dir: &Path, tty: bool, color: Option<&str>, env: &[(&str, &str)]) -> String {
    let mut cmd = format!("{} scan --format text", support::bin_path().display());
    if let Some(c) = color {
        cmd.push_str(&format!(" --color {c}"));
    }
    cmd.push_str(" app.log");
    let mut c = if tty {
        let script = require_tool(&["script"], "bsdutils");
        let mut c = Command::new(script);
        c.args(["-qec", &cmd, "/dev/null"]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &cmd]);
        c
    };
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn color_follows_the_conventions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.log"), "x Ecs.0013 y\nx Ecs.9876 y\n").unwrap();
    let d = dir.path();
    let colored = |s: &str| s.contains("\x1b[");
    // auto: a terminal gets colour, unless NO_COLOR is set (to anything
    // but ""), or TERM is dumb; a pipe never does.
    assert!(colored(&report_colors(d, true, None, &[])));
    assert!(colored(&report_colors(
        d,
        true,
        Some("auto"),
        &[("NO_COLOR", "")]
    )));
    assert!(!colored(&report_colors(
        d,
        true,
        None,
        &[("NO_COLOR", "1")]
    )));
    assert!(!colored(&report_colors(d, true, None, &[("TERM", "dumb")])));
    assert!(!colored(&report_colors(d, false, None, &[])));
    // never and always are obeyed whatever the output and NO_COLOR.
    assert!(!colored(&report_colors(d, true, Some("never"), &[])));
    let forced = report_colors(d, false, Some("always"), &[("NO_COLOR", "1")]);
    assert!(colored(&forced));
    // Colour changes nothing else: without its escapes, the same text.
    let plain = report_colors(d, false, Some("never"), &[]);
    let mut stripped = String::new();
    let mut rest = forced.as_str();
    while let Some(i) = rest.find("\x1b[") {
        stripped.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = &rest[rest.find('m').unwrap() + 1..];
    }
    stripped.push_str(rest);
    let without_time = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Scanned "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_time(&stripped), without_time(&plain));
    // A category is coloured as a cell (padding inside the colour).
    assert!(forced.contains("\x1b[31mquota"), "{forced:?}");
}

#[test]
fn short_flags_as_in_ripgrep() {
    // -L follows symbolic links while walking, as `rg -L` does; -j sets
    // the threads, as `rg -j` does.
    let dir = tempfile::tempdir().unwrap();
    let walked = dir.path().join("walked");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&walked).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(walked.join("a.log"), "x Ecs.0013 y\n").unwrap();
    std::fs::write(elsewhere.join("b.log"), "x Ecs.0013 y\nx Ecs.0013 y\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, walked.join("link")).unwrap();
    let hits = |flags: &[&str]| {
        let out = support::faultline()
            .args(["scan", "--format", "json"])
            .args(flags)
            .arg(&walked)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{flags:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        support::json_of(&out)["hits"].as_u64().unwrap()
    };
    // 1 hit in walked/, 2 more behind the link.
    assert_eq!(hits(&["-j", "1"]), 1);
    assert_eq!(hits(&["-j", "2", "-L"]), 3);
    assert_eq!(hits(&["--follow"]), 3);
    let bad = support::faultline()
        .args(["scan", "-j", "0"])
        .arg(&walked)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_metrics_port_chosen_by_the_system_is_logged_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("app.log");
    std::fs::write(&log, "").unwrap();
    let mut cmd = Command::new(support::bin_path());
    cmd.current_dir(d)
        .args(["tail", "--summaries"])
        .arg(d.join("summaries.jsonl"))
        .args(["--metrics-addr", "127.0.0.1:0"])
        .arg(&log);
    // No --log-level: the default.
    let mut p = Proc::start("faultline", cmd, d);
    let addr: std::net::SocketAddr = wait_for(
        Duration::from_secs(20),
        "the metrics address on stderr",
        || {
            p.assert_running();
            let text = p.log_text();
            text.split("serving metrics at http://")
                .nth(1)
                .and_then(|rest| rest.split("/metrics").next())
                .and_then(|a| a.parse().ok())
                .ok_or(text)
        },
    );
    assert_ne!(addr.port(), 0);
    let body = support::services::get_ok(addr, "/metrics").unwrap();
    assert!(
        series(&body).contains_key("faultline_lines_total"),
        "{body}"
    );
    assert_eq!(
        p.terminate(Duration::from_secs(10)).and_then(|s| s.code()),
        Some(0)
    );
}

#[test]
fn one_hit_is_not_hits() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("one.log");
    std::fs::write(&log, "2026-11-30T02:04:20Z x Ecs.0013 y\nx Ecs.0013 y\n").unwrap();
    let out = support::faultline()
        .args(["scan", "--format", "text"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(": 1 hit\n"), "{text}");
    assert!(text.contains(", 1 hit untimed:"), "{text}");
    assert!(!text.contains("1 hits"), "{text}");
}

#[test]
fn the_readme_timeline_is_real_output() {
    let root = support::root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let after = &readme[readme
        .find("TZ=Asia/Shanghai faultline scan --format text")
        .expect("the README's timeline command")..];
    let block = &after[after.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let out = support::faultline()
        .env("TZ", "Asia/Shanghai")
        .args(["scan", "--format", "text", "fixtures/timeline/incident.log"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let timeline: String = text
        .lines()
        .skip_while(|l| !l.starts_with("Timeline"))
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        block, timeline,
        "the README's timeline is not what the scan prints"
    );
    // Independently: quota (Ecs.0013) lines per minute of their timestamp;
    // the peak minute and its count are the ones the row names.
    let log = std::fs::read_to_string(root.join("fixtures/timeline/incident.log")).unwrap();
    let mut per_minute = std::collections::BTreeMap::<&str, u64>::new();
    for line in log.lines().filter(|l| l.contains("Ecs.0013")) {
        if line.starts_with("2026-11-30T") {
            *per_minute.entry(&line[11..16]).or_default() += 1;
        }
    }
    let (minute, n) = per_minute
        .iter()
        .fold(("", 0), |m, (k, v)| if *v > m.1 { (k, *v) } else { m });
    let (h, m) = minute.split_once(':').unwrap();
    let local = format!("{:02}:{m}", h.parse::<u32>().unwrap() + 8);
    let named = format!("peak 2026-11-30 {local}:00 +08:00 (2026-11-30 {minute}:00 UTC): {n} hits");
    let quota_row = timeline
        .lines()
        .skip_while(|l| !l.contains("quota"))
        .nth(1)
        .unwrap();
    assert!(quota_row.contains(&named), "{named:?} not in {quota_row:?}");
    // A readable row: at most 60 columns between the bars.
    for row in timeline.lines().filter(|l| l.contains('|')) {
        let bars = row.split('|').nth(1).unwrap().chars().count();
        assert!((20..=60).contains(&bars), "{bars} columns: {row}");
    }
}
