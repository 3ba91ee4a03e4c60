//! `scalebook build`: resolve options, build into a staging folder, publish on success.

use crate::cli::BuildArgs;
use crate::config::{normalize_base_url, BuildOptions};
use crate::output::Staging;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

pub fn options(a: &BuildArgs) -> Result<BuildOptions> {
    let mut opts = BuildOptions::for_root(&a.site.root)?;
    if let Some(u) = &a.base_url {
        opts.config.base_url = normalize_base_url(u)?;
    }
    if let Some(o) = &a.out {
        opts.out = o.clone();
    }
    opts.drafts = a.drafts;
    opts.no_cache = a.no_cache;
    check_out_dir(&opts)?;
    Ok(opts)
}

/// The output folder is replaced wholesale, so it must never be the site itself, one of its
/// parents, or the content folder.
fn check_out_dir(opts: &BuildOptions) -> Result<()> {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Canonicalise the longest existing prefix (the output may not exist yet).
        let mut existing = p.clone();
        let mut tail = Vec::new();
        while !existing.exists() {
            match (
                existing.file_name().map(|s| s.to_os_string()),
                existing.parent(),
            ) {
                (Some(name), Some(parent)) => {
                    tail.push(name);
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut c = existing.canonicalize().unwrap_or(existing);
        for t in tail.into_iter().rev() {
            c.push(t);
        }
        c
    };
    let out = abs(&opts.out);
    let root = abs(&opts.root);
    let content = abs(&opts.content_dir());
    // When the site root is its own content folder, the output may live inside it under its
    // configured name: discovery skips that folder.
    let skipped_inside = content == root
        && out.parent() == Some(root.as_path())
        && out
            .file_name()
            .is_some_and(|n| n == opts.config.output_dir.as_str());
    if root.starts_with(&out)
        || content.starts_with(&out)
        || (out.starts_with(&content) && !skipped_inside)
    {
        bail!(
            "refusing to use {} as the output folder: it would replace the site or its content (choose a folder such as {})",
            opts.out.display(),
            opts.root.join("public").display()
        );
    }
    Ok(())
}

pub fn run(a: BuildArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let opts = options(&a)?;
    let staging = Staging::begin(&opts.out)?;
    let report = crate::site::build(&opts, &staging)?;
    super::print_diagnostics(&report.diagnostics);
    if report.errors() > 0 {
        drop(staging);
        eprintln!(
            "build failed: {} error{}, {} warning{}; {} left as it was",
            report.errors(),
            plural(report.errors()),
            report.warnings(),
            plural(report.warnings()),
            opts.out.display()
        );
        return Ok(ExitCode::from(1));
    }
    staging.commit()?;
    if !a.quiet {
        eprintln!(
            "built {} page{} in {} section{} ({} warning{}{}) in {:.2}s -> {}",
            report.pages,
            plural(report.pages),
            report.sections,
            plural(report.sections),
            report.warnings(),
            plural(report.warnings()),
            match report.notices() {
                0 => String::new(),
                n => format!(", {n} note{}", plural(n)),
            },
            start.elapsed().as_secs_f64(),
            opts.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
