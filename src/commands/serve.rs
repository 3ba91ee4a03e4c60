//! `scalebook serve`: not written yet.

use crate::cli::ServeArgs;
use anyhow::{bail, Result};
use std::process::ExitCode;

pub fn run(_a: ServeArgs) -> Result<ExitCode> {
    bail!("`scalebook serve` is not implemented yet")
}
