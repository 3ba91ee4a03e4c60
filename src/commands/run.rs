//! `scalebook run`: not written yet.

use crate::cli::RunArgs;
use anyhow::{bail, Result};
use std::process::ExitCode;

pub fn run(_a: RunArgs) -> Result<ExitCode> {
    bail!("`scalebook run` is not implemented yet")
}
