//! `faultline generate man|completions SHELL`: the manual page and the
//! shell completions, generated from the clap definitions of [`super::Cli`]
//! so that they always say what `--help` says. Hidden from `--help` (the
//! README says how to install them); the binary is all a user needs.
//!
//! The manual page is one page, `faultline(1)`: the global options, then a
//! section for each subcommand (`FAULTLINE SCAN`, `FAULTLINE CATALOG
//! LIST`...) with its synopsis, options and examples, then the exit status
//! and the environment. clap_mangen renders the synopses and option lists;
//! the page's layout is ours, because its own layout expects a page per
//! subcommand and fills the examples into one paragraph.

use super::Cli;
use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};
use std::io::{self, Write};

#[derive(Subcommand, Debug)]
pub enum GenerateCommand {
    /// The manual page (roff) on stdout: every subcommand in a section of its own.
    #[command(after_help = "\
Example:
  faultline generate man > faultline.1")]
    Man,
    /// Completions for SHELL on stdout.
    #[command(after_help = "\
Examples:
  faultline generate completions bash > faultline.bash
  faultline generate completions zsh > _faultline
  faultline generate completions fish > faultline.fish")]
    Completions {
        /// The shell the completions are for.
        #[arg(value_enum, value_name = "SHELL")]
        shell: Shell,
    },
}

/// Writes what `cmd` asks for to `out`. Generated into memory first: the
/// generators panic on a failed write, a closed pipe must end quietly.
pub fn run(out: &mut impl Write, cmd: &GenerateCommand) -> io::Result<()> {
    let text = match cmd {
        GenerateCommand::Man => man_page(),
        GenerateCommand::Completions { shell } => completions(*shell),
    };
    out.write_all(&text)
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "faultline", &mut buf);
    buf
}

/// The names of the global options, which each subcommand's section
/// leaves to the page's OPTIONS.
fn global_ids(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().to_string())
        .collect()
}

/// `faultline(1)`.
pub fn man_page() -> Vec<u8> {
    let mut cmd = Cli::command();
    cmd.build();
    let globals = global_ids(&cmd);
    let man = Man::new(cmd.clone()).date(String::new());
    let mut page = Vec::new();
    // Only the first piece keeps roff's preamble (the apostrophe string).
    let mut first = true;
    let mut piece = |page: &mut Vec<u8>, render: &dyn Fn(&mut Vec<u8>) -> io::Result<()>| {
        let mut buf = Vec::new();
        render(&mut buf).expect("rendering into memory");
        let text = String::from_utf8(buf).expect("roff from UTF-8 text is UTF-8");
        let text = if first {
            &text[..]
        } else {
            strip_preamble(&text)
        };
        first = false;
        page.extend_from_slice(text.as_bytes());
    };
    piece(&mut page, &|w| man.render_title(w));
    piece(&mut page, &|w| man.render_name_section(w));
    piece(&mut page, &|w| man.render_synopsis_section(w));
    piece(&mut page, &|w| man.render_description_section(w));
    piece(&mut page, &|w| man.render_options_section(w));
    piece(&mut page, &|w| commands_section(&cmd).to_writer(w));
    for (path, sub) in visible_subcommands(&cmd) {
        piece(&mut page, &|w| subcommand_section(&path, sub, &globals, w));
    }
    piece(&mut page, &|w| {
        examples("EXAMPLES", &cmd, false).to_writer(w)
    });
    piece(&mut page, &|w| closing_sections().to_writer(w));
    page
}

/// Every visible subcommand, depth first, with its path of names
/// (`["catalog", "list"]`).
fn visible_subcommands(cmd: &clap::Command) -> Vec<(Vec<String>, &clap::Command)> {
    fn walk<'a>(
        cmd: &'a clap::Command,
        path: &[String],
        out: &mut Vec<(Vec<String>, &'a clap::Command)>,
    ) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() == "help" {
                continue;
            }
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            out.push((p.clone(), sub));
            walk(sub, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, &[], &mut out);
    out
}

