//! The `faultline` binary: parses the command line, loads the catalog, runs
//! the subcommand and turns its outcome into an exit status (0 success,
//! 1 "found what you asked about" / problems found, 2 usage or fatal error).
//! The only place that uses `anyhow`; a broken stdout pipe ends quietly.

mod cli;

use anyhow::{Context, Result, bail};
use clap::Parser;
use cli::{CatalogCommand, Cli, Command, ExplainArgs, ExportFormat, LogLevel, ReportFormat};
use faultline::catalog::category::CategoryRules;
use faultline::catalog::{self, Catalog, Entry, user};
use faultline::explain;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = Cli::parse();
    init_log(&cli);
    match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faultline: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Under a file size limit (`ulimit -f`), a write past it raises SIGXFSZ,
/// which kills by default: ignored, the write fails with EFBIG instead, and
/// the output that hit the limit reports it (the summaries file retries).
fn ignore_file_size_signal() {
    // SAFETY: setting a standard signal's disposition to SIG_IGN, before
    // any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Diagnostics on stderr, filtered by `--log-level` (`-q` keeps errors only).
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.0
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!(
                "faultline: {}: {}",
                r.level().as_str().to_lowercase(),
                r.args()
            );
        }
    }
    fn flush(&self) {}
}

fn init_log(cli: &Cli) {
    let level = match (cli.global.quiet, cli.global.log_level) {
        (true, _) | (_, LogLevel::Error) => log::LevelFilter::Error,
        (_, LogLevel::Warn) => log::LevelFilter::Warn,
        (_, LogLevel::Info) => log::LevelFilter::Info,
        (_, LogLevel::Debug) => log::LevelFilter::Debug,
    };
    let logger: &'static StderrLog = Box::leak(Box::new(StderrLog(level)));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let code = match cli.command {
        Command::Explain(args) => {
            let (catalog, _) = load_catalog(&cli.global.catalogs)?;
            explain_codes(&mut out, &catalog, &args)?
        }
        Command::Scan(args) => {
            drop(out);
            let (catalog, _) = load_catalog(&cli.global.catalogs)?;
            return cli::scan::run(&catalog, &args, cli.global.quiet)
                .map(|o| ExitCode::from(o.exit_status()))
                .map_err(Into::into);
        }
        Command::Tail(args) => {
            drop(out);
            let (catalog, _) = load_catalog(&cli.global.catalogs)?;
            let files = cli.global.catalogs.clone();
            cli::tail::run(catalog, &args, move || load_catalog(&files).map(|(c, _)| c))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Catalog(cmd) => catalog_command(&mut out, &cli.global.catalogs, cmd)?,
        Command::Merge(args) => {
            cli::merge::run(&mut out, &args, || {
                load_catalog(&cli.global.catalogs).map(|(c, _)| c)
            })?;
            ExitCode::SUCCESS
        }
        Command::Generate(cmd) => {
            cli::generate::run(&mut out, &cmd).context("writing to stdout")?;
            ExitCode::SUCCESS
        }
    };
    out.flush().context("writing to stdout")?;
    Ok(code)
}

/// The built-in catalog with the user catalogs merged over it, in order.
fn load_catalog(user_files: &[std::path::PathBuf]) -> Result<(Catalog, CategoryRules)> {
    let rules = CategoryRules::builtin()?;
    let mut catalog = Catalog::builtin()?;
    for path in user_files {
        let user = user::load(path)?;
        user::merge(&mut catalog, user, &|c, m, d, r| {
            rules.categorize(c, m, d, r)
        });
    }
    Ok((catalog, rules))
}

fn explain_codes(out: &mut impl Write, catalog: &Catalog, args: &ExplainArgs) -> Result<ExitCode> {
    let mut found: Vec<&Entry> = Vec::new();
    let mut missing = 0;
    for code in &args.codes {
        match catalog.get(code) {
            Some(e) => found.push(e),
            None => {
                missing += 1;
                eprintln!("faultline: {}", not_in_catalog(catalog, code));
            }
        }
    }
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &found)?;
            writeln!(out)?;
        }
        ReportFormat::Text => {
            for (i, e) in found.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                explain::write_entry(out, e, None)?;
            }
        }
    }
    Ok(if missing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why a code is not found, with the nearest help we can give.
fn not_in_catalog(catalog: &Catalog, code: &str) -> String {
    if let Some(e) = catalog
        .entries()
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(code))
    {
        return format!(
            "{code} is not in the catalog; codes are case-sensitive: did you mean {}?",
            e.code
        );
    }
    if let Err(why) = catalog::code::check_code(code) {
        return format!("{code:?} is not an error code: it {why}");
    }
    match catalog::code::family(code) {
        None => format!("{code} is not in the catalog; add it with --catalog FILE"),
        Some(family) => {
            let same: Vec<&Entry> = catalog
                .entries()
                .iter()
                .filter(|e| catalog::code::family(&e.code) == Some(family))
                .collect();
            let stem = family.stem;
            match same.first() {
                Some(e) => format!(
                    "{code} is not in the catalog (an unknown {} code; the catalog has {} {stem}* codes: `faultline catalog list --service {}`)",
                    e.service,
                    same.len(),
                    e.service
                ),
                None => format!(
                    "{code} is not in the catalog, and no code with prefix {:?} and {} digits is; add it with --catalog FILE",
                    family.prefix(),
                    family.digits
                ),
            }
        }
    }
}

