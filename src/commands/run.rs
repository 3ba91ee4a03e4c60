//! `scalebook run`: turn the flags into [`RunOptions`], set up the terminal and signals, run
//! the checklist, pick the exit code (0 done or quit, 1 drill failed or cancelled, 2 errors).

use crate::cli::RunArgs;
use crate::runner::exec::Signals;
use crate::runner::ui::Term;
use crate::runner::{self, Ending, Mode, RunOptions};
use anyhow::{bail, Result};
use std::io::IsTerminal;
use std::process::ExitCode;

pub fn options(a: RunArgs) -> Result<RunOptions> {
    let mut params = Vec::new();
    for p in &a.params {
        let Some((k, v)) = p.split_once('=') else {
            bail!("`--param {p}`: expected NAME=VALUE");
        };
        params.push((k.trim().to_string(), v.to_string()));
    }
    if a.dry_run && a.record {
        bail!("`--record` needs a real drill; it cannot be combined with `--dry-run`");
    }
    let mode = if a.dry_run {
        Mode::DryRun
    } else if a.drill {
        Mode::Drill { record: a.record }
    } else {
        Mode::Interactive
    };
    let dir = match a.dir {
        Some(d) if !d.is_dir() => bail!("--dir {}: not a folder", d.display()),
        Some(d) => d,
        None => std::env::current_dir()?,
    };
    let operator = a
        .operator
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|s| !s.is_empty());
    Ok(RunOptions {
        root: a.site.root,
        playbook: a.playbook,
        params,
        name: a.name.filter(|n| !n.is_empty()),
        operator,
        resume: a.resume,
        out: a.out,
        log: a.log,
        dir,
        yes: a.yes,
        mode,
        timeout: a.timeout,
    })
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let opts = options(a)?;
    let stdout = std::io::stdout();
    let color = stdout.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb");
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80);
    let signals = match opts.mode {
        Mode::DryRun => None,
        _ => Some(Signals::install()?),
    };
    let mut input = std::io::stdin().lock();
    let mut out = stdout.lock();
    let mut term = Term::new(&mut input, &mut out, color, width);
    Ok(match runner::run(&opts, &mut term, signals.as_ref())? {
        Ending::Quit | Ending::Finished | Ending::DryRun | Ending::DrillPassed => ExitCode::SUCCESS,
        Ending::DrillFailed | Ending::Cancelled => ExitCode::from(1),
    })
}
