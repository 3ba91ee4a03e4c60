//! Optional phase timings of the index build, printed to stderr when the
//! environment variable `SCALEBOOK_TIMINGS` is set (to anything).
//!
//! Why here and not in a profiler: the search build has a memory budget (the
//! whole 10k-page build under 500 MB) and a time budget (under 5 s), and both
//! are easiest to watch phase by phase on a real build. On Linux each line
//! also shows the resident set and its peak since `build_index` started (the
//! peak is reset through `/proc/self/clear_refs`, so it is the index build's
//! own peak, not the peak of rendering before it).

use std::time::Instant;

pub struct Timings {
    on: bool,
    start: Instant,
    last: Instant,
    cpu: Option<f64>,
}

impl Timings {
    pub fn start() -> Timings {
        let on = std::env::var_os("SCALEBOOK_TIMINGS").is_some();
        let now = Instant::now();
        let t = Timings {
            on,
            start: now,
            last: now,
            cpu: if on { cpu_seconds() } else { None },
        };
        if on {
            let before = proc_status("VmHWM:");
            // "5" resets the peak resident set size to the current one.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            eprintln!(
                "search: start        rss {:>5} MB  (process peak so far {} MB)",
                mb(proc_status("VmRSS:")),
                mb(before)
            );
        }
        t
    }

    /// Prints the time since the previous phase ended.
    pub fn phase(&mut self, name: &str) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        eprintln!(
            "search: {name:<12} {:>6} ms  rss {:>5} MB  peak {:>5} MB",
            (now - self.last).as_millis(),
            mb(proc_status("VmRSS:")),
            mb(proc_status("VmHWM:"))
        );
        self.last = now;
    }

    /// Prints a free-form line (counts, sizes).
    pub fn note(&self, what: std::fmt::Arguments) {
        if self.on {
            eprintln!("search:   {what}");
        }
    }

    pub fn finish(self) {
        if self.on {
            let cpu = match (self.cpu, cpu_seconds()) {
                (Some(a), Some(b)) => format!("  cpu {:.2} s (all threads)", b - a),
                _ => String::new(),
            };
            eprintln!(
                "search: total        {:>6} ms{cpu}",
                self.start.elapsed().as_millis()
            );
        }
    }
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "?".into(), |kb| (kb / 1024).to_string())
}

/// A `kB` field of `/proc/self/status`; None off Linux.
fn proc_status(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// User + system CPU time of the whole process so far (every thread).
fn cpu_seconds() -> Option<f64> {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(u.ru_utime) + secs(u.ru_stime))
}
