//! Executing one code block: `sh -c` (or `bash -c`, `zsh -c`) in its own process group, with
//! the run's parameters in the environment, output streamed to the terminal and captured
//! (bounded), and a way out: Ctrl-C or a timeout kills the whole group, not just the shell.
//!
//! Why this module exists: a command that hangs must never take the run down with it, and a
//! killed runner must not leave commands behind. [`Signals`] owns SIGINT, SIGTERM and SIGHUP
//! for the whole process: while a command runs, Ctrl-C only interrupts the command; at a
//! prompt it ends the runner (the run is saved after every change, so nothing is lost), after
//! any save in progress has finished.

use crate::runfile::{self, CommandKind, CommandResult, OutputCapture};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a command gets to exit after SIGTERM before its group is killed.
const GRACE: Duration = Duration::from_secs(2);

/// The shell for a block's language, or `None` when the block is not shell code.
pub fn shell_for(lang: &str) -> Option<&'static str> {
    match lang {
        "" | "sh" | "shell" | "console" => Some("sh"),
        "bash" => Some("bash"),
        "zsh" => Some("zsh"),
        _ => None,
    }
}

/// The regex of a verify block's `expect`: `^` and `$` match at the start and end of any
/// line, so `expect="^ok$"` passes when a line of the output is `ok`.
pub fn compile_expect(expect: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::RegexBuilder::new(expect)
        .multi_line(true)
        .build()
}

/// One command to execute.
pub struct Job<'a> {
    pub kind: CommandKind,
    pub shell: &'a str,
    /// The script with parameters substituted.
    pub script: &'a str,
    /// Exported as environment variables too.
    pub env: &'a BTreeMap<String, String>,
    pub dir: &'a Path,
    pub timeout: Option<Duration>,
    /// For `verify`: the output must match this.
    pub expect: Option<&'a regex_lite::Regex>,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    /// Killed by a signal it did not get from us.
    Signalled(i32),
    Interrupted,
    TimedOut,
    NotStarted(String),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub end: End,
    pub duration: Duration,
    /// The stored result (output bounded, see [`OutputCapture`]).
    pub result: CommandResult,
    /// For `verify`: exit 0 but the output did not match `expect`.
    pub mismatch: bool,
}

/// What the process-wide signal handling needs to know about running commands.
pub trait Interrupts: Sync {
    /// A command runs in process group `pgid`.
    fn started(&self, pgid: i32);
    fn ended(&self);
    /// Ctrl-C was pressed since the last [`Interrupts::clear`].
    fn requested(&self) -> bool;
    fn clear(&self);
}

/// No signal handling: for tests and library use.
pub struct NoInterrupts;

impl Interrupts for NoInterrupts {
    fn started(&self, _: i32) {}
    fn ended(&self) {}
    fn requested(&self) -> bool {
        false
    }
    fn clear(&self) {}
}

