//! `scalebook check`: not written yet.

use crate::cli::CheckArgs;
use anyhow::{bail, Result};
use std::process::ExitCode;

pub fn run(_a: CheckArgs) -> Result<ExitCode> {
    bail!("`scalebook check` is not implemented yet")
}
