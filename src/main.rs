//! The `netsession-scan` command: a thin CLI over the library.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use netsession_scan::output::{self, Format};
use netsession_scan::progress::Progress;
use netsession_scan::{AnalysisOptions, Catalog, Warnings};

const EXAMPLES: &str = "\
Examples:
  netsession-scan /mnt/evidence/C -o evidence.csv
      scan a mounted volume (mount it read-only) and write the evidence CSV
  netsession-scan triage/ > evidence.csv
      scan a triage collection holding C/Users/..., mnt/c/Windows/... or similar
  netsession-scan --catalog case-rules.toml --no-hash /mnt/c
      add rules of your own, skip hashing
  netsession-scan SYSTEM SOFTWARE NTUSER.DAT UsrClass.dat Amcache.hve
      analyse exported hives of one machine together (logs beside them are replayed)
  netsession-scan case/disk.E01
      read an E01 (all segments) directly: partitions, NTFS, hives inside

Exit status: 0 when the scan completed (warnings allowed), 2 when an input
cannot be opened or recognised or the command line is wrong, 1 on other errors.";

/// `--csv FILE`, `--jsonl FILE`, ...: one option per output format, made from
/// [`Format::ALL`].
#[derive(Debug, Default)]
struct AlsoWrite(Vec<(Format, PathBuf)>);

