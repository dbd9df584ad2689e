//! The command line: parse, find the site, run one command, map its outcome to an exit code.
//! Nothing below this module prints or exits.

mod args;
mod build;
mod check;
mod commit;
mod diff;
mod init;
mod live;
mod output;
mod seal;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

pub use args::{
    Args, ColorChoice, Command, DiffFormat, FailOn, Format, InitComponent, SecretsCommand,
};
pub(crate) use output::{Stream, color, paint_diff, stderr, stdout};

use crate::check::{Origin, SchemaLocation};
use crate::diagnostics::{self as diag, Diagnostic, Diagnostics};
use crate::sources::{SITE_FILE, Sources};

/// How a command ended; the one place exit codes are decided (and documented: README
/// "Exit codes", `casa-build --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done; no difference, up to date.
    Ok,
    /// 1: differences found (`diff`), or `out/` out of date (`build --check`).
    Differences,
    /// 2: the site is invalid (diagnostics were printed).
    Invalid,
    /// 2: `diff --fail-on danger` and the danger review found something the change
    /// destroys (the report says what).
    Danger,
    /// 3: the environment failed: no site found, schemas unreadable or broken, git, the
    /// cluster, I/O.
    Environment,
    /// 64: a usage error: unknown flag or subcommand, a missing or bad argument (sysexits'
    /// EX_USAGE; clap's own 2 would read as "invalid site").
    Usage,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Differences => 1,
            Outcome::Invalid | Outcome::Danger => 2,
            Outcome::Environment => 3,
            Outcome::Usage => 64,
        }
    }

    /// The outcome of a run that stopped on these diagnostics: trouble with the environment
    /// (a schema location, no site) outranks an invalid site, since the site could not be
    /// judged fully.
    pub fn of_errors(diags: &Diagnostics) -> Self {
        if diags
            .iter()
            .any(|d| d.is_error() && d.code.is_environment())
        {
            Outcome::Environment
        } else {
            Outcome::Invalid
        }
    }
}

/// The exit codes as `--help` shows them; the README's table says the same.
pub const EXIT_CODES: &str = "\
Exit codes:
  0   success: valid, written, up to date, no difference
  1   differences (diff) or out/ out of date (build --check)
  2   the site is invalid (every problem is printed, file:line:column), or diff
      --fail-on danger found what the change destroys
  3   the environment failed: no site.toml found, schemas unreadable or broken, git, the
      cluster, I/O
  64  usage error: unknown flag or subcommand, bad argument
A closed standard output (`casa-build check | head`) ends the output quietly; the exit code
is still the command's.

Schemas: every object is checked against JSON Schemas. The embedded catalog covers what the
built-in templates emit for Kubernetes 1.33 to 1.37; a folder in the kubeconform layout adds
to it and overrides it file by file. Precedence, first wins: --schemas DIR, then
CASA_SCHEMAS, then [site] schemas in site.toml, then the embedded catalog.

The site: --site DIR or --site DIR/site.toml; by default the nearest folder holding a
site.toml, from the working folder up (so commands work from instances/).";

pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            // --help and --version are clap "errors" printed to standard output.
            return ExitCode::from(if e.use_stderr() {
                Outcome::Usage.code()
            } else {
                Outcome::Ok.code()
            });
        }
    };
    match run(args) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            // The one redaction step: a URL's user-info, and control characters a path or a
            // server's message may hold, never reach the terminal raw.
            let message = crate::redact::Redactor::default().for_terminal(&format!("{e:#}"));
            let _ = writeln!(stderr(), "error: {message}");
            ExitCode::from(Outcome::Environment.code())
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    output::set_color(args.color);
    // Every command but `explain` and `schema` reads a site: find it first, the same way
    // for all of them.
    let site = match args.command.site() {
        Some(given) => match find_site(given) {
            Ok(dir) => Some(dir),
            Err(message) => {
                let d = Diagnostic::new(diag::NO_SITE, message).help(diag::NO_SITE.info().fix);
                let format = args.command.diagnostics_format();
                print_diagnostics(&Diagnostics::from(vec![d]), &Sources::new(), format)?;
                return Ok(Outcome::Environment);
            }
        },
        None => None,
    };
    let site = site.as_deref().unwrap_or(Path::new("."));
    match args.command {
        Command::Build {
            out,
            schemas,
            check,
            format,
            ..
        } => build::run(
            site,
            out.as_deref(),
            &user_schemas(schemas.schemas),
            check,
            format,
        ),
        Command::Check {
            format, schemas, ..
        } => check::run(site, &user_schemas(schemas.schemas), format),
        Command::Secrets {
            command: SecretsCommand::List { format, .. },
        } => seal::list(site, format),
        Command::Seal {
            cert,
            scope,
            location,
            ..
        } => seal::seal(site, cert.as_deref(), scope.as_deref(), &location),
        Command::Explain { code, format } => check::explain(code.as_deref(), format),
        Command::Completions { shell } => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "casa-build", &mut out);
            stdout().write_all(&out)?;
            Ok(Outcome::Ok)
        }
        Command::Man => {
            let cmd = <Args as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            stdout().write_all(&out)?;
            Ok(Outcome::Ok)
        }
        Command::Schema { out } => check::write_schemas(&out),
        Command::Diff {
            base,
            head,
            schemas,
            format,
            out_file,
            fail_on,
            live,
            kubeconfig,
            context,
            server_side,
            timeout,
            wait,
            ..
        } => {
            let schemas = user_schemas(schemas.schemas);
            match base.as_deref() {
                Some(base) => diff::run(&diff::Options {
                    site,
                    base,
                    head: head.as_deref(),
                    schemas: &schemas,
                    format,
                    out_file: out_file.as_deref(),
                    fail_on,
                }),
                None if live => live::run(live::LiveArgs {
                    site,
                    schemas: &schemas,
                    kubeconfig,
                    context,
                    server_side,
                    timeout,
                    wait,
                    format,
                    fail_on,
                }),
                // clap requires one of them; kept for a caller of `run` that builds `Args`.
                None => {
                    writeln!(stderr(), "error: diff needs --base REV or --live")?;
                    Ok(Outcome::Usage)
                }
            }
        }
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
            schemas: user_schemas(schemas),
        }),
        Command::Commit {
            message,
            all,
            paths,
            repo,
            schemas,
            ..
        } => commit::run(&commit::Options {
            site,
            repo: repo.as_deref(),
            schemas: &user_schemas(schemas.schemas),
            message: message.as_deref(),
            all,
            paths: &paths,
        }),
    }
}

/// The user's schema locations from the command line and the environment, in precedence
/// order (`[site] schemas` is added by the pipeline, from the site). An empty `CASA_SCHEMAS`
/// counts as unset, as CI systems set variables that are not configured to "".
pub(crate) fn user_schemas(flag: Option<PathBuf>) -> Vec<SchemaLocation> {
    let env = std::env::var_os("CASA_SCHEMAS").filter(|v| !v.is_empty());
    flag.map(|dir| SchemaLocation {
        dir,
        origin: Origin::Flag,
    })
    .into_iter()
    .chain(env.map(|dir| SchemaLocation {
        dir: PathBuf::from(dir),
        origin: Origin::Environment,
    }))
    .collect()
}

/// The site folder (or why there is none): `--site` as given (a folder, or the path of its `site.toml`), else the
/// nearest folder holding a `site.toml` from the working folder up, as git and cargo find
/// theirs. The answer is relative when the search went up (`..`), so messages stay short.
fn find_site(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        if path.is_file() {
            return match (path.file_name(), path.parent()) {
                (Some(name), Some(parent)) if name == SITE_FILE => {
                    Ok(if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent.to_owned()
                    })
                }
                _ => Err(format!(
                    "{} is not a site.toml: --site takes the site folder or its site.toml",
                    path.display()
                )),
            };
        }
        if !path.is_dir() {
            return Err(format!("no site folder at {}", path.display()));
        }
        if !path.join(SITE_FILE).is_file() {
            return Err(format!("no site.toml in {}", path.display()));
        }
        return Ok(path.to_owned());
    }
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot tell the working folder: {e}"))?;
    let mut up = PathBuf::from(".");
    for dir in cwd.ancestors() {
        if dir.join(SITE_FILE).is_file() {
            return Ok(up);
        }
        up = if up == Path::new(".") {
            PathBuf::from("..")
        } else {
            up.join("..")
        };
    }
    Err(format!(
        "no site.toml in {} or any folder above it",
        cwd.display()
    ))
}

