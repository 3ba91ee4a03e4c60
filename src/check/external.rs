//! `check --external`: asks every linked site whether its pages still exist.
//!
//! Politeness first: each distinct URL is requested once however many pages link to it, at
//! most [`Options::per_host`] requests run against one host at a time with
//! [`Options::delay`] between their starts, and a `429 Too Many Requests` is retried after
//! its `Retry-After` (bounded by [`Options::max_retry_after`] and [`Options::retries`]).
//!
//! Severity: a `4xx` answer (the page is gone) is an error; a timeout, a refused
//! connection or a `5xx` may be the other site's bad minute, so it is a warning (`--strict`
//! makes it fail the check too).

use super::ExternalLink;
use crate::diagnostics::Diagnostic;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    /// For the whole of one request, connection included.
    pub timeout: Duration,
    /// Requests in flight at once, over all hosts.
    pub workers: usize,
    /// Requests in flight at once against one host.
    pub per_host: usize,
    /// Least time between the starts of two requests to one host.
    pub delay: Duration,
    /// Retries of a `429` answer.
    pub retries: u32,
    /// A `Retry-After` longer than this is not waited for: the link is reported.
    pub max_retry_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            workers: 8,
            per_host: 2,
            delay: Duration::from_millis(100),
            retries: 2,
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// What asking for one URL came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The page is gone (`4xx`): an error.
    Gone(String),
    /// The site did not answer well (`5xx`, timeout, network): a warning.
    Unreachable(String),
}

/// Checks every link and returns one diagnostic per failing link occurrence.
pub fn check(links: &[ExternalLink], opts: &Options) -> Vec<Diagnostic> {
    let mut by_url: BTreeMap<String, Vec<&ExternalLink>> = BTreeMap::new();
    for l in links {
        by_url.entry(request_url(&l.url)).or_default().push(l);
    }
    let urls: Vec<String> = by_url.keys().cloned().collect();
    let outcomes = fetch_all(&urls, opts);
    let mut diags = Vec::new();
    for (url, outcome) in urls.iter().zip(outcomes) {
        let (msg, error) = match outcome {
            Outcome::Ok => continue,
            Outcome::Gone(m) => (m, true),
            Outcome::Unreachable(m) => (m, false),
        };
        for l in &by_url[url] {
            let text = format!("external link `{}` {msg}", l.url);
            let d = if error {
                Diagnostic::error("external-link", &l.src, text)
            } else {
                Diagnostic::warning("external-link", &l.src, text)
            };
            diags.push(d.at(l.pos));
        }
    }
    diags
}

/// The URL to request: without its fragment, which never reaches the server.
fn request_url(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_string()
}

/// `https://Example.org:8443/x` -> `example.org:8443`.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    authority.to_ascii_lowercase()
}

/// The work queue with per-host limits.
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

struct QueueState {
    pending: VecDeque<usize>,
    hosts: HashMap<String, HostState>,
}

#[derive(Default)]
struct HostState {
    active: usize,
    last_start: Option<Instant>,
}

impl Queue {
    /// The next URL whose host has a free slot and has rested long enough; waits for one.
    fn next(&self, urls: &[String], opts: &Options) -> Option<usize> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if st.pending.is_empty() {
                return None;
            }
            let now = Instant::now();
            let mut wait = Duration::from_millis(50);
            let mut pick = None;
            for (qi, &ui) in st.pending.iter().enumerate() {
                let h = st.hosts.get(&host_of(&urls[ui]));
                let active = h.map_or(0, |h| h.active);
                let ready_at = h.and_then(|h| h.last_start).map_or(now, |t| t + opts.delay);
                if active < opts.per_host && ready_at <= now {
                    pick = Some(qi);
                    break;
                }
                if active < opts.per_host {
                    wait = wait.min(ready_at - now);
                }
            }
            if let Some(qi) = pick {
                let ui = st.pending.remove(qi).expect("index in range");
                let h = st.hosts.entry(host_of(&urls[ui])).or_default();
                h.active += 1;
                h.last_start = Some(now);
                return Some(ui);
            }
            st = self
                .changed
                .wait_timeout(st, wait.max(Duration::from_millis(1)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn done(&self, url: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = st.hosts.get_mut(&host_of(url)) {
            h.active = h.active.saturating_sub(1);
        }
        drop(st);
        self.changed.notify_all();
    }
}

/// Fetches every URL, in parallel within the politeness limits; outcomes in input order.
pub fn fetch_all(urls: &[String], opts: &Options) -> Vec<Outcome> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("scalebook-link-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let queue = Queue {
        state: Mutex::new(QueueState {
            pending: (0..urls.len()).collect(),
            hosts: HashMap::new(),
        }),
        changed: Condvar::new(),
    };
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; urls.len()]);
    std::thread::scope(|s| {
        for _ in 0..opts.workers.clamp(1, urls.len().max(1)) {
            s.spawn(|| {
                while let Some(i) = queue.next(urls, opts) {
                    let outcome = fetch(&agent, &urls[i], opts);
                    queue.done(&urls[i]);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Unreachable("was not checked".into())))
        .collect()
}

/// One URL: `HEAD`, then `GET` when the server does not do `HEAD`; `429` retried.
fn fetch(agent: &ureq::Agent, url: &str, opts: &Options) -> Outcome {
    let mut attempt = 0;
    let mut use_get = false;
    loop {
        let res = if use_get {
            agent.get(url).call()
        } else {
            agent.head(url).call()
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => {
                return Outcome::Unreachable(format!(
                    "did not answer within {}s",
                    opts.timeout.as_secs_f64()
                ))
            }
            Err(e) => return Outcome::Unreachable(format!("could not be fetched: {e}")),
        };
        let status = resp.status().as_u16();
        if !use_get && matches!(status, 405 | 501) {
            use_get = true;
            continue;
        }
        if status == 429 {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_secs(1));
            if attempt >= opts.retries {
                return Outcome::Unreachable(format!(
                    "is rate limited (429) after {} retries",
                    opts.retries
                ));
            }
            if after > opts.max_retry_after {
                return Outcome::Unreachable(format!(
                    "is rate limited (429): Retry-After {}s is longer than the {}s scalebook waits",
                    after.as_secs(),
                    opts.max_retry_after.as_secs()
                ));
            }
            attempt += 1;
            std::thread::sleep(after);
            continue;
        }
        let reason = resp
            .status()
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        return match status {
            200..=399 => Outcome::Ok,
            400..=499 => Outcome::Gone(format!("answered {status}{reason}")),
            _ => Outcome::Unreachable(format!("answered {status}{reason}")),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_lowercase_authority_without_credentials() {
        assert_eq!(
            host_of("https://u:p@Example.org:8443/x?y#z"),
            "example.org:8443"
        );
        assert_eq!(host_of("http://a.b"), "a.b");
    }

    #[test]
    fn fragment_is_not_requested() {
        assert_eq!(request_url("https://a.b/c#d"), "https://a.b/c");
    }
}
