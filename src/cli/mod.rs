//! The command line: parse, run one command, map its outcome to an exit code. Nothing below
//! this module prints or exits.

mod args;
mod build;
mod check;
mod commit;
mod diff;
mod init;
mod live;
mod seal;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

pub use args::{Args, Command, DiffFormat, Format, InitComponent, SecretsCommand};

/// How a command ended; the one place exit codes are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done, nothing to report.
    Ok,
    /// 1: differences found (diff, `build --check`).
    Differences,
    /// 2: the input is invalid (diagnostics were printed).
    Invalid,
}

impl Outcome {
    fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Differences => 1,
            Outcome::Invalid => 2,
        }
    }
}

/// Trouble outside the input (I/O, git, cluster) ends with exit code 3.
const TROUBLE: u8 = 3;

pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            // clap's own exit codes: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(args) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(TROUBLE)
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Build {
            site,
            out,
            schemas,
            check,
            format,
        } => build::run(
            &site.site,
            out.as_deref(),
            schemas.as_deref(),
            check,
            format,
        ),
        Command::Check { site, format } => check::run(&site.site, format),
        Command::Secrets {
            command: SecretsCommand::List { site, format },
        } => seal::list(&site.site, format),
        Command::Seal {
            site,
            cert,
            scope,
            location,
        } => seal::seal(&site.site, cert.as_deref(), scope.as_deref(), &location),
        Command::Explain { code } => check::explain(&code),
        Command::Schema { out } => check::write_schemas(&out),
        Command::Diff {
            site,
            base,
            head,
            schemas,
            format,
            output,
            live,
            kubeconfig,
            context,
            server_side,
            timeout,
            wait,
        } => match base.as_deref() {
            Some(base) => diff::run(&diff::Options {
                site: &site.site,
                base,
                head: head.as_deref(),
                schemas: schemas.as_deref(),
                format,
                output: output.as_deref(),
            }),
            None if live => live::run(live::LiveArgs {
                site: &site.site,
                schemas: schemas.as_deref(),
                kubeconfig,
                context,
                server_side,
                timeout,
                wait,
                format,
            }),
            None => anyhow::bail!("diff needs --base REV or --live"),
        },
        Command::Init {
            dir,
            name,
            domain,
            kubernetes_version,
            components,
            tenant,
            lb_pool,
            storage_class,
            cert,
            repository,
            schemas,
        } => init::run(init::Answers {
            dir,
            name,
            domain,
            kubernetes_version,
            components,
            tenant,
            lb_pool,
            storage_class,
            cert,
            repository,
            schemas,
        }),
        Command::Commit {
            site,
            message,
            repo,
            schemas,
        } => commit::run(
            &site.site,
            repo.as_deref(),
            schemas.as_deref(),
            message.as_deref(),
        ),
    }
}

/// Prints diagnostics: rendered to stderr as text, or as one JSON array on stdout.
pub(crate) fn print_diagnostics(
    diags: &crate::diagnostics::Diagnostics,
    sources: &crate::sources::Sources,
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Text => {
            let text = crate::diagnostics::render_human(diags, sources);
            let mut err = std::io::stderr().lock();
            err.write_all(text.as_bytes())?;
            if diags.errors() > 0 || diags.warnings() > 0 {
                writeln!(
                    err,
                    "{} error(s), {} warning(s)",
                    diags.errors(),
                    diags.warnings()
                )?;
            }
        }
        Format::Json => {
            let json = crate::diagnostics::render_json(diags, sources);
            writeln!(
                std::io::stdout().lock(),
                "{}",
                serde_json::to_string_pretty(&json)?
            )?;
        }
    }
    Ok(())
}
