//! `scalebook init`: a new site with one example of each kind, ready to build.

use crate::cli::InitArgs;
use anyhow::{bail, Context, Result};
use std::process::ExitCode;

const CONFIG: &str = r#"# scalebook site configuration. Every key is optional.
title = "Runbooks"
description = "Playbooks and case studies for traffic surges, migrations and cost control."
# Where the site is published; its path is honoured by every link.
base_url = "https://example.org/runbooks/"
# "Edit this page" on every page: {path} is the page's file relative to this folder.
# edit_url = "https://github.com/acme/runbooks/edit/main/{path}"

[review]
# Playbooks without their own `review_every` are due this long after `last_reviewed`.
max_age = "180d"
require_owner = true
"#;

const HOME: &str = r#"+++
title = "Runbooks"
description = "Where to go when something is on fire, and what we learned last time."
+++

**Traffic spiking right now?** Start with [Example: absorb a traffic spike](traffic-surges/absorb-a-spike.md).
"#;

const SECTION: &str = r#"+++
title = "Traffic surges"
description = "Planned peaks and unplanned spikes."
weight = 1
+++
"#;

const CASES: &str = r#"+++
title = "Case studies"
description = "What happened, what we did, and the numbers before and after."
weight = 9
+++
"#;

pub fn run(a: InitArgs) -> Result<ExitCode> {
    let dir = &a.dir;
    if dir.join(crate::config::CONFIG_FILE).exists() || dir.join("playbooks").exists() {
        bail!(
            "{} already holds a site (scalebook.toml or playbooks/ exists)",
            dir.display()
        );
    }
    let files = [
        ("scalebook.toml", CONFIG.to_string()),
        ("playbooks/_index.md", HOME.to_string()),
        ("playbooks/traffic-surges/_index.md", SECTION.to_string()),
        (
            "playbooks/traffic-surges/absorb-a-spike.md",
            super::new::template(
                crate::cli::NewKind::Playbook,
                "Example: absorb a traffic spike",
                crate::dates::today(),
            ),
        ),
        ("playbooks/case-studies/_index.md", CASES.to_string()),
        (
            "playbooks/case-studies/example-sale-day.md",
            super::new::template(
                crate::cli::NewKind::CaseStudy,
                "Example: sale day at 5x load",
                crate::dates::today(),
            ),
        ),
        (".gitignore", "/public\n/.scalebook-cache\n".to_string()),
    ];
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "created a new site in {}\nnext: scalebook build --root {}",
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
