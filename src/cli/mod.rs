//! The command line: every subcommand, option and help text, as clap derive
//! types, so the whole interface of SPEC section 3 can be read in this file.
//! Part of the binary only: the library knows nothing of clap. [`scan`] and
//! [`tail`] turn the flags into the library's plain options and do the
//! process's side (terminals, signals, the runtime, printing); `main.rs`
//! dispatches.

pub mod generate;
pub mod merge;
pub mod scan;
pub mod tail;

use clap::{Args, Parser, Subcommand, ValueEnum};
use faultline::catalog::Category;
use std::path::PathBuf;

// Every example line runs as written in a directory holding the files it
// names (tests/cli_polish.rs does so): relative paths, quoted globs, one
// line each and under 80 columns so that clap never wraps one.
const EXAMPLES: &str = "\
Examples:
  faultline scan logs/                      # every log under a directory
  faultline scan --format json app.log.gz   # JSON report of a gzip archive
  zcat app.log.gz | faultline scan -        # read stdin
  faultline scan --fail-on quota,access logs/   # exit 1 on such hits (CI)
  faultline explain Ecs.0013 IMG.0015       # what the catalog says
  faultline catalog list --service ECS --category quota";

#[derive(Parser, Debug)]
#[command(
    name = "faultline",
    version,
    about = "Finds cloud API error codes in logs, explains them and counts them by service and remedy category",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Merge a user catalog (JSON array of entries) over the built-in one;
    /// repeatable, later files win.
    #[arg(long = "catalog", value_name = "FILE", global = true)]
    pub catalogs: Vec<PathBuf>,
    /// Print nothing on stderr but errors (for scan, no progress bar either).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// How much to say on stderr.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LogLevel::Warn, global = true)]
    pub log_level: LogLevel,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Batch analysis: scan files, directories, archives or stdin and print a report at the end.
    #[command(after_help = "\
