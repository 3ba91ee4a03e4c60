//! Just enough HTTP/1.1 for a local preview: read a request head, map its target onto the
//! in-memory site (a pure, tested function), write a response and close the connection.
//!
//! Invariant: a response body only ever comes from the built site's map or from this
//! server's own assets, never from the file system, so no request can read a file outside
//! the site. Targets with `..`, `.`, backslashes or NUL (raw or %-encoded) are refused with
//! 400 before they are looked up.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The request line and the headers that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
}

/// Reads a request head (request line + headers, at most 16 KiB). `None` when the client
/// sent nothing usable.
pub fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.take(16 * 1024));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    // Drain the headers; a body is never expected.
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) => break,
            Ok(_) if h.trim().is_empty() => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    Some(Request { method, target })
}

/// Where a request target leads, given the site's base path and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A key of the site's file map.
    File(String),
    /// 301 to this location (directory without its slash, or the root of a sub-path site).
    Redirect(String),
    NotFound,
    BadRequest,
}

/// Maps `target` (`/runbooks/topic/page?x=1`) onto `files` (keys like `topic/page/index.html`)
/// under `base_path` (`/runbooks/`).
pub fn resolve(target: &str, base_path: &str, has: impl Fn(&str) -> bool) -> Resolved {
    let (raw_path, query) = match target.find(['?', '#']) {
        Some(i) => (&target[..i], &target[i..]),
        None => (target, ""),
    };
    let query = if query.starts_with('?') {
        query.split('#').next().unwrap_or("")
    } else {
        ""
    };
    let Some(path) = percent_decode(raw_path) else {
        return Resolved::BadRequest;
    };
    if !path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path.split('/').any(|s| s == ".." || s == ".")
    {
        return Resolved::BadRequest;
    }
    let base_bare = base_path.trim_end_matches('/');
    if path == "/" && base_path != "/" || (!base_bare.is_empty() && path == base_bare) {
        return Resolved::Redirect(format!("{base_path}{query}"));
    }
    let Some(rel) = path.strip_prefix(base_path) else {
        return Resolved::NotFound;
    };
    if rel.is_empty() || rel.ends_with('/') {
        let key = format!("{rel}index.html");
        return if has(&key) {
            Resolved::File(key)
        } else {
            Resolved::NotFound
        };
    }
    if rel.contains("//") {
        return Resolved::NotFound;
    }
    if has(rel) {
        return Resolved::File(rel.to_string());
    }
    if has(&format!("{rel}/index.html")) {
        // Redirect with the path as the client sent it, so the redirect never decodes.
        return Resolved::Redirect(format!("{raw_path}/{query}"));
    }
    Resolved::NotFound
}

/// Decodes `%xx` escapes; `None` for a malformed escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type for a file name, by extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// Writes a whole response and closes (every response carries `Connection: close`).
pub fn respond(
    mut stream: &TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// A plain-text response, for errors without a page.
pub fn respond_text(stream: &TcpStream, status: u16, text: &str) -> std::io::Result<()> {
    respond(
        stream,
        status,
        &[("Content-Type", "text/plain; charset=utf-8")],
        text.as_bytes(),
        false,
    )
}

/// Convenience for tests and callers holding a map.
pub fn resolve_in(target: &str, base_path: &str, files: &BTreeMap<String, Vec<u8>>) -> Resolved {
    resolve(target, base_path, |k| files.contains_key(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> BTreeMap<String, Vec<u8>> {
        [
            "index.html",
            "404.html",
            "topic/index.html",
            "topic/page/index.html",
            "theme/style.abc.css",
        ]
        .iter()
        .map(|k| (k.to_string(), Vec::new()))
        .collect()
    }

    fn r(target: &str, base: &str) -> Resolved {
        resolve_in(target, base, &files())
    }

    #[test]
    fn files_and_directory_indexes_are_found() {
        assert_eq!(r("/", "/"), Resolved::File("index.html".into()));
        assert_eq!(
            r("/topic/page/", "/"),
            Resolved::File("topic/page/index.html".into())
        );
        assert_eq!(
            r("/theme/style.abc.css?v=1", "/"),
            Resolved::File("theme/style.abc.css".into())
        );
        assert_eq!(
            r("/topic/p%61ge/", "/"),
            Resolved::File("topic/page/index.html".into())
        );
    }

    #[test]
    fn directories_without_a_slash_redirect() {
        assert_eq!(
            r("/topic/page", "/"),
            Resolved::Redirect("/topic/page/".into())
        );
        assert_eq!(
            r("/runbooks/topic?q=1", "/runbooks/"),
            Resolved::Redirect("/runbooks/topic/?q=1".into())
        );
        assert_eq!(
            r("/runbooks", "/runbooks/"),
            Resolved::Redirect("/runbooks/".into())
        );
        assert_eq!(
            r("/", "/runbooks/"),
            Resolved::Redirect("/runbooks/".into())
        );
    }

    #[test]
    fn the_base_path_is_honoured() {
        assert_eq!(
            r("/runbooks/topic/", "/runbooks/"),
            Resolved::File("topic/index.html".into())
        );
        assert_eq!(r("/topic/", "/runbooks/"), Resolved::NotFound);
        assert_eq!(r("/runbooksx/", "/runbooks/"), Resolved::NotFound);
    }

    #[test]
    fn traversal_is_a_bad_request() {
        for t in [
            "/../etc/passwd",
            "/topic/../index.html",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/x",
            "/..%2fetc/passwd",
            "/..%5cetc",
            "/topic\\..\\x",
            "/./index.html",
            "/%00",
            "/%zz",
            "/%c3",
            "relative",
        ] {
            assert_eq!(r(t, "/"), Resolved::BadRequest, "{t}");
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        assert_eq!(r("/nope/", "/"), Resolved::NotFound);
        assert_eq!(r("/nope.css", "/"), Resolved::NotFound);
        assert_eq!(r("/topic//page/", "/"), Resolved::NotFound);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("theme/x.1.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("f.woff2"), "font/woff2");
        assert_eq!(content_type("search/index.json"), "application/json");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
