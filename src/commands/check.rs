//! `scalebook check`: build the whole site in memory, write nothing, report every problem
//! in the chosen format on stdout. Exit code 0 clean, 1 on any error (or, with `--strict`,
//! any warning), 2 on usage errors (clap) or when the check itself could not run.

use crate::check::{self, external, Summary};
use crate::cli::{CheckArgs, CheckFormat};
use crate::config::BuildOptions;
use crate::diagnostics::{self, Diagnostic};
use crate::output::Discard;
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(a: CheckArgs) -> Result<ExitCode> {
    let (diags, pages) = match BuildOptions::for_root(&a.site.root) {
        Ok(mut opts) => {
            opts.drafts = a.drafts;
            // "Writes nothing" includes the highlight cache; and nobody reads the HTML.
            opts.no_cache = true;
            opts.diagnostics_only = true;
            collect(&opts, &a)?
        }
        // An invalid scalebook.toml is a problem of the site, reported like the others so
        // CI annotations show it too.
        Err(e) => (
            vec![Diagnostic::error(
                "config",
                crate::config::CONFIG_FILE,
                format!("{e:#}"),
            )],
            0,
        ),
    };
    let summary = Summary::of(pages, &diags);
    let text = match a.format {
        CheckFormat::Human => check::human(&diags, summary),
        CheckFormat::Json => check::json(&diags, summary),
        CheckFormat::Github => check::github(&diags),
        CheckFormat::Sarif => check::sarif(&diags),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if summary.failed(a.strict) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The build's diagnostics plus the check-only rules, sorted; and the number of pages.
fn collect(opts: &BuildOptions, a: &CheckArgs) -> Result<(Vec<Diagnostic>, usize)> {
    let report = crate::site::build(opts, &Discard)?;
    let mut diags = report.diagnostics;
    diags.extend(check::never_drilled(&report.page_facts));
    let scan = check::scan(opts, a.external);
    diags.extend(scan.diagnostics);
    if a.external && !scan.external_links.is_empty() {
        let ext = external::Options {
            timeout: Duration::from_secs(a.timeout.max(1)),
            ..Default::default()
        };
        diags.extend(external::check(&scan.external_links, &ext));
    }
    diagnostics::sort(&mut diags);
    diags.dedup();
    Ok((diags, report.pages))
}
