//! The development server: build into memory → serve → watch → rebuild → tell the browser.
//!
//! ```text
//! watcher thread ── polls mtimes ─▶ watch::plan ─▶ site::build(Memory) ─▶ Shared.site
//!                                                                       │ (generation += 1,
//! accept thread ── one thread per connection ─▶ http::resolve ◀─────────┘  condvar notify)
//!                                             └▶ /__scalebook/events (SSE) wakes, sends `reload`
//! ```
//!
//! Invariants: the served site is always a complete build (a failed build keeps the last good
//! files and only adds its errors, shown in an overlay); bodies come only from that in-memory
//! map, never from disk; nothing is written but the highlight cache.

pub mod http;
pub mod live;
pub mod watch;

use crate::config::{BuildOptions, Config};
use crate::diagnostics::Diagnostic;
use crate::output::Memory;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server tells its caller (the command prints it; tests may ignore it).
#[derive(Debug, Clone)]
pub enum Log {
    /// A build succeeded and is now served.
    Built {
        elapsed: Duration,
        pages: usize,
        warnings: Vec<Diagnostic>,
        /// The files whose change caused it; empty for the first build.
        changed: Vec<PathBuf>,
    },
    /// A build failed: the previous site stays up with these errors in an overlay.
    Failed {
        elapsed: Duration,
        diagnostics: Vec<Diagnostic>,
        changed: Vec<PathBuf>,
    },
}

pub type Logger = Arc<dyn Fn(&Log) + Send + Sync>;

/// Everything `serve` needs, resolved by the command (or a test).
#[derive(Clone)]
pub struct ServeOptions {
    /// Build options; `base_url` is replaced by the served address with the same path.
    pub build: BuildOptions,
    pub bind: IpAddr,
    /// 0 picks a free port; see [`Server::port`].
    pub port: u16,
    /// How often the watched files are looked at.
    pub poll: Duration,
    pub log: Logger,
}

impl ServeOptions {
    pub fn new(build: BuildOptions) -> ServeOptions {
        ServeOptions {
            build,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1111,
            poll: Duration::from_millis(100),
            log: Arc::new(|_| {}),
        }
    }
}

/// The served state of the site.
struct Site {
    /// The last good build; empty until there is one.
    files: Arc<BTreeMap<String, Vec<u8>>>,
    /// Errors of the last build when it failed; empty when it succeeded.
    errors: Arc<Vec<Diagnostic>>,
    base_path: String,
    generation: u64,
}

struct Shared {
    site: Mutex<Site>,
    rebuilt: Condvar,
    stop: AtomicBool,
    /// Distinguishes this server's builds from an earlier run's in a page left open.
    instance: String,
}

