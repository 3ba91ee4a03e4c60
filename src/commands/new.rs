//! `scalebook new`: a new playbook or case study with every field a reviewer expects.

use crate::cli::{NewArgs, NewKind};
use crate::config::BuildOptions;
use crate::content::{humanize, is_safe_segment};
use crate::dates::Date;
use anyhow::{bail, Context, Result};
use std::process::ExitCode;

pub fn run(a: NewArgs) -> Result<ExitCode> {
    let opts = BuildOptions::for_root(&a.site.root)?;
    let rel = a.path.trim_end_matches(".md");
    let segs: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() || !segs.iter().all(|s| is_safe_segment(s)) {
        bail!(
            "`{}` is not a valid page path: use topic/slug with letters, digits, `-` and `_`",
            a.path
        );
    }
    let path = opts.content_dir().join(format!("{}.md", segs.join("/")));
    if path.exists() {
        bail!("{} already exists", path.display());
    }
    let title = a
        .title
        .clone()
        .unwrap_or_else(|| humanize(segs[segs.len() - 1]));
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    std::fs::write(&path, template(a.kind, &title, crate::dates::today()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The starting text of a new page. It builds as is: the example parameter is declared
/// and used, and the checklist has a runnable and a verify block.
pub fn template(kind: NewKind, title: &str, today: i64) -> String {
    let today = Date(today);
    let title = title.replace('\\', "\\\\").replace('"', "\\\"");
    match kind {
        NewKind::Playbook => format!(
            r#"+++
title = "{title}"
description = "One sentence: when to reach for this playbook."
kind = "playbook"
tags = []
owner = "your-team"
severity = "sev2"
date = {today}
updated = {today}
last_reviewed = {today}
review_every = "90d"

[[params]]
name = "SERVICE"
description = "The service this run is about"
default = "checkout"
+++

## When to use this

The signals: which alert fires, what the dashboards show.

## Before

- [ ] Announce in the incident channel that you are starting this playbook
- [ ] Check the current state of ${{SERVICE}}

  ```sh run
  kubectl get deployment ${{SERVICE}} -o wide
  ```

## Verify

- [ ] Confirm ${{SERVICE}} is healthy

  ```sh verify expect="successfully rolled out"
  kubectl rollout status deployment/${{SERVICE}} --timeout=60s
  ```

## Rollback

- [ ] Undo the last change

  ```sh run
  kubectl rollout undo deployment/${{SERVICE}}
  ```
"#
        ),
        NewKind::CaseStudy => format!(
            r#"+++
title = "{title}"
description = "What happened, what we did, and the result."
kind = "case-study"
tags = []
owner = "your-team"
date = {today}

[[outcomes]]
metric = "p95 latency"
before = 1.2
after = 0.4
unit = "s"
lower_is_better = true

[[outcomes]]
metric = "error rate"
before = 2.5
after = 0.3
unit = "%"
lower_is_better = true

[[outcomes]]
metric = "monthly cost"
before = 100
after = 80
unit = "index"
lower_is_better = true
+++

## Context

What the system looked like and what was about to happen. (Example figures.)

## What we tried

## Timeline

| When | What |
|---|---|
| T-14d | Load test at 5x |

## Decisions

## Outcome
"#
        ),
    }
}
