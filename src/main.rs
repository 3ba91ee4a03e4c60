//! Thin entry point: parse the command line, run the command, print errors, pick the exit
//! code (0 ok, 1 content errors, 2 usage or internal errors).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = scalebook::cli::Cli::parse();
    match scalebook::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
