//! The `netsession-scan` command: a thin CLI over the library.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use netsession_scan::output::{self, Format};
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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Evidence CSV (DESIGN.md columns)
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// Find the traces of the Akamai NetSession Client in evidence, offline.
///
/// INPUT may be a mounted disk image or triage collection (a directory), or a registry
/// hive file (any name; its transaction logs beside it are used), or a disk image
/// (raw/dd of a disk or volume, split raw .001..., E01 with its segments): every NTFS
/// volume in it is scanned.
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
    #[arg(short, long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,

    /// Extra rules, same format as the embedded catalog (may be repeated)
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,

    /// Skip content hashing
    #[arg(long)]
    no_hash: bool,

    /// Most bytes of one text file read for log lines and indicators (the hash always
    /// covers the whole file)
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_text_bytes: usize,

    /// No progress, no summary
    #[arg(short, long)]
    quiet: bool,
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
        if !netsession_scan::guard::active() {
            default_hook(info);
        }
    }));
    let cli = Cli::parse();
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
    let inputs =
        netsession_scan::detect_inputs(&cli.inputs).map_err(|e| UsageError(e.to_string()))?;
    let catalog = Catalog::with_extra_files(&cli.catalog).map_err(|e| UsageError(e.to_string()))?;

    // Open the output before the scan, so a bad path fails at once, and never inside
    // the evidence.
    let sink: Box<dyn Write> = match cli.output.as_deref() {
        None => Box::new(BufWriter::new(io::stdout().lock())),
        Some(p) if p == Path::new("-") => Box::new(BufWriter::new(io::stdout().lock())),
        Some(p) => {
            refuse_inside_evidence(p, &cli.inputs)?;
            let file = File::create(p)
                .map_err(|e| UsageError(format!("{}: cannot create: {e}", p.display())))?;
            Box::new(BufWriter::new(file))
        }
    };

    let warnings = Warnings::with_listener(|w| eprintln!("{w}"));
    let options = AnalysisOptions {
        hash: !cli.no_hash,
        text_cap: cli.max_text_bytes,
    };
    let report = netsession_scan::scan(&inputs, &catalog, &options, &warnings);

    let mut writer = output::writer_for(cli.format.into(), sink);
    writer
        .write_rows(&report.rows)
        .context("cannot write the evidence file")?;
    drop(writer);

    if !cli.quiet {
        eprint!("{}", output::summary::render(&report));
    }
    Ok(())
}

/// Evidence is never written to: refuse an output path inside an input directory.
fn refuse_inside_evidence(output: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(out_dir) = parent.canonicalize() else {
        return Ok(()); // File::create will report a missing folder.
    };
    for input in inputs {
        if let Ok(root) = input.canonicalize()
            && root.is_dir()
            && out_dir.starts_with(&root)
        {
            return Err(UsageError(format!(
                "{}: refusing to write the evidence file inside the input {}",
                output.display(),
                input.display()
            ))
            .into());
        }
    }
    Ok(())
}
