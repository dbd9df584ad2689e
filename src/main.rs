use std::process::ExitCode;

fn main() -> ExitCode {
    casa_build::cli::main()
}