impl Shared {
    fn build_id(&self, generation: u64) -> String {
        format!("{}-{generation}", self.instance)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Site> {
        self.site.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running server. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds, builds once (a failed first build still serves, showing its errors), then
    /// serves and watches on background threads.
    pub fn start(opts: ServeOptions) -> Result<Server> {
        let listener = TcpListener::bind((opts.bind, opts.port)).with_context(|| {
            format!(
                "cannot listen on {}:{} (is another server using the port? try --port 0)",
                opts.bind, opts.port
            )
        })?;
        let addr = listener.local_addr()?;
        let host = match opts.bind {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let origin = format!("http://{host}:{}", addr.port());
        let mut build = opts.build.clone();
        build.config.base_url = format!("{origin}{}", build.config.base_path());
        let url = build.config.base_url.clone();
        let shared = Arc::new(Shared {
            site: Mutex::new(Site {
                files: Arc::default(),
                errors: Arc::default(),
                base_path: build.config.base_path(),
                generation: 0,
            }),
            rebuilt: Condvar::new(),
            stop: AtomicBool::new(false),
            instance: format!(
                "{:x}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            ),
        });
        // Snapshot first: an edit made during the first build is seen by the first poll.
        let snap = watch::Snapshot::take(&build.root, &build.config.content_dir);
        rebuild(&shared, &build, &opts.log, Vec::new());

        let mut threads = Vec::new();
        let s = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("serve-accept".into())
                .spawn(move || accept_loop(listener, s))?,
        );
        let s = shared.clone();
        let watcher = Watcher {
            build,
            snap,
            origin,
            poll: opts.poll,
            log: opts.log.clone(),
        };
        threads.push(
            std::thread::Builder::new()
                .name("serve-watch".into())
                .spawn(move || watcher.run(&s))?,
        );
        Ok(Server {
            addr,
            url,
            shared,
            threads,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The site's address, base path included: `http://127.0.0.1:1111/runbooks/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many builds have finished (good or failed).
    pub fn generation(&self) -> u64 {
        self.shared.lock().generation
    }

    /// Blocks until the server stops (it stops only through [`Server::stop`] or the process
    /// ending, e.g. on Ctrl-C).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stops accepting, ends the watcher and the event streams, and joins the threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared.rebuilt.notify_all();
        // Wake the blocking accept with a connection of our own.
        let wake = match self.addr.ip() {
            ip if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.port()),
            _ => self.addr,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Builds into memory and publishes the result: a good build replaces the site, a failed
/// one only records its errors. Every finished build wakes the event streams.
fn rebuild(shared: &Shared, opts: &BuildOptions, log: &Logger, changed: Vec<PathBuf>) {
    let start = Instant::now();
    let mem = Memory::default();
    let result = crate::site::build(opts, &mem);
    let elapsed = start.elapsed();
    let (files, diags, pages) = match result {
        Ok(report) if report.errors() == 0 => {
            (Some(mem.into_files()), report.diagnostics, report.pages)
        }
        Ok(report) => (None, report.diagnostics, 0),
        Err(e) => (
            None,
            vec![Diagnostic::error(
                "build",
                opts.root.clone(),
                format!("{e:#}"),
            )],
            0,
        ),
    };
    let mut site = shared.lock();
    site.base_path = opts.config.base_path();
    let event = match files {
        Some(files) => {
            site.files = Arc::new(files);
            site.errors = Arc::default();
            Log::Built {
                elapsed,
                pages,
                warnings: diags,
                changed,
            }
        }
        None => {
            let errors: Vec<Diagnostic> = diags.iter().filter(|d| d.is_error()).cloned().collect();
            site.errors = Arc::new(errors);
            Log::Failed {
                elapsed,
                diagnostics: diags,
                changed,
            }
        }
    };
    site.generation += 1;
    drop(site);
    shared.rebuilt.notify_all();
    log(&event);
}

/// How long the watched files must stay unchanged before a rebuild starts.
const SETTLE: Duration = Duration::from_millis(20);

struct Watcher {
    build: BuildOptions,
    snap: watch::Snapshot,
    /// `http://127.0.0.1:PORT`, to rebuild `base_url` after a config change.
    origin: String,
    poll: Duration,
    log: Logger,
}

impl Watcher {
    fn run(mut self, shared: &Shared) {
        let root = self.build.root.clone();
        let mut snap = std::mem::take(&mut self.snap);
        while !shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(self.poll);
            let mut now = watch::Snapshot::take(&root, &self.build.config.content_dir);
            if now == snap {
                continue;
            }
            // Let a save that is still being written settle (an editor truncating then
            // writing, a `git checkout` of many files), so one save is one rebuild.
            for _ in 0..10 {
                std::thread::sleep(SETTLE);
                let again = watch::Snapshot::take(&root, &self.build.config.content_dir);
                if again == now {
                    break;
                }
                now = again;
            }
            let changed = now.changed_since(&snap);
            snap = now;
            let plan = watch::plan(
                changed.iter().map(PathBuf::as_path),
                &self.build.config.content_dir,
            );
            match plan {
                watch::Plan::Nothing => continue,
                watch::Plan::Rebuild => {}
                watch::Plan::ReloadConfig => match Config::load(&root) {
                    Ok(mut config) => {
                        config.base_url = format!("{}{}", self.origin, config.base_path());
                        self.build.out = root.join(&config.output_dir);
                        self.build.config = config;
                        snap = watch::Snapshot::take(&root, &self.build.config.content_dir);
                    }
                    Err(e) => {
                        let d = Diagnostic::error(
                            "config",
                            crate::config::CONFIG_FILE,
                            format!("{e:#}"),
                        );
                        let mut site = shared.lock();
                        site.errors = Arc::new(vec![d.clone()]);
                        site.generation += 1;
                        drop(site);
                        shared.rebuilt.notify_all();
                        (self.log)(&Log::Failed {
                            elapsed: Duration::ZERO,
                            diagnostics: vec![d],
                            changed,
                        });
                        continue;
                    }
                },
            }
            rebuild(shared, &self.build, &self.log, changed);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let s = shared.clone();
        let _ = std::thread::Builder::new()
            .name("serve-conn".into())
            .spawn(move || handle(stream, &s));
    }
}

fn handle(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let Some(req) = http::read_request(&stream) else {
        return;
    };
    let head_only = req.method == "HEAD";
    if req.method != "GET" && !head_only {
        let _ = http::respond(
            &stream,
            405,
            &[("Allow", "GET, HEAD"), ("Content-Type", "text/plain")],
            b"method not allowed\n",
            false,
        );
        return;
    }
    let path = req.target.split(['?', '#']).next().unwrap_or("");
    if path == live::EVENTS_PATH {
        events(stream, shared);
        return;
    }
    if path == live::SCRIPT_PATH {
        let _ = http::respond(
            &stream,
            200,
            &[("Content-Type", "text/javascript; charset=utf-8")],
            live::SCRIPT.as_bytes(),
            head_only,
        );
        return;
    }
    if path.starts_with(live::PREFIX) {
        let _ = http::respond_text(&stream, 404, "not found\n");
        return;
    }
    let (files, errors, base_path, build_id) = {
        let site = shared.lock();
        (
            site.files.clone(),
            site.errors.clone(),
            site.base_path.clone(),
            shared.build_id(site.generation),
        )
    };
    if files.is_empty() {
        let body = live::error_page(&build_id, &errors);
        let _ = http::respond(
            &stream,
            500,
            &[("Content-Type", "text/html; charset=utf-8")],
            &body,
            head_only,
        );
        return;
    }
    let page = |status: u16, key: &str| {
        let ct = http::content_type(key);
        let bytes = &files[key];
        let body = if ct.starts_with("text/html") {
            live::inject(bytes, &build_id, &errors)
        } else {
            bytes.clone()
        };
        let _ = http::respond(&stream, status, &[("Content-Type", ct)], &body, head_only);
    };
    match http::resolve(&req.target, &base_path, |k| files.contains_key(k)) {
        http::Resolved::File(key) => page(200, &key),
        http::Resolved::Redirect(to) => {
            let _ = http::respond(
                &stream,
                301,
                &[("Location", &to), ("Content-Type", "text/plain")],
                format!("see {to}\n").as_bytes(),
                head_only,
            );
        }
        http::Resolved::BadRequest => {
            let _ = http::respond_text(&stream, 400, "bad request: path outside the site\n");
        }
        http::Resolved::NotFound if files.contains_key("404.html") => page(404, "404.html"),
        http::Resolved::NotFound => {
            let _ = http::respond_text(&stream, 404, "not found\n");
        }
    }
}

/// A Server-Sent Events stream: `hello` with the current build id, then `reload` after every
/// build, and a comment every 15 s so dead connections are noticed.
fn events(mut stream: TcpStream, shared: &Shared) {
    use std::io::Write;
    let mut seen = shared.lock().generation;
    let hello = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nretry: 1000\nevent: hello\ndata: {}\n\n",
        shared.build_id(seen)
    );
    if stream.write_all(hello.as_bytes()).is_err() {
        return;
    }
    loop {
        let site = shared.lock();
        let (site, _) = shared
            .rebuilt
            .wait_timeout_while(site, Duration::from_secs(15), |s| {
                s.generation == seen && !shared.stop.load(Ordering::SeqCst)
            })
            .unwrap_or_else(|e| e.into_inner());
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let msg = if site.generation != seen {
            seen = site.generation;
            format!("event: reload\ndata: {}\n\n", shared.build_id(seen))
        } else {
            ": keep-alive\n\n".to_string()
        };
        drop(site);
        if stream.write_all(msg.as_bytes()).is_err() || stream.flush().is_err() {
            return;
        }
    }
}
