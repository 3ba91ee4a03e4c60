//! `scalebook serve` tests: an in-process server on an ephemeral loopback port, spoken to
//! over raw TCP (so traversal attempts reach it byte for byte); edits observed on the
//! Server-Sent Events stream with bounded waits.

use crate::util::*;
use scalebook::serve::{ServeOptions, Server};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

fn start(root: &Path) -> Server {
    let mut opts = ServeOptions::new(options(root));
    opts.port = 0;
    opts.poll = Duration::from_millis(50);
    Server::start(opts).expect("server starts")
}

struct Resp {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// One GET with the target sent exactly as given.
fn get(port: u16, target: &str) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The live-reload stream, read with a deadline.
struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn connect(port: u16) -> Events {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        write!(s, "GET /__scalebook/events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut e = Events {
            reader: BufReader::new(s),
        };
        let head = e.next_block(Duration::from_secs(5)).expect("response head");
        assert!(head.contains("text/event-stream"), "{head}");
        let hello = e.next_event(Duration::from_secs(5)).expect("hello");
        assert_eq!(hello.0, "hello");
        e
    }

    /// Text up to the next blank line, or `None` at the deadline / end of stream.
    fn next_block(&mut self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut block = String::new();
        while Instant::now() < deadline {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) if line.trim().is_empty() && !block.is_empty() => return Some(block),
                Ok(_) => block.push_str(&line),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    block.push_str(&line)
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// The next named event as (name, data), skipping comments.
    fn next_event(&mut self, within: Duration) -> Option<(String, String)> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let block = self.next_block(deadline - Instant::now())?;
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
            };
            if let Some(ev) = field("event:") {
                return Some((ev, field("data:").unwrap_or_default()));
            }
        }
        None
    }

    fn expect_reload(&mut self) {
        let ev = self.next_event(Duration::from_secs(10));
        assert_eq!(ev.map(|e| e.0).as_deref(), Some("reload"));
    }
}

fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let p = root.join(rel);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from));
    save(&p, &text.replace(from, to));
}

/// Writes a file whole, as editors do (a hidden temporary file renamed over it).
fn save(path: &Path, text: &str) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn pages_and_files_are_served_with_their_content_types_under_the_base_path() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    let port = server.port();
    assert_eq!(server.url(), format!("http://127.0.0.1:{port}/runbooks/"));

    let page = get(port, "/runbooks/ops/restart/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.body.contains("Original text."));
    let script = page
        .body
        .find("<script src=\"/__scalebook/live.js\"")
        .expect("live reload");
    assert!(
        script < page.body.rfind("</body>").unwrap(),
        "before </body>"
    );

    let css_href = page
        .body
        .split("href=\"../../")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .find(|h| h.starts_with("theme/style."))
        .expect("stylesheet link");
    let css = get(port, &format!("/runbooks/{css_href}"));
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, "text/css; charset=utf-8")
    );
    assert!(!css.body.contains("live.js"), "only HTML gets the script");

    for (target, ct) in [
        ("/runbooks/", "text/html; charset=utf-8"),
        ("/runbooks/ops/diagram.svg", "image/svg+xml"),
        ("/runbooks/notes.txt", "text/plain; charset=utf-8"),
        ("/runbooks/pixel.png", "image/png"),
        ("/runbooks/sitemap.xml", "application/xml"),
        ("/__scalebook/live.js", "text/javascript; charset=utf-8"),
    ] {
        let r = get(port, target);
        assert_eq!((r.status, r.header("content-type")), (200, ct), "{target}");
    }
    let sitemap = get(port, "/runbooks/sitemap.xml").body;
    assert!(
        sitemap.contains(&format!(
            "<loc>http://127.0.0.1:{port}/runbooks/ops/restart/</loc>"
        )),
        "base_url is the served address: {sitemap}"
    );
    server.stop();
}

#[test]
fn directory_urls_without_a_slash_redirect() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    for (target, to) in [
        ("/runbooks/ops/restart", "/runbooks/ops/restart/"),
        ("/runbooks/ops?x=1", "/runbooks/ops/?x=1"),
        ("/runbooks", "/runbooks/"),
        ("/", "/runbooks/"),
    ] {
        let r = get(server.port(), target);
        assert_eq!((r.status, r.header("location")), (301, to), "{target}");
    }
}

#[test]
fn unknown_paths_get_the_site_404_page() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    for target in ["/runbooks/nope/", "/runbooks/ops/nope.css", "/elsewhere/"] {
        let r = get(server.port(), target);
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
        assert!(r.body.contains("Page not found"), "{target}: {}", r.body);
    }
}

