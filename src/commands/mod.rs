//! One module per subcommand: the only code that knows about flags, the terminal and exit
//! codes. Each turns its arguments into options and calls the library.

pub mod build;
pub mod check;
pub mod init;
pub mod new;
pub mod run;
pub mod serve;

use crate::cli::{Cli, Command};
use crate::diagnostics::Diagnostic;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Build(a) => build::run(a),
        Command::Init(a) => init::run(a),
        Command::New(a) => new::run(a),
        Command::Check(a) => check::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Run(a) => run::run(a),
    }
}

/// Prints diagnostics to stderr, errors first within each file.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}