/// Runs `job`, echoing its output to `echo` as it arrives.
pub fn execute(job: &Job<'_>, echo: &mut dyn Write, intr: &dyn Interrupts) -> Outcome {
    let start = Instant::now();
    let at = runfile::now_utc();
    let mut cmd = Command::new(job.shell);
    cmd.arg("-c")
        .arg(job.script)
        .current_dir(job.dir)
        .envs(job.env)
        .stdin(Stdio::null())
        .process_group(0);
    let spawned = std::io::pipe().and_then(|(reader, writer)| {
        cmd.stdout(writer.try_clone()?).stderr(writer);
        let child = cmd.spawn();
        drop(cmd); // closes our copies of the write end, so the reader sees EOF
        Ok((reader, child?))
    });
    let (mut reader, mut child) = match spawned {
        Ok(x) => x,
        Err(e) => {
            let msg = format!("cannot start `{}`: {e}", job.shell);
            return finish(job, End::NotStarted(msg.clone()), msg, false, start, at);
        }
    };
    let pgid = child.id() as i32;
    intr.started(pgid);

    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let pump = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let mut captured = OutputCapture::default();
    let mut take = |chunk: Vec<u8>, echo: &mut dyn Write| {
        let _ = echo.write_all(&chunk);
        let _ = echo.flush();
        captured.push(&chunk);
    };
    let mut status = None;
    let mut pipe_open = true;
    let mut stopping: Option<(End, Instant)> = None;
    let mut exited_at: Option<Instant> = None;
    loop {
        if pipe_open {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(chunk) => {
                    take(chunk, echo);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => pipe_open = false,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
        if status.is_none() {
            status = child.try_wait().ok().flatten();
            if status.is_some() {
                exited_at = Some(Instant::now());
            }
        }
        if status.is_some() && !pipe_open {
            break;
        }
        // The shell is gone but background children still hold the pipe open: give them a
        // moment to finish writing, then take the group down and stop waiting.
        if let Some(t) = exited_at {
            if t.elapsed() > Duration::from_millis(300) {
                signal_group(pgid, libc::SIGKILL);
                break;
            }
            continue;
        }
        match &stopping {
            None => {
                let why = if intr.requested() {
                    Some(End::Interrupted)
                } else if job.timeout.is_some_and(|t| start.elapsed() >= t) {
                    Some(End::TimedOut)
                } else {
                    None
                };
                if let Some(why) = why {
                    signal_group(pgid, libc::SIGTERM);
                    stopping = Some((why, Instant::now()));
                }
            }
            Some((_, since)) if since.elapsed() >= GRACE => {
                signal_group(pgid, libc::SIGKILL);
            }
            Some(_) => {}
        }
    }
    intr.ended();
    // What is already in the channel; the reader thread is not joined, since a process that
    // left the group (setsid) could hold the pipe open forever.
    while let Ok(chunk) = rx.try_recv() {
        take(chunk, echo);
    }
    drop(pump);
    let end = match (stopping, status) {
        (Some((why, _)), _) => why,
        (None, Some(s)) => match (s.code(), s.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signalled(sig),
            (None, None) => End::Signalled(0),
        },
        (None, None) => End::Signalled(0),
    };
    let (mut text, cut) = captured.finish();
    let note = match &end {
        End::Interrupted => Some(format!(
            "[interrupted after {:.1}s]",
            start.elapsed().as_secs_f64()
        )),
        End::TimedOut => Some(format!(
            "[timed out after {:.1}s]",
            start.elapsed().as_secs_f64()
        )),
        End::Signalled(sig) => Some(format!("[killed by signal {sig}]")),
        _ => None,
    };
    if let Some(n) = note {
        // The caller says how the command ended; the note goes into the stored output only.
        if !text.is_empty() && !text.ends_with('\n') {
            let _ = writeln!(echo);
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&n);
        text.push('\n');
    }
    finish(job, end, text, cut, start, at)
}

fn finish(
    job: &Job<'_>,
    end: End,
    output: String,
    cut: bool,
    start: Instant,
    at: String,
) -> Outcome {
    let duration = start.elapsed();
    let exit_code = match end {
        End::Exited(c) => Some(c),
        _ => None,
    };
    let matched = job.expect.is_none_or(|re| re.is_match(&output));
    let passed = exit_code == Some(0) && matched;
    Outcome {
        mismatch: exit_code == Some(0) && !matched,
        result: CommandResult {
            kind: job.kind,
            command: job.script.to_string(),
            exit_code,
            duration_ms: duration.as_millis() as u64,
            output,
            output_truncated: cut,
            passed,
            at: Some(at),
        },
        end,
        duration,
    }
}

fn signal_group(pgid: i32, sig: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

/// Process-wide handling of SIGINT, SIGTERM and SIGHUP for an interactive run.
pub struct Signals {
    shared: Arc<Shared>,
}

struct Shared {
    /// Process group of the running command; 0 when none runs.
    child: AtomicI32,
    requested: AtomicBool,
    /// Waiting for the user: Ctrl-C there ends the runner.
    at_prompt: AtomicBool,
    /// Held while the run file is written, so an exit never happens in the middle.
    saving: Mutex<()>,
    /// Said when the runner ends on a signal.
    farewell: Mutex<String>,
}

impl Signals {
    /// Takes over the three signals; call once per process.
    pub fn install() -> anyhow::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let shared = Arc::new(Shared {
            child: AtomicI32::new(0),
            requested: AtomicBool::new(false),
            at_prompt: AtomicBool::new(false),
            saving: Mutex::new(()),
            farewell: Mutex::new(String::new()),
        });
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let sh = Arc::clone(&shared);
        std::thread::spawn(move || {
            for sig in signals.forever() {
                let child = sh.child.load(Ordering::SeqCst);
                if sig == SIGINT && !sh.at_prompt.load(Ordering::SeqCst) {
                    // A command runs, or the runner is busy between commands: interrupt the
                    // command (the runner looks at the request), stay in the run.
                    sh.requested.store(true, Ordering::SeqCst);
                    continue;
                }
                signal_group(child, libc::SIGKILL);
                let _lock = sh.saving.lock();
                let msg = sh.farewell.lock().map(|m| m.clone()).unwrap_or_default();
                if !msg.is_empty() {
                    eprintln!("\n{msg}");
                }
                std::process::exit(128 + sig);
            }
        });
        Ok(Signals { shared })
    }

    /// While the returned guard lives, a signal waits for the save to finish.
    pub fn saving(&self) -> MutexGuard<'_, ()> {
        self.shared.saving.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks whether the runner waits for input (Ctrl-C then quits).
    pub fn at_prompt(&self, yes: bool) {
        self.shared.at_prompt.store(yes, Ordering::SeqCst);
    }

    /// What to print when a signal ends the runner.
    pub fn set_farewell(&self, msg: String) {
        if let Ok(mut m) = self.shared.farewell.lock() {
            *m = msg;
        }
    }
}

impl Interrupts for Signals {
    fn started(&self, pgid: i32) {
        self.shared.child.store(pgid, Ordering::SeqCst);
    }
    fn ended(&self) {
        self.shared.child.store(0, Ordering::SeqCst);
    }
    fn requested(&self) -> bool {
        self.shared.requested.load(Ordering::SeqCst)
    }
    fn clear(&self) {
        self.shared.requested.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job<'a>(script: &'a str, env: &'a BTreeMap<String, String>) -> Job<'a> {
        Job {
            kind: CommandKind::Run,
            shell: "sh",
            script,
            env,
            dir: Path::new("."),
            timeout: None,
            expect: None,
        }
    }

    #[test]
    fn output_of_both_streams_is_captured_with_the_exit_code() {
        let env = BTreeMap::from([("WHO".to_string(), "world".to_string())]);
        let mut echo = Vec::new();
        let o = execute(
            &job("echo hello $WHO; echo oops >&2; exit 3", &env),
            &mut echo,
            &NoInterrupts,
        );
        assert_eq!(o.end, End::Exited(3));
        assert_eq!(o.result.output, "hello world\noops\n");
        assert_eq!(String::from_utf8(echo).unwrap(), "hello world\noops\n");
        assert!(!o.result.passed);
        assert_eq!(o.result.exit_code, Some(3));
    }

    #[test]
    fn a_timeout_kills_the_whole_group_and_records_no_exit_code() {
        let env = BTreeMap::new();
        let mut j = job("sleep 30 & sleep 30; echo never", &env);
        j.timeout = Some(Duration::from_millis(300));
        let t = Instant::now();
        let o = execute(&j, &mut Vec::new(), &NoInterrupts);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(o.end, End::TimedOut);
        assert_eq!(o.result.exit_code, None);
        assert!(
            o.result.output.contains("[timed out after"),
            "{}",
            o.result.output
        );
    }

    #[test]
    fn verify_needs_exit_zero_and_a_match() {
        let env = BTreeMap::new();
        let re = compile_expect("^ok$").unwrap();
        let mut j = job("echo ok", &env);
        j.kind = CommandKind::Verify;
        j.expect = Some(&re);
        assert!(execute(&j, &mut Vec::new(), &NoInterrupts).result.passed);
        let re2 = compile_expect("^fine$").unwrap();
        j.expect = Some(&re2);
        let o = execute(&j, &mut Vec::new(), &NoInterrupts);
        assert!(!o.result.passed && o.mismatch);
    }

    #[test]
    fn long_output_is_bounded_and_marked() {
        let env = BTreeMap::new();
        let o = execute(
            &job("yes 0123456789 | head -c 100000", &env),
            &mut Vec::new(),
            &NoInterrupts,
        );
        assert!(o.result.output.len() <= runfile::OUTPUT_LIMIT);
        assert!(o.result.output_truncated);
        // The end of the output is kept: it is where a failing command says why.
        let o = execute(
            &job("seq 1 20000; echo 'disk full' >&2; exit 1", &env),
            &mut Vec::new(),
            &NoInterrupts,
        );
        assert!(o.result.output_truncated && o.result.output.len() <= runfile::OUTPUT_LIMIT);
        assert!(o.result.output.starts_with("1\n2\n"), "the start is kept");
        assert!(
            o.result.output.ends_with("19999\n20000\ndisk full\n"),
            "the end is kept"
        );
        assert!(o.result.output.contains(" bytes of output omitted ...]\n"));
        // An `expect` for the last line matches a long output.
        let re = compile_expect("^disk full$").unwrap();
        let mut j = job("seq 1 20000; echo 'disk full'", &env);
        j.expect = Some(&re);
        assert!(execute(&j, &mut Vec::new(), &NoInterrupts).result.passed);
    }

    #[test]
    fn only_shell_languages_run() {
        assert_eq!(shell_for("bash"), Some("bash"));
        assert_eq!(shell_for("sh"), Some("sh"));
        assert_eq!(shell_for("python"), None);
    }
}