fn catalog_command(
    out: &mut impl Write,
    user_files: &[std::path::PathBuf],
    cmd: CatalogCommand,
) -> Result<ExitCode> {
    match cmd {
        CatalogCommand::Build { sources, output } => {
            let rules = CategoryRules::builtin()?;
            let entries = catalog::build::build_from_dir(&sources, &|c, m, d, r| {
                rules.categorize(c, m, d, r)
            })?;
            let catalog = Catalog::from_entries(entries)?;
            // The overrides are corrections for the built-in sources; other
            // documents (another vendor's pages) lack their codes, which is
            // no error. For the built-in sources a stale override is a data
            // bug, caught by `catalog check` and the freshness test; here it
            // is a warning, so building from other documents never fails.
            let stale = stale_overrides(&rules, &catalog);
            if !stale.is_empty() {
                log::warn!(
                    "{}: {} override(s) name codes these sources do not define (expected unless they are the built-in catalog/sources): {}",
                    catalog::category::OVERRIDES_FILE,
                    stale.len(),
                    stale.join(", ")
                );
            }
            let json = catalog.to_json();
            if output == Path::new("-") {
                out.write_all(json.as_bytes())?;
            } else {
                std::fs::write(&output, json)
                    .with_context(|| format!("writing {}", output.display()))?;
                log::info!("wrote {} entries to {}", catalog.len(), output.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Check { file } => check(out, file.as_deref(), user_files),
        CatalogCommand::Export { format } => {
            let (catalog, _) = load_catalog(user_files)?;
            match format {
                ExportFormat::Json => out.write_all(catalog.to_json().as_bytes())?,
                ExportFormat::Csv => explain::write_csv(out, catalog.entries())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::List { service, category } => {
            let (catalog, _) = load_catalog(user_files)?;
            if let Some(s) = &service
                && !catalog.services().contains(&s.as_str())
            {
                bail!(
                    "no service {s:?} in the catalog; services: {}",
                    catalog.services().join(", ")
                );
            }
            let selected = catalog.entries().iter().filter(|e| {
                service.as_ref().is_none_or(|s| &e.service == s)
                    && category.is_none_or(|c| e.category == c)
            });
            explain::write_list(out, selected)?;
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Show { code } => {
            let (catalog, rules) = load_catalog(user_files)?;
            let Some(e) = catalog.get(&code) else {
                eprintln!("faultline: {}", not_in_catalog(&catalog, &code));
                return Ok(ExitCode::from(1));
            };
            let (ruled, why) = rules.explain(&e.code, &e.message, &e.description, &e.remedy);
            let why = if ruled == e.category {
                why
            } else {
                format!(
                    "set to {} by a catalog file (the rules say {ruled}: {why})",
                    e.category
                )
            };
            explain::write_entry(out, e, Some(&why))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Codes that the category overrides name but the catalog does not have.
fn stale_overrides(rules: &CategoryRules, catalog: &Catalog) -> Vec<String> {
    rules
        .overrides()
        .filter(|o| catalog.get(&o.code).is_none())
        .map(|o| o.code.clone())
        .collect()
}

/// `catalog check`: a given file is validated as a user catalog; without
/// one, the built-in catalog (every field required) and the `--catalog`
/// files are. Every problem is listed; exit 1 when there is any.
fn check(
    out: &mut impl Write,
    file: Option<&Path>,
    user_files: &[std::path::PathBuf],
) -> Result<ExitCode> {
    let rules = CategoryRules::builtin()?;
    // (name, bytes, every field required)
    let mut inputs: Vec<(String, Vec<u8>, bool)> = Vec::new();
    let read =
        |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    match file {
        Some(path) => inputs.push((path.display().to_string(), read(path)?, false)),
        None => {
            let builtin = catalog::BUILTIN_JSON.as_bytes().to_vec();
            inputs.push((
                "built-in catalog (catalog/catalog.json)".into(),
                builtin,
                true,
            ));
            for path in user_files {
                inputs.push((path.display().to_string(), read(path)?, false));
            }
        }
    }
    let mut problems = 0;
    let mut merged = Catalog::default();
    for (name, bytes, complete) in inputs {
        let (entries, found) = user::validate(&bytes, complete);
        for p in &found {
            writeln!(out, "{name}:{p}")?;
        }
        problems += found.len();
        let verdict = if found.is_empty() {
            "no problems".to_string()
        } else {
            format!("{} problem(s)", found.len())
        };
        writeln!(out, "{name}: {} valid entries, {verdict}", entries.len())?;
        let user = user::UserCatalog {
            path: name.into(),
            entries,
        };
        user::merge(&mut merged, user, &|c, m, d, r| {
            rules.categorize(c, m, d, r)
        });
    }
    if file.is_none()
        && let Err(e) = Catalog::builtin()
    {
        writeln!(out, "built-in catalog: {e}")?;
        problems += 1;
    }
    if file.is_none() {
        for code in stale_overrides(&rules, &merged) {
            writeln!(
                out,
                "{}: override for {code}: no such code in the catalog",
                catalog::category::OVERRIDES_FILE
            )?;
            problems += 1;
        }
    }
    explain::write_spread(out, merged.entries())?;
    Ok(if problems > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