Examples:
  faultline scan logs/
  faultline scan --format json --events hits.jsonl logs/*.gz
  faultline scan --threads 1 --fail-on quota big.log.zst
  kubectl logs deploy/api | faultline scan")]
    Scan(ScanArgs),
    /// Follow logs like `tail -F` (through rotation and restarts) and write periodic summaries.
    #[command(after_help = "\
Examples:
  faultline tail 'logs/*.log'
  faultline tail --state-dir state --summaries summaries.jsonl 'logs/app.log*'
  faultline tail --from beginning --interval 1m --events - app.log
  faultline tail --metrics-addr :9464 'logs/*.log'
  faultline tail --summaries https://alerts.example/faultline 'logs/*.log'
  kubectl logs -f deploy/api | faultline tail -")]
    Tail(TailArgs),
    /// What the catalog says about codes: service, status, category, message, description, remedy.
    #[command(after_help = "\
Examples:
  faultline explain Ecs.0013 IMG.0015
  faultline explain --format json CSBS.9006")]
    Explain(ExplainArgs),
    /// Build, check and query the error-code catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Add the JSON reports of separate `scan --format json` runs (shards of an archive) into the report of one run.
    #[command(after_help = "\
Examples:
  faultline merge shard-*.json
  faultline merge --format text a.json b.json")]
    Merge(MergeArgs),
    /// The manual page or shell completions, generated from these definitions.
    #[command(subcommand, hide = true)]
    Generate(generate::GenerateCommand),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Reports written by `faultline scan --format json`; `-` is stdin.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format of the merged report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    pub format: ReportFormat,
    /// Codes listed in the text report's top-codes table.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Colour in the text report: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether to colour output going to a terminal or not
    /// (`is_terminal`), by the conventions: `always` and `never` are
    /// obeyed; `auto` colours a terminal unless `NO_COLOR` is set to
    /// anything but the empty string (no-color.org) or `TERM` is `dumb`.
    pub fn enabled(self, is_terminal: bool) -> bool {
        let env_set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                is_terminal
                    && !env_set("NO_COLOR")
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The most `scan --threads` accepts: far beyond any core count that
/// helps (the work is bounded by memory bandwidth long before), and low
/// enough that a typo (`--threads 65535`) is a usage error rather than
/// thousands of stacks.
pub const MAX_THREADS: u16 = 1024;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories (walked recursively, hidden files included) to
    /// scan; `-` is stdin. With none, stdin is read when it is not a terminal.
    /// gzip and zstd files are recognised by their content and decompressed.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Files scanned in parallel, and a large plain file split among them
    /// [default: all cores; at most 1024]. A compressed file is also
    /// decompressed on a thread of its own, ahead of its search. If the
    /// system refuses threads, the scan goes on with those it got.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS as i64))]
    pub threads: Option<u16>,
    /// Report format [default: text on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Also write every hit and unknown code as a JSON line to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Exit with status 1 when any hit in these categories was found.
    #[arg(long, value_name = "CATEGORY[,...]", value_delimiter = ',', value_parser = parse_category)]
    pub fail_on: Vec<Category>,
    /// Follow symbolic links while walking directories (as `rg -L`).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// How many codes the text report lists, most frequent first, in its
    /// top-codes table and in its unknown-codes list each; the rest are
    /// counted in an `... and N more` line (0: none listed, all counted).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Colour in the text report: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Read plain files with read(2) instead of memory-mapping them. Use it
    /// for files that may shrink while they are scanned (a live log under
    /// copytruncate): a mapped file that is truncated under the scan ends
    /// the process with SIGBUS, as with any tool that maps files.
    #[arg(long)]
    pub no_mmap: bool,
    /// Plain files at least this large are memory-mapped (smaller ones are
    /// cheaper to read; tests set 0 to map everything).
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, hide = true)]
    pub mmap_min_bytes: u64,
    /// Size of each file's read buffer (tests use tiny ones to put codes
    /// across buffer boundaries).
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, hide = true)]
    pub buffer_bytes: usize,
    /// With more than one thread, a mapped plain file larger than this is
    /// split among the threads in chunks of this size (tests use tiny ones
    /// to put codes across split points).
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..), hide = true)]
    pub chunk_bytes: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartFrom {
    End,
    Beginning,
}

#[derive(Args, Debug)]
pub struct TailArgs {
    /// Files, directories (the files directly in them) or globs to follow
    /// (quote globs so faultline, not the shell, expands them: files that
    /// appear later are picked up); `-` follows stdin until it ends.
    #[arg(value_name = "PATH|GLOB", required_unless_present = "kafka_brokers")]
    pub paths: Vec<PathBuf>,
    /// Where to start in files that exist at start-up when there is no
    /// saved state; files that appear later are always read from their
    /// beginning.
    #[arg(long, value_enum, default_value_t = StartFrom::End)]
    pub from: StartFrom,
    /// Length of a summary window.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    /// Where summaries go: a file (appended to), `-` for stdout, or an
    /// http:// or https:// URL that each summary is POSTed to as JSON
    /// (retried with backoff; a slow or dead endpoint never delays reading:
    /// beyond a bounded queue the oldest summaries are dropped and counted).
    #[arg(long, value_name = "FILE|-|URL", default_value = "-")]
    pub summaries: String,
    /// Summaries queued at most for a URL (tests shrink it).
    #[arg(long, value_name = "N", default_value_t = faultline::sink::post::PostConfig::DEFAULT_QUEUE, hide = true)]
    pub summaries_queue: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics. Without a host
    /// (`:9464`) it is loopback only; give the address to serve others,
    /// e.g. 0.0.0.0:9464 for every interface.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<faultline::metrics::MetricsAddr>,
    /// Also write every hit as a JSON line, with the time it was found.
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Save positions and totals here, to resume exactly after a restart.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Set aside an unreadable saved state (kept as checkpoint.json.corrupt)
    /// and start again from zero.
    #[arg(long, requires = "state_dir")]
    pub reset_state: bool,
    /// How often to look at every file even without a file-system event
    /// (a safety net for file systems that miss events).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub poll_interval: std::time::Duration,
    /// Do not ask the kernel for file-system events; find changes by the
    /// poll alone (for network file systems that deliver none). Latency is
    /// then up to one --poll-interval.
    #[arg(long)]
    pub no_file_events: bool,
    /// Read Kafka instead of files, as a member of the consumer group
    /// --kafka-group: the brokers to start from. Needs --state-dir, where
    /// this instance keeps its exact share of the group's totals.
    #[arg(long, value_name = "HOST:PORT[,...]", conflicts_with = "paths",
          requires_all = ["kafka_topic", "kafka_group", "state_dir"])]
    pub kafka_brokers: Option<String>,
    /// The topics to read (with --kafka-brokers).
    #[arg(
        long,
        value_name = "TOPIC[,...]",
        value_delimiter = ',',
        requires = "kafka_brokers"
    )]
    pub kafka_topic: Vec<String>,
    /// The consumer group: instances with the same group share the
    /// topics' partitions (with --kafka-brokers).
    #[arg(long, value_name = "GROUP", requires = "kafka_brokers")]
    pub kafka_group: Option<String>,
    /// How long a silent instance keeps its partitions before the group
    /// gives them to others (with --kafka-brokers).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub kafka_session_timeout: std::time::Duration,
    /// Tests only: die (abort) in the middle of the first commit, after
    /// saving the state (`save`) or after committing to Kafka (`commit`).
    #[arg(long, value_enum, hide = true)]
    pub kafka_crash_at: Option<CrashAt>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashAt {
    Save,
    Commit,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d =
        humantime::parse_duration(s).map_err(|e| format!("{e}; write e.g. 10s, 500ms or 1m"))?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

fn parse_category(s: &str) -> Result<Category, String> {
    s.trim()
        .parse()
        .map_err(|e: faultline::catalog::UnknownCategory| e.to_string())
}

/// A category chosen from its listed values (help shows all seven).
fn category_values() -> impl clap::builder::TypedValueParser<Value = Category> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Category::ALL.map(Category::as_str))
        // The parser only lets Category names through, so parsing succeeds.
        .map(|s| {
            s.parse::<Category>()
                .expect("a possible value is a category")
        })
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Codes to explain, e.g. Ecs.0013.
    #[arg(value_name = "CODE", required = true)]
    pub codes: Vec<String>,
    /// Output format: text for people, json (an array of catalog entries)
    /// for programs.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Parse the vendor documents into the catalog.
    #[command(after_help = "\
Examples:
  faultline catalog build
  faultline catalog build --sources my-docs/ -o my-catalog.json")]
    Build {
        /// Directory of vendor documents, with their documents.json manifest.
        #[arg(long, value_name = "DIR", default_value = "catalog/sources")]
        sources: PathBuf,
        /// Where to write the catalog (`-`: stdout).
        #[arg(
            short,
            long,
            value_name = "FILE",
            default_value = "catalog/catalog.json"
        )]
        output: PathBuf,
    },
    /// Validate a catalog or user catalog; report every problem by entry and field.
    #[command(after_help = "\
Examples:
  faultline catalog check   # the built-in catalog and any --catalog files
  faultline catalog check my-codes.json")]
    Check {
        /// A catalog file; without it, the built-in catalog and the --catalog files are checked.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Print the whole catalog.
    #[command(after_help = "\
Examples:
  faultline catalog export --format json > catalog.json
  faultline catalog export --format csv > catalog.csv")]
    Export {
        /// Output format: json (the catalog file's own format) or csv.
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
    /// List codes, one a line, optionally of one service or category.
    #[command(after_help = "\
Examples:
  faultline catalog list --service CSBS
  faultline catalog list --category retry")]
    List {
        /// Only codes of this service, as the catalog names it (e.g. ECS, CSBS).
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
        /// Only codes of this remedy category.
        #[arg(long, value_name = "CATEGORY", value_parser = category_values())]
        category: Option<Category>,
    },
    /// Everything about one code, and why it has its category.
    #[command(after_help = "Example:\n  faultline catalog show BackupService.6133")]
    Show {
        /// The code, as the catalog spells it (codes are case-sensitive).
        #[arg(value_name = "CODE")]
        code: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fail_on_takes_a_comma_list_of_categories() {
        let cli = Cli::try_parse_from(["faultline", "scan", "--fail-on", "quota,access", "x.log"])
            .unwrap();
        let Command::Scan(args) = cli.command else {
            panic!("not scan")
        };
        assert_eq!(args.fail_on, [Category::Quota, Category::Access]);
        let err =
            Cli::try_parse_from(["faultline", "scan", "--fail-on", "quota,oops"]).unwrap_err();
        assert!(
            err.to_string().contains("unknown category \"oops\""),
            "{err}"
        );
    }
}