impl clap::FromArgMatches for AlsoWrite {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(AlsoWrite(
            Format::ALL
                .iter()
                .filter_map(|f| {
                    matches
                        .get_one::<PathBuf>(f.name())
                        .map(|p| (*f, p.clone()))
                })
                .collect(),
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for AlsoWrite {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Format::ALL.iter().fold(cmd, |cmd, format| {
            cmd.arg(
                clap::Arg::new(format.name())
                    .long(format.name())
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(format.also_help()),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Find the traces of the Akamai NetSession Client in evidence, offline.
///
/// INPUT may be a mounted disk image or triage collection (a directory), a collection
/// archive (ZIP, tar, tar.gz: read in place), a registry hive file (any name; its
/// transaction logs beside it are used), a Windows event log (.evtx), a disk image
/// (raw/dd of a disk or volume, split raw .001..., E01 with its segments, VHD, VHDX,
/// VMDK): every NTFS volume in it is scanned; or a collected $MFT (its $Extend/$J beside
/// it is read too).
#[derive(Debug, Parser)]
#[command(name = "netsession-scan", version, after_help = EXAMPLES)]
struct Cli {
    /// Evidence to scan
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Evidence file; '-' or absent = stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Csv)]
    format: Format,

    /// Extra rules, same format as the embedded catalog (may be repeated)
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,

    /// Skip content hashing
    #[arg(long)]
    no_hash: bool,

    /// Do not read the Volume Shadow Copies of NTFS volumes in images (read by default:
    /// each snapshot is scanned as a volume of its own, rows it shares with the live
    /// volume are not repeated)
    #[arg(long)]
    no_vss: bool,

    /// Most bytes of one text file read for log lines and indicators (the hash always
    /// covers the whole file)
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_text_bytes: usize,

    #[command(flatten)]
    also: AlsoWrite,

    /// Write the verdict as Markdown to FILE, after a header (tool, command line, UTC
    /// start and end, inputs with sizes, rows per artifact, warnings)
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,

    /// Write the verdict as JSON to FILE (per volume and user: install state, versions,
    /// install and removal times, firewall per profile, upload figures, with row counts;
    /// schema in README)
    #[arg(long, value_name = "FILE")]
    verdict_json: Option<PathBuf>,

    /// Write a JSON manifest (tool, command line, times, inputs, catalog, outputs with
    /// hashes, counts, warnings) to FILE
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,

    /// In the manifest, give the SHA-256 of every input file (E01 segments, hives and
    /// their logs...), of each file of a directory input that produced a row, and an E01's
    /// stored MD5/SHA-1 against its media data: reads them all once more
    #[arg(long, requires = "manifest")]
    hash_inputs: bool,

    /// Folder for rows waiting to be sorted when they pass --sort-memory (default: the
    /// system's temporary folder; never inside the evidence)
    #[arg(long, value_name = "DIR")]
    temp_dir: Option<PathBuf>,

    /// Memory for evidence rows before they are sorted on disk, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    sort_memory: u64,

    /// Zone of local times (texts without a zone, ZIP DOS times, local report headers)
    /// where the evidence's own SYSTEM hive states none: an IANA name (Europe/Berlin) or
    /// an offset (+01:00)
    #[arg(long, value_name = "ZONE", value_parser = |s: &str| netsession_scan::SourceZone::parse(s))]
    source_tz: Option<netsession_scan::SourceZone>,

    /// Password for encrypted ZIP entries (ZipCrypto or AES); without it a ZIP whose
    /// every entry is encrypted is refused, and encrypted entries of others are skipped
    /// with a warning each
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,

    /// No progress, no summary, no verdict
    #[arg(short, long)]
    quiet: bool,

    /// Replace output files that exist (without it an existing file is an error)
    #[arg(long)]
    force: bool,

    /// Print a completion script for SHELL to stdout and exit (no INPUT needed)
    #[arg(long, value_name = "SHELL", exclusive = true)]
    completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) to stdout and exit (no INPUT needed)
    #[arg(long, exclusive = true)]
    man: bool,
}

/// `--completions SHELL` and `--man`: made from the clap definitions above, printed to
/// stdout. `None` when neither was asked for.
fn print_generated(cli: &Cli) -> Option<ExitCode> {
    use clap::CommandFactory;
    let mut text = Vec::new();
    if let Some(shell) = cli.completions {
        clap_complete::generate(shell, &mut Cli::command(), "netsession-scan", &mut text);
    } else if cli.man {
        if let Err(err) = clap_mangen::Man::new(Cli::command()).render(&mut text) {
            eprintln!("netsession-scan: error: making the man page: {err}");
            return Some(ExitCode::from(1));
        }
    } else {
        return None;
    }
    match io::stdout().lock().write_all(&text) {
        Ok(()) => Some(ExitCode::SUCCESS),
        Err(err) => {
            eprintln!("netsession-scan: error: writing to stdout: {err}");
            Some(ExitCode::from(1))
        }
    }
}

/// An error the CLI reports with exit status 2: bad invocation or unusable input.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    // Damaged hives can make nt-hive assert; the registry analysis catches that and
    // reports a warning, so the panic's own message would only be noise.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !netsession_scan::panic_is_handled() {
            default_hook(info);
        }
    }));
    let cli = Cli::parse();
    if let Some(code) = print_generated(&cli) {
        return code;
    }
    // Ctrl-C or SIGTERM: no partial output and no temporary rows of evidence stay.
    let _ = ctrlc::set_handler(|| {
        netsession_scan::cleanup::remove_all();
        eprintln!("netsession-scan: interrupted; partial outputs and temporary rows removed");
        std::process::exit(130);
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("netsession-scan: error: {message}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let started = now_utc();
    let inputs = netsession_scan::detect_inputs_with_password(&cli.inputs, cli.password.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let catalog = Catalog::with_extra_files(&cli.catalog).map_err(|e| UsageError(e.to_string()))?;

    // Open every output before the scan, so a bad path fails at once, and never inside
    // the evidence.
    let evidence_files: Vec<PathBuf> = inputs
        .iter()
        .flat_map(netsession_scan::manifest::input_files)
        .collect();
    // Each file output is written under a temporary name beside it and renamed when
    // every output is complete: a failure or an interruption leaves none half-written.
    let mut pending = Vec::new();
    let mut outputs = Vec::new();
    for (path, format) in output_targets(&cli)? {
        let sink = open_sink(path.as_deref(), &cli, &evidence_files, &mut pending)?;
        outputs.push((path, format, sink));
    }
    let mut create = |path: &Option<PathBuf>| -> anyhow::Result<Option<(PathBuf, File)>> {
        let Some(path) = path else {
            return Ok(None);
        };
        let file = create_output(path, &cli, &evidence_files, &mut pending)?;
        Ok(Some((path.clone(), file)))
    };
    let report_file = create(&cli.report)?;
    let verdict_json_file = create(&cli.verdict_json)?;
    let manifest_file = create(&cli.manifest)?;
    // The default temporary folder too: scanning `/` or `/tmp` must not put runs inside
    // the evidence.
    let temp_dir = cli.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    refuse_temp_dir_in_evidence(&temp_dir, &cli.inputs, cli.temp_dir.is_none())?;
    let store = netsession_scan::StoreOptions {
        memory_budget: usize::try_from(cli.sort_memory * 1024 * 1024).unwrap_or(usize::MAX),
        temp_dir: Some(temp_dir),
    };

    let progress = Arc::new(TerminalProgress::new(
        !cli.quiet && io::stderr().is_terminal(),
    ));
    let listener = Arc::clone(&progress);
    let warnings = Warnings::with_listener(move |w| listener.println(&w.to_string()));
    let options = AnalysisOptions {
        hash: !cli.no_hash,
        text_cap: cli.max_text_bytes,
        source_tz: cli.source_tz.clone(),
        shadow_copies: !cli.no_vss,
    };
    let mut report = netsession_scan::scan_with_progress(
        &inputs, &catalog, &options, &store, &warnings, &*progress,
    );
    progress.done();

    // One pass over the sorted rows feeds every output and the verdict (only when
    // someone will read it).
    let ahead = output::RowsAhead::of(report.rows.counts());
    let mut writers: Vec<_> = outputs
        .into_iter()
        .map(|(path, format, sink)| (path, format, output::writer_for(format, sink, ahead)))
        .collect();
    let mut verdict = (!cli.quiet || report_file.is_some() || verdict_json_file.is_some())
        .then(netsession_scan::verdict::VerdictBuilder::new);
    // Every shadow copy read is a volume of the verdict, with a row of its own or none.
    if let Some(verdict) = verdict.as_mut() {
        for read in report.rows.snapshots() {
            verdict.snapshot(&read.source, read.repeated, read.warnings);
        }
    }
    progress.stage("writing the evidence", Some(report.rows.len()));
    let mut since_tick = 0u64;
    let mut each_row = |row: &netsession_scan::EvidenceRow| -> io::Result<()> {
        since_tick += 1;
        if since_tick == 4096 {
            progress.advance(since_tick);
            since_tick = 0;
        }
        for (_, format, writer) in writers.iter_mut() {
            writer
                .write_row(row)
                .map_err(|e| output_error(*format, e))?;
        }
        if let Some(verdict) = verdict.as_mut() {
            verdict.add(row);
        }
        Ok(())
    };
    // The manifest reads the rows again to hash the files behind them; otherwise this
    // is the last reading, and the temporary runs give their space back as it goes.
    if cli.hash_inputs {
        report.rows.visit(&mut each_row)
    } else {
        report.rows.visit_last(&mut each_row)
    }
    .context("writing the outputs")?;
    progress.done();
    let mut written = Vec::new();
    let mut to_stdout = Vec::new();
    // The manifest hashes the outputs under their final names: the others are complete
    // and renamed first, the manifest last.
    let mut manifest_pending = None;
    for (path, format, mut writer) in writers {
        writer
            .finish()
            .map_err(|e| output_error(format, e))
            .context("writing the outputs")?;
        drop(writer);
        match path {
            Some(path) => written.push((path, format.name())),
            None => to_stdout.push(format.name()),
        }
    }
    let verdict = verdict.map(|v| v.finish());
    let command_line: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let finished = now_utc();
    let run = netsession_scan::verdict::report::ReportRun {
        command_line: &command_line,
        started: &started,
        finished: &finished,
        inputs: &inputs,
        counts: report.rows.counts(),
        warnings: &report.warnings,
    };
    if let Some((path, mut file)) = report_file {
        let markdown = verdict
            .as_ref()
            .map(|v| netsession_scan::verdict::report::markdown_report(&run, v))
            .unwrap_or_default();
        file.write_all(markdown.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write the report {}", path.display()))?;
        written.push((path, "report (Markdown)"));
    }
    if let Some((path, mut file)) = verdict_json_file
        && let Some(verdict) = &verdict
    {
        let json = netsession_scan::verdict::json::verdict_json(&run, verdict);
        write_json(&mut file, &json)
            .with_context(|| format!("cannot write the verdict {}", path.display()))?;
        written.push((path, "verdict (JSON)"));
    }
    for p in pending {
        if cli.manifest.as_deref() == Some(p.target()) {
            manifest_pending = Some(p);
        } else {
            p.commit().context("finishing the outputs")?;
        }
    }
    if let Some((path, mut file)) = manifest_file {
        let outputs = written
            .iter()
            .map(|(p, format)| {
                let mut record = netsession_scan::manifest::describe_file(p, true);
                record.format = Some(format.to_string());
                record
            })
            .chain(
                to_stdout
                    .iter()
                    .map(|f| netsession_scan::manifest::stdout_record(f)),
            )
            .collect();
        let manifest = netsession_scan::manifest::build(netsession_scan::manifest::ManifestParts {
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            started,
            finished: now_utc(),
            inputs: &inputs,
            hash_inputs: cli.hash_inputs,
            extra_catalogs: &cli.catalog,
            outputs,
            report: &report,
            progress: &*progress,
        });
        progress.done();
        // Said even with --quiet: the image is not what its acquisition recorded.
        for input in &manifest.inputs {
            if let Some(media) = input.media_hashes.as_ref().filter(|m| m.is_a_problem()) {
                eprintln!(
                    "netsession-scan: warning: {}: {}",
                    input.path,
                    media.summary()
                );
            }
        }
        write_json(&mut file, &manifest)
            .with_context(|| format!("cannot write the manifest {}", path.display()))?;
    }
    if let Some(p) = manifest_pending {
        p.commit().context("finishing the outputs")?;
    }

    if !cli.quiet {
        eprint!(
            "{}",
            output::summary::render(&report.stats, report.rows.counts(), report.warnings.len())
        );
        if let Some(verdict) = &verdict {
            eprint!("{}", verdict.to_text());
        }
    }
    Ok(())
}

/// The evidence outputs: `-o`/`-f` (stdout when no file is named), then each
/// `--csv`/`--jsonl`/`--bodyfile`. Two outputs may not share a file.
fn output_targets(cli: &Cli) -> anyhow::Result<Vec<(Option<PathBuf>, Format)>> {
    let main = cli.output.clone().filter(|p| p.as_path() != Path::new("-"));
    let mut targets = vec![(main, cli.format)];
    for (format, path) in &cli.also.0 {
        let path = (path.as_path() != Path::new("-")).then(|| path.clone());
        targets.push((path, *format));
    }
    let mut seen: Vec<&Option<PathBuf>> = Vec::new();
    for (path, _) in &targets {
        if seen.contains(&path) {
            let name = path
                .as_ref()
                .map_or("standard output".to_string(), |p| p.display().to_string());
            return Err(UsageError(format!("{name}: named for two outputs")).into());
        }
        seen.push(path);
    }
    Ok(targets)
}

fn open_sink(
    path: Option<&Path>,
    cli: &Cli,
    evidence_files: &[PathBuf],
    pending: &mut Vec<output::pending::PendingFile>,
) -> anyhow::Result<Box<dyn Write>> {
    // Written on a thread of their own, beside the merge that makes the rows.
    let Some(path) = path else {
        return Ok(Box::new(output::background::BackgroundWriter::new(
            io::stdout(),
        )));
    };
    let file = create_output(path, cli, evidence_files, pending)?;
    Ok(Box::new(output::background::BackgroundWriter::new(file)))
}

/// An output file, never inside the evidence, never replacing a file without --force,
/// written under a temporary name until [`output::pending::PendingFile::commit`].
fn create_output(
    path: &Path,
    cli: &Cli,
    evidence_files: &[PathBuf],
    pending: &mut Vec<output::pending::PendingFile>,
) -> anyhow::Result<File> {
    refuse_inside_evidence(path, &cli.inputs, evidence_files)?;
    let (p, file) = output::pending::PendingFile::create(path, cli.force)
        .map_err(|e| UsageError(e.to_string()))?;
    pending.push(p);
    Ok(file)
}

/// `value` as pretty JSON and a newline, in one write (the file is not buffered: written
/// through serde_json, each token was a system call of its own).
fn write_json(file: &mut File, value: &impl serde::Serialize) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.flush()
}

/// Names the output a write error happened on.
fn output_error(format: Format, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("the {} output: {e}", format.name()))
}

/// Rows waiting to be sorted never go inside an input folder. `default`: the folder was
/// not named on the command line (the message then says how to name one).
fn refuse_temp_dir_in_evidence(
    dir: &Path,
    inputs: &[PathBuf],
    default: bool,
) -> anyhow::Result<()> {
    let dir = match dir.canonicalize() {
        Ok(dir) if dir.is_dir() => dir,
        // A missing system temporary folder costs nothing until rows must go to disk;
        // then the store warns and keeps them in memory.
        _ if default => return Ok(()),
        _ => {
            return Err(
                UsageError(format!("{}: --temp-dir is not a folder", dir.display())).into(),
            );
        }
    };
    if let Some(input) = input_folder_holding(&dir, inputs) {
        let hint = if default {
            " (the system's temporary folder; name another with --temp-dir)"
        } else {
            ""
        };
        return Err(UsageError(format!(
            "{}: refusing temporary files inside the input {}{hint}",
            dir.display(),
            input.display()
        ))
        .into());
    }
    Ok(())
}

/// The input folder that `dir` (canonical) lies in, if any.
fn input_folder_holding<'i>(dir: &Path, inputs: &'i [PathBuf]) -> Option<&'i PathBuf> {
    inputs.iter().find(|input| {
        input
            .canonicalize()
            .is_ok_and(|root| root.is_dir() && dir.starts_with(&root))
    })
}