#[test]
fn traversal_attempts_never_leave_the_site() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    for target in [
        "/runbooks/../scalebook.toml",
        "/runbooks/%2e%2e/scalebook.toml",
        "/runbooks/%2E%2E%2Fscalebook.toml",
        "/runbooks/..%2fscalebook.toml",
        "/runbooks/ops/..%5c..%5cscalebook.toml",
        "/runbooks/ops\\..\\..\\scalebook.toml",
        "/../../../etc/passwd",
        "/runbooks/./ops/",
        "/runbooks/%00",
    ] {
        let r = get(server.port(), target);
        assert_eq!(r.status, 400, "{target}");
        assert!(!r.body.contains("base_url"), "{target}");
    }
    // An unknown path at the right depth is just not found.
    let r = get(server.port(), "/runbooks/scalebook.toml");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("base_url"));
}

#[test]
fn an_edit_is_rebuilt_and_announced_on_the_event_stream() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    let mut events = Events::connect(server.port());
    let before = server.generation();
    edit(
        dir.path(),
        "playbooks/ops/restart.md",
        "Original text.",
        "Edited, longer text.",
    );
    events.expect_reload();
    assert!(server.generation() > before);
    let page = get(server.port(), "/runbooks/ops/restart/");
    assert!(page.body.contains("Edited, longer text."), "{}", page.body);

    // A new page is served after the next rebuild; editor litter does not rebuild.
    std::fs::write(dir.path().join("playbooks/ops/restart.md~"), "x").unwrap();
    save(
        &dir.path().join("playbooks/ops/new.md"),
        "+++\ntitle = \"New\"\nowner = \"sre\"\n+++\n\n- [ ] Step\n",
    );
    events.expect_reload();
    assert_eq!(get(server.port(), "/runbooks/ops/new/").status, 200);
    assert_eq!(
        events.next_event(Duration::from_millis(400)),
        None,
        "one change, one reload"
    );
}

#[test]
fn a_broken_edit_keeps_the_last_good_page_and_shows_the_errors() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    let mut events = Events::connect(server.port());
    edit(
        dir.path(),
        "playbooks/ops/restart.md",
        "Original text.",
        "See [the <guide>](missing.md).",
    );
    events.expect_reload();
    let page = get(server.port(), "/runbooks/ops/restart/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Original text."), "last good build");
    let overlay = &page.body[page
        .body
        .find("id=\"scalebook-serve-errors\"")
        .expect("overlay")..];
    assert!(overlay.contains("role=\"alert\""));
    assert!(
        overlay.contains("<code>playbooks/ops/restart.md:6:5</code> error[broken-link]: link to missing page `missing.md`"),
        "{overlay}"
    );
    // Other pages show the overlay too, until the error is fixed.
    assert!(get(server.port(), "/runbooks/")
        .body
        .contains("scalebook-serve-errors"));

    edit(
        dir.path(),
        "playbooks/ops/restart.md",
        "See [the <guide>](missing.md).",
        "Fixed text.",
    );
    events.expect_reload();
    let page = get(server.port(), "/runbooks/ops/restart/");
    assert!(page.body.contains("Fixed text."));
    assert!(!page.body.contains("scalebook-serve-errors"));
}

#[test]
fn a_config_change_reloads_the_options() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    let mut events = Events::connect(server.port());
    edit(
        dir.path(),
        "scalebook.toml",
        "title = \"Serve fixture\"\nbase_url = \"https://example.org/runbooks/\"",
        "title = \"Renamed site\"\nbase_url = \"https://example.org/docs/\"",
    );
    events.expect_reload();
    let home = get(server.port(), "/docs/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Renamed site"));
    assert_eq!(get(server.port(), "/runbooks/").status, 404);

    save(&dir.path().join("scalebook.toml"), "titel = \"typo\"\n");
    events.expect_reload();
    let home = get(server.port(), "/docs/");
    assert!(home.body.contains("Renamed site"), "last good site stays");
    assert!(home.body.contains("error[config]"), "{}", home.body);
}

#[test]
fn stopping_ends_the_event_streams() {
    let dir = copy_fixture("serve-site");
    let server = start(dir.path());
    let port = server.port();
    let mut events = Events::connect(port);
    let started = Instant::now();
    server.stop();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(events.next_event(Duration::from_secs(3)), None);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port released"
    );
}

#[test]
fn the_binary_prints_its_address_and_serves() {
    let dir = copy_fixture("serve-site");
    let mut child = bin()
        .args(["serve", "--port", "0", "--root"])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut url = None;
    let mut seen = String::new();
    for _ in 0..50 {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
        if let Some(rest) = line.strip_prefix("serving ") {
            url = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    let url = url.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no address printed:\n{seen}")
    });
    assert!(seen.contains("built 1 page in "), "{seen}");
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = get(port, "/runbooks/ops/restart/");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.status, 200);
}
