//! Live reload: what the server adds to every HTML page it serves.
//!
//! A script tag (`/__scalebook/live.js`, same origin so a strict Content-Security-Policy
//! still allows it) listens on the Server-Sent Events stream at [`EVENTS_PATH`] and reloads
//! the page on `reload`, keeping the scroll position in sessionStorage. When the last build
//! failed, an overlay listing its errors goes in too; every user value in it is escaped.

use crate::diagnostics::{Diagnostic, Severity};

/// Paths the server answers itself, outside the site's base path.
pub const PREFIX: &str = "/__scalebook/";
pub const EVENTS_PATH: &str = "/__scalebook/events";
pub const SCRIPT_PATH: &str = "/__scalebook/live.js";

/// The browser side. The server sends `event: hello` with its build id on connect and
/// `event: reload` after every build; a page built before the current build id reloads at
/// once (it missed a reload while it was loading or disconnected).
pub const SCRIPT: &str = r#"// scalebook serve: live reload (not part of the published site).
(() => {
  "use strict";
  const me = document.currentScript;
  const built = me ? me.dataset.build : "";
  const key = "scalebook:serve:scroll";
  try {
    const saved = JSON.parse(sessionStorage.getItem(key) || "null");
    sessionStorage.removeItem(key);
    if (saved && saved.path === location.pathname) {
      addEventListener("load", () => scrollTo(saved.x, saved.y));
      scrollTo(saved.x, saved.y);
    }
  } catch (e) {}
  const reload = () => {
    try {
      sessionStorage.setItem(key, JSON.stringify({ path: location.pathname, x: scrollX, y: scrollY }));
    } catch (e) {}
    location.reload();
  };
  const overlay = document.getElementById("scalebook-serve-errors");
  if (overlay) console.error("scalebook: the last build failed\n" + overlay.innerText);
  let source = null;
  const connect = () => {
    source = new EventSource("/__scalebook/events");
    source.addEventListener("hello", (e) => { if (built && e.data !== built) reload(); });
    source.addEventListener("reload", reload);
    source.onerror = () => { source.close(); setTimeout(connect, 1000); };
  };
  connect();
})();
"#;

/// Puts the live-reload script (and the error overlay, if any) before the last `</body>`,
/// or at the end of a page without one.
pub fn inject(html: &[u8], build_id: &str, errors: &[Diagnostic]) -> Vec<u8> {
    let mut extra = String::new();
    if !errors.is_empty() {
        extra.push_str(&overlay(errors));
    }
    extra.push_str(&format!(
        "<script src=\"{SCRIPT_PATH}\" data-build=\"{}\"></script>\n",
        escape(build_id)
    ));
    let at = find_last(html, b"</body>").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + extra.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
}

/// The error overlay: fixed over the page, dismissable, an ARIA alert.
pub fn overlay(errors: &[Diagnostic]) -> String {
    let mut items = String::new();
    for d in errors {
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "note",
        };
        items.push_str(&format!(
            "<li><code>{}</code> {sev}[{}]: {}{}</li>",
            escape(&d.location()),
            escape(d.rule),
            escape(&d.message),
            d.hint
                .as_ref()
                .map(|h| format!("<br><small>hint: {}</small>", escape(h)))
                .unwrap_or_default()
        ));
    }
    format!(
        "<div id=\"scalebook-serve-errors\" role=\"alert\" style=\"position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;margin:0;padding:1em 1.5em;background:#3b0d0d;color:#fff;font:14px/1.5 ui-monospace,monospace;box-shadow:0 -4px 16px rgba(0,0,0,.4)\">\
<button type=\"button\" onclick=\"this.parentNode.remove()\" style=\"float:right\" aria-label=\"Dismiss\">×</button>\
<strong>The last build failed; this is the last good version of the page.</strong>\
<ul style=\"margin:.5em 0 0;padding-left:1.2em\">{items}</ul></div>\n"
    )
}

/// The page served when there is no good build yet.
pub fn error_page(build_id: &str, errors: &[Diagnostic]) -> Vec<u8> {
    let html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head><body><h1>scalebook: the site does not build yet</h1><p>Fix the problems below; this page reloads when the build succeeds.</p></body></html>";
    inject(html.as_bytes(), build_id, errors)
}

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Pos;

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        let out = inject(b"<html><body><p>x</p></BODY></html>", "7", &[]);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "<html><body><p>x</p><script src=\"/__scalebook/live.js\" data-build=\"7\"></script>\n</BODY></html>"
        );
        let bare = String::from_utf8(inject(b"<p>x</p>", "7", &[])).unwrap();
        assert!(bare.starts_with("<p>x</p><script"));
    }

    #[test]
    fn the_overlay_escapes_messages_and_is_an_alert() {
        let d = Diagnostic::error("front-matter", "playbooks/<a>.md", "bad `<script>` & co")
            .at(Pos { line: 2, col: 3 });
        let o = overlay(&[d]);
        assert!(o.contains("role=\"alert\""));
        assert!(o.contains("<code>playbooks/&lt;a&gt;.md:2:3</code>"));
        assert!(o.contains("bad `&lt;script&gt;` &amp; co"));
        assert!(!o.contains("<script>"));
    }
}
