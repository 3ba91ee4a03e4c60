//! `scalebook serve`: resolve options, start the dev server, print each rebuild, block.
//!
//! Ctrl-C ends the process with the default signal handling: the server writes nothing but
//! the highlight cache, which is replaced atomically, so there is nothing to clean up.

use crate::cli::ServeArgs;
use crate::config::BuildOptions;
use crate::diagnostics::Diagnostic;
use crate::serve::{Log, ServeOptions, Server};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let mut build = BuildOptions::for_root(&a.site.root)?;
    build.drafts = a.drafts;
    let mut opts = ServeOptions::new(build);
    opts.bind = a.bind;
    opts.port = a.port;
    opts.log = Arc::new(print_log);
    let server = Server::start(opts)?;
    eprintln!("serving {} (Ctrl-C to stop)", server.url());
    if !a.bind.is_loopback() {
        eprintln!(
            "note: listening on {}, so other machines on your network can read the site",
            a.bind
        );
    }
    if a.open {
        open_browser(server.url());
    }
    server.wait();
    Ok(ExitCode::SUCCESS)
}

fn print_log(log: &Log) {
    match log {
        Log::Built {
            elapsed,
            pages,
            warnings,
            changed,
        } => {
            print_diags(warnings);
            eprintln!(
                "{} {} page{} in {} ms{}{}",
                if changed.is_empty() {
                    "built"
                } else {
                    "rebuilt"
                },
                pages,
                super::build::plural(*pages),
                elapsed.as_millis(),
                match warnings.len() {
                    0 => String::new(),
                    n => format!(", {n} warning{}", super::build::plural(n)),
                },
                cause(changed)
            );
        }
        Log::Failed {
            elapsed,
            diagnostics,
            changed,
        } => {
            print_diags(diagnostics);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "build failed in {} ms: {errors} error{}{}; still serving the last good site",
                elapsed.as_millis(),
                super::build::plural(errors),
                cause(changed)
            );
        }
    }
}

fn print_diags(diags: &[Diagnostic]) {
    super::print_diagnostics(diags);
}

fn cause(changed: &[PathBuf]) -> String {
    match changed {
        [] => String::new(),
        [one] => format!(" (changed: {})", crate::diagnostics::display_path(one)),
        [first, rest @ ..] => format!(
            " (changed: {} and {} more)",
            crate::diagnostics::display_path(first),
            rest.len()
        ),
    }
}

/// Asks the desktop to open `url`; says so and carries on when it cannot.
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reap it so no zombie stays behind.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(_) => {
            eprintln!("note: could not run `{program}` to open a browser; open {url} yourself")
        }
    }
}