fn now_utc() -> String {
    netsession_scan::Timestamp::from_system_time(std::time::SystemTime::now())
        .map(|t| t.to_iso8601())
        .unwrap_or_default()
}

/// A progress bar on stderr, only when stderr is a terminal (and not `-q`). Warnings
/// are printed above it.
struct TerminalProgress {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl TerminalProgress {
    fn new(enabled: bool) -> Self {
        TerminalProgress {
            enabled,
            bar: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One line on stderr, not mangled by the bar.
    fn println(&self, line: &str) {
        match self.lock().as_ref() {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = self.lock().take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn stage(&self, what: &str, total: Option<u64>) {
        self.start(what, total, "{pos}/{len}");
    }

    fn stage_bytes(&self, what: &str, total: Option<u64>) {
        self.start(what, total, "{bytes}/{total_bytes}");
    }

    fn advance(&self, units: u64) {
        if let Some(bar) = self.lock().as_ref() {
            bar.inc(units);
        }
    }
}

impl TerminalProgress {
    /// A new bar (or a spinner without a total), showing its counts as `counts` says.
    fn start(&self, what: &str, total: Option<u64>, counts: &str) {
        if !self.enabled {
            return;
        }
        let mut slot = self.lock();
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(&format!(
                    "{{msg}} [{{bar:30}}] {counts} ({{elapsed}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        *slot = Some(bar);
    }
}

/// Evidence is never written to: refuse an output path inside an input directory or on
/// a file the inputs consist of (an image, a segment, a hive or its log).
fn refuse_inside_evidence(
    output: &Path,
    inputs: &[PathBuf],
    evidence_files: &[PathBuf],
) -> anyhow::Result<()> {
    if let Ok(target) = output.canonicalize()
        && evidence_files
            .iter()
            .chain(inputs)
            .filter_map(|f| f.canonicalize().ok())
            .any(|f| f == target)
    {
        return Err(UsageError(format!(
            "{}: refusing to overwrite evidence",
            output.display()
        ))
        .into());
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(out_dir) = parent.canonicalize() else {
        return Ok(()); // File::create will report a missing folder.
    };
    if let Some(input) = input_folder_holding(&out_dir, inputs) {
        return Err(UsageError(format!(
            "{}: refusing to write the evidence file inside the input {}",
            output.display(),
            input.display()
        ))
        .into());
    }
    Ok(())
}