/// The list of subcommands, each pointing to its section.
fn commands_section(cmd: &clap::Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    roff.text([roman(
        "Each command has a section of its own below; every option there is also given by `faultline COMMAND --help`.",
    )]);
    for (path, sub) in visible_subcommands(cmd) {
        roff.control("TP", []);
        roff.text([bold(format!("faultline {}", path.join(" ")))]);
        roff.text([roman(about(sub))]);
    }
    roff
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_about()
        .or_else(|| cmd.get_long_about())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// `FAULTLINE SCAN`: what it does, its synopsis, its options (the global
/// ones are in OPTIONS) and its examples.
fn subcommand_section(
    path: &[String],
    sub: &clap::Command,
    globals: &[String],
    w: &mut Vec<u8>,
) -> io::Result<()> {
    let mut sub = sub.clone();
    for id in globals {
        if sub.get_arguments().any(|a| a.get_id() == id.as_str()) {
            sub = sub.mut_arg(id.as_str(), |a| a.hide(true));
        }
    }
    let man = Man::new(sub.clone());
    let mut head = Roff::new();
    head.control(
        "SH",
        [format!("FAULTLINE {}", path.join(" ").to_uppercase()).as_str()],
    );
    head.text([roman(about(&sub))]);
    head.control("SS", ["Synopsis"]);
    w.extend_from_slice(strip_preamble(&head.render()).as_bytes());
    let mut synopsis = Vec::new();
    man.render_synopsis_section(&mut synopsis)?;
    w.extend_from_slice(section_body(&synopsis).as_bytes());
    let has_options = sub.get_arguments().any(|a| !a.is_hide_set());
    if has_options {
        let mut options = Vec::new();
        man.render_options_section(&mut options)?;
        let mut head = Roff::new();
        head.control("SS", ["Options"]);
        w.extend_from_slice(strip_preamble(&head.render()).as_bytes());
        w.extend_from_slice(section_body(&options).as_bytes());
    }
    if sub.get_subcommands().any(|s| !s.is_hide_set()) {
        let mut list = Roff::new();
        list.control("SS", ["Commands"]);
        for s in sub
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            list.control("TP", []);
            list.text([bold(format!(
                "faultline {} {}",
                path.join(" "),
                s.get_name()
            ))]);
            list.text([roman(about(s))]);
        }
        w.extend_from_slice(strip_preamble(&list.render()).as_bytes());
    }
    w.extend_from_slice(strip_preamble(&examples("Examples", &sub, true).render()).as_bytes());
    Ok(())
}

/// The examples of `cmd`'s help (its `after_help`), one a line, unfilled
/// so that each can be copied as written.
fn examples(title: &str, cmd: &clap::Command, subsection: bool) -> Roff {
    let mut roff = Roff::new();
    let Some(text) = cmd.get_after_help().map(|t| t.to_string()) else {
        return roff;
    };
    roff.control(if subsection { "SS" } else { "SH" }, [title]);
    roff.control("PP", []);
    roff.control("nf", []);
    roff.control("RS", ["4"]);
    for line in text.lines().filter(|l| l.starts_with("  ")) {
        roff.text([roman(line.trim_start())]);
    }
    roff.control("RE", []);
    roff.control("fi", []);
    roff
}

/// EXIT STATUS and ENVIRONMENT (SPEC section 3).
fn closing_sections() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in [
        ("0", "Success."),
        (
            "1",
            "What was asked about was found: scan --fail-on matched, explain or catalog show was given a code the catalog does not have, or catalog check found problems.",
        ),
        (
            "2",
            "A usage or fatal error, or no input of a scan could be read at all.",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(status)]);
        roff.text([roman(meaning)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in [
        (
            "TZ",
            "The time zone of timestamps written without one, and of the local times in the text report.",
        ),
        (
            "NO_COLOR",
            "When set and not empty, --color auto (the default) writes no colour.",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(meaning)]);
    }
    roff
}

/// `text` without roff's preamble (two lines defining the apostrophe
/// string, written at the start of every rendering).
fn strip_preamble(text: &str) -> &str {
    let mut rest = text;
    while rest.starts_with(".ie \\n(.g .ds Aq") || rest.starts_with(".el .ds Aq") {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

/// A rendered clap_mangen section without the preamble and its `.SH`
/// heading line.
fn section_body(rendered: &[u8]) -> String {
    let text = String::from_utf8_lossy(rendered);
    let text = strip_preamble(&text);
    match text.strip_prefix(".SH") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, r)| r).to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_preamble_and_the_heading() {
        let mut roff = Roff::new();
        roff.control("SH", ["OPTIONS"]);
        roff.text([roman("body")]);
        assert_eq!(section_body(roff.render().as_bytes()), "body\n");
    }

    #[test]
    fn the_page_has_one_title_and_one_preamble() {
        let page = String::from_utf8(man_page()).unwrap();
        assert_eq!(page.matches(".TH ").count(), 1);
        assert_eq!(page.matches(".ds Aq").count(), 2, "the .ie/.el pair once");
    }
}
