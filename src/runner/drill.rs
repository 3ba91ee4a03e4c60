//! Drill mode (`--drill`): run every run and verify block in order, unattended, each step
//! within a timeout; stop at the first failure; print a summary. For game days and CI.
//!
//! Why this module exists: a playbook whose commands no longer work is found on a quiet day,
//! not during the incident. A passing drill can be recorded in the playbook (`--record`), so
//! the site shows when it was last proven.

use super::exec::{self, End, Job};
use super::interactive::outcome_line;
use super::session::{runnable, Batch, Session};
use super::ui::Tone;
use super::{env_of, interrupts_of, show_code, substitute, unresolved, Cx, Ending};
use crate::runfile::{self, CommandKind, Run};
use anyhow::Result;
use std::time::{Duration, Instant};

/// Per-step timeout of a drill when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(cx: &mut Cx<'_, '_>, run: Run, record: bool) -> Result<Ending> {
    let book = cx.book;
    let opts = cx.opts;
    let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut s = Session::new(&book.steps, run, opts.operator.clone());
    // Steps already done or skipped in a resumed run are not run again.
    let plan: Vec<usize> = (0..book.steps.len())
        .filter(|&i| !runnable(&book.steps[i]).is_empty() && !s.is_resolved(i))
        .collect();
    let commands: usize = plan.iter().map(|&i| runnable(&book.steps[i]).len()).sum();
    if plan.is_empty() {
        cx.term
            .line("Nothing to drill: no step left with a run or verify block.");
        return Ok(Ending::DrillFailed);
    }
    cx.term.say(
        "",
        0,
        &format!(
            "{commands} command(s) in {} step(s), in {}, at most {}s per step. Run saved to {}.",
            plan.len(),
            opts.dir.display(),
            timeout.as_secs_f64(),
            cx.path_label()
        ),
        None,
    );
    if !opts.yes && !cx.confirm(&format!("Run all {commands} command(s) now?")) {
        cx.term.line("Drill cancelled; nothing was run.");
        // The file written for this drill holds nothing; a resumed run stays as it was.
        if let (None, Some(p)) = (&opts.resume, &cx.path) {
            if s.run.steps.is_empty() {
                let _ = std::fs::remove_file(p);
            }
        }
        return Ok(Ending::Cancelled);
    }
    let started = Instant::now();
    let (mut ran, mut passed) = (0usize, 0usize);
    let n = book.steps.len();
    let mut failure: Option<(usize, String)> = None;
    'steps: for &i in &plan {
        let step = &book.steps[i];
        cx.term.line("");
        let lead = format!("[{}/{n}] ", i + 1);
        let indent = lead.len();
        cx.term.say(
            &lead,
            indent,
            &runfile::substitute(&step.text, &s.run.params),
            Some(Tone::Bold),
        );
        let deadline = Instant::now() + timeout;
        let mut batch = Batch {
            ran_verify: false,
            failed: false,
        };
        for (bi, kind) in runnable(step) {
            let block = &step.blocks[bi];
            let problem = match (
                exec::shell_for(&block.lang),
                unresolved(&block.code, &s.run),
                block.expect.as_deref().map(exec::compile_expect),
            ) {
                (None, _, _) => Some(format!("cannot run a `{}` block", block.lang)),
                (_, m, _) if !m.is_empty() => {
                    Some(format!("parameter `{}` has no value", m.join("`, `")))
                }
                (_, _, Some(Err(e))) => Some(format!("`expect` is not a valid regex: {e}")),
                _ => None,
            };
            if let Some(p) = problem {
                cx.term
                    .say("  ", 2, &format!("not run: {p}"), Some(Tone::Bad));
                s.settle(
                    i,
                    Batch {
                        ran_verify: false,
                        failed: true,
                    },
                    true,
                    &runfile::now_utc(),
                );
                cx.save(&s.run)?;
                failure = Some((i, p));
                break 'steps;
            }
            let shell = exec::shell_for(&block.lang).unwrap_or("sh");
            let expect = block
                .expect
                .as_deref()
                .and_then(|e| exec::compile_expect(e).ok());
            let script = substitute(&block.code, &s.run);
            show_code(cx.term, indent, &script);
            let env = env_of(&s.run);
            let intr = interrupts_of(cx.signals);
            if intr.requested() {
                failure = Some((i, "interrupted".into()));
                break 'steps;
            }
            let job = Job {
                kind,
                shell,
                script: &script,
                env: &env,
                dir: &opts.dir,
                timeout: Some(deadline.saturating_duration_since(Instant::now())),
                expect: expect.as_ref(),
            };
            let outcome = exec::execute(&job, &mut *cx.term.out, intr);
            ran += 1;
            let ok = outcome.result.passed;
            let msg = outcome_line(&outcome, block.expect.as_deref());
            cx.term
                .say("  ", 2, &msg, Some(if ok { Tone::Good } else { Tone::Bad }));
            s.add_result(i, outcome.result.clone(), &runfile::now_utc());
            batch.ran_verify |= kind == CommandKind::Verify;
            if ok {
                passed += 1;
                cx.save(&s.run)?;
                continue;
            }
            batch.failed = true;
            s.settle(i, batch, true, &runfile::now_utc());
            cx.save(&s.run)?;
            let what = if outcome.end == End::TimedOut {
                format!("timed out after {}s", timeout.as_secs_f64())
            } else {
                msg
            };
            failure = Some((i, what));
            break 'steps;
        }
        s.settle(i, batch, true, &runfile::now_utc());
        cx.save(&s.run)?;
    }
    let secs = started.elapsed().as_secs_f64();
    cx.term.line("");
    let path = cx.path_label();
    if let Some((i, why)) = failure {
        let text = runfile::substitute(&book.steps[i].text, &s.run.params);
        let head = format!("Drill failed at step {}/{n} \"{text}\": {why}.", i + 1);
        cx.term.say("", 0, &head, Some(Tone::Bad));
        cx.term.say(
            "",
            0,
            &format!(
                "{ran} of {commands} command(s) ran, {passed} passed, {} failed ({secs:.1}s). Run saved in {path}.",
                ran - passed
            ),
            None,
        );
        return Ok(Ending::DrillFailed);
    }
    s.finish(&runfile::now_utc());
    cx.save(&s.run)?;
    cx.term.say(
        "",
        0,
        &format!(
            "Drill passed: {ran} command(s) in {} step(s), all passed ({secs:.1}s). Run saved in {path}.",
            plan.len()
        ),
        Some(Tone::Good),
    );
    if record {
        let today = crate::dates::Date(crate::dates::today());
        super::record::record(&book.file, today)?;
        cx.term.line(&format!(
            "Recorded last_drill = {today} in {}.",
            book.file.display()
        ));
    }
    Ok(Ending::DrillPassed)
}