/// Prints diagnostics: rendered to stderr as text, or as one JSON array on stdout.
pub(crate) fn print_diagnostics(
    diags: &Diagnostics,
    sources: &Sources,
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Text => {
            let text =
                crate::diagnostics::render_human_styled(diags, sources, color(Stream::Stderr));
            let mut err = stderr();
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
        Format::Json => print_json(diags, sources, serde_json::json!({}))?,
    }
    Ok(())
}

/// Prints a command's result as one JSON object on standard output: `schema_version`, the
/// command's own `fields`, and its diagnostics with their counts (README "JSON output").
pub(crate) fn print_json(
    diags: &Diagnostics,
    sources: &Sources,
    fields: serde_json::Value,
) -> anyhow::Result<()> {
    let mut object = serde_json::Map::new();
    object.insert("schema_version".into(), crate::JSON_SCHEMA_VERSION.into());
    if let serde_json::Value::Object(f) = fields {
        object.extend(f);
    }
    object.insert(
        "diagnostics".into(),
        crate::diagnostics::render_json(diags, sources),
    );
    object.insert("errors".into(), diags.errors().into());
    object.insert("warnings".into(), diags.warnings().into());
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(object))?;
    writeln!(stdout(), "{text}")?;
    Ok(())
}

/// Prints the diagnostics a run stopped on and says how it ends.
pub(crate) fn stopped(
    diags: &Diagnostics,
    sources: &Sources,
    format: Format,
) -> anyhow::Result<Outcome> {
    print_diagnostics(diags, sources, format)?;
    Ok(Outcome::of_errors(diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_documented() {
        let all = [
            Outcome::Ok,
            Outcome::Differences,
            Outcome::Invalid,
            Outcome::Environment,
            Outcome::Usage,
        ];
        let mut codes: Vec<u8> = all.iter().map(|o| o.code()).collect();
        codes.dedup();
        assert_eq!(codes, [0, 1, 2, 3, 64]);
        for code in codes {
            assert!(
                EXIT_CODES.contains(&format!("\n  {code:<3} ")),
                "exit code {code} is not in the help"
            );
        }
    }

    #[test]
    fn the_help_and_the_version_code_name_the_releases_the_catalog_carries() {
        let releases =
            crate::site::types::describe_releases(&crate::check::emitted::CATALOG_RELEASES);
        assert!(
            EXIT_CODES.contains(&format!("Kubernetes {releases};")),
            "{releases}"
        );
        assert!(
            diag::KUBERNETES_VERSION
                .info()
                .fix
                .contains(&format!("the embedded catalog: {releases}")),
            "{releases}"
        );
    }

    #[test]
    fn environment_codes_outrank_an_invalid_site() {
        let invalid = Diagnostics::from(vec![Diagnostic::new(diag::INVALID_VALUE, "x")]);
        assert_eq!(Outcome::of_errors(&invalid), Outcome::Invalid);
        let both = Diagnostics::from(vec![
            Diagnostic::new(diag::INVALID_VALUE, "x"),
            Diagnostic::new(diag::SCHEMAS_UNUSABLE, "y"),
        ]);
        assert_eq!(Outcome::of_errors(&both), Outcome::Environment);
        // A warning of an environment code does not end a run.
        let warning = Diagnostics::from(vec![
            Diagnostic::new(diag::SCHEMAS_UNUSABLE, "y")
                .severity(crate::diagnostics::Severity::Warning),
            Diagnostic::new(diag::INVALID_VALUE, "x"),
        ]);
        assert_eq!(Outcome::of_errors(&warning), Outcome::Invalid);
    }
}
