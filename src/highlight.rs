//! Code highlighting with syntect, as CSS classes (one generated stylesheet carries the light
//! and the dark theme), behind a content-addressed cache.
//!
//! Highlighting dominates build time, so: syntect is loaded once per process, each distinct
//! block is highlighted once per build, and results persist between builds in one cache
//! file. The cache never changes output: a hit returns exactly what a miss would compute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Bump when highlighting output changes shape, so old cache files are ignored.
const CACHE_VERSION: u64 = 2;
const SHARDS: usize = 32;
/// Without a cache folder, repeated blocks are still highlighted once, but only this many
/// bytes of highlighted HTML are kept for that, so memory stays flat on huge sites.
const DEDUP_BUDGET: usize = 32 << 20;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

type Index = HashMap<u128, (u64, u32)>;

/// Highlights code; shared by all render threads.
///
/// The cache is two files: `highlight.dat` (the HTML of each block, back to back) and
/// `highlight.idx` (key, offset, length). Only the index is held in memory; blocks are read
/// from disk when hit, and every block this build uses is appended to the next generation of
/// the files, which replaces the old one on [`Highlighter::save`]. Memory therefore stays
/// proportional to the number of blocks, not their size.
pub struct Highlighter {
    previous: Option<(Index, std::fs::File)>,
    next: Option<Mutex<NextCache>>,
    /// Repeated blocks within a build when there is no cache folder (bounded).
    dedup: Vec<Mutex<HashMap<u128, Arc<str>>>>,
    dedup_bytes: std::sync::atomic::AtomicUsize,
}

struct NextCache {
    dir: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
    reader: std::fs::File,
    index: Index,
    len: u64,
}

impl Highlighter {
    /// `cache_dir = None` disables the persistent cache.
    pub fn new(cache_dir: Option<&Path>) -> Highlighter {
        let previous = cache_dir.and_then(read_index);
        let next = cache_dir.and_then(|dir| {
            std::fs::create_dir_all(dir).ok()?;
            let tmp = dir.join(format!("highlight.dat.tmp-{}", std::process::id()));
            let file = std::fs::File::create(&tmp).ok()?;
            let reader = std::fs::File::open(&tmp).ok()?;
            Some(Mutex::new(NextCache {
                dir: dir.to_path_buf(),
                writer: std::io::BufWriter::new(file),
                reader,
                index: Index::new(),
                len: 0,
            }))
        });
        Highlighter {
            previous,
            next,
            dedup: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            dedup_bytes: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// HTML for the inside of `<code>`: escaped, with `hl-` class spans.
    pub fn highlight(&self, lang: &str, code: &str) -> Arc<str> {
        let key = cache_key(lang, code);
        if let Some(next) = &self.next {
            let Ok(mut n) = next.lock() else {
                return Arc::from(highlight_uncached(lang, code));
            };
            if let Some(&(off, len)) = n.index.get(&key) {
                use std::io::Write;
                if n.writer.flush().is_ok() {
                    if let Some(s) = read_at(&n.reader, off, len) {
                        return Arc::from(s);
                    }
                }
            }
            drop(n);
            let html: String = self
                .previous
                .as_ref()
                .and_then(|(idx, file)| {
                    idx.get(&key)
                        .and_then(|&(off, len)| read_at(file, off, len))
                })
                .unwrap_or_else(|| highlight_uncached(lang, code));
            if let Ok(mut n) = next.lock() {
                use std::io::Write;
                if !n.index.contains_key(&key) && n.writer.write_all(html.as_bytes()).is_ok() {
                    let at = n.len;
                    n.index.insert(key, (at, html.len() as u32));
                    n.len += html.len() as u64;
                }
            }
            return Arc::from(html);
        }
        let shard = &self.dedup[(key as usize) % SHARDS];
        if let Some(hit) = shard.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let html: Arc<str> = Arc::from(highlight_uncached(lang, code));
        use std::sync::atomic::Ordering;
        if self.dedup_bytes.load(Ordering::Relaxed) < DEDUP_BUDGET {
            self.dedup_bytes.fetch_add(html.len(), Ordering::Relaxed);
            if let Ok(mut m) = shard.lock() {
                m.insert(key, html.clone());
            }
        }
        html
    }

    /// Publishes the blocks used by this build as the new cache, dropping the rest (so the
    /// cache never grows without bound). Errors are ignored: a cache is an optimisation.
    pub fn save(&self) {
        let Some(next) = &self.next else { return };
        let Ok(mut n) = next.lock() else { return };
        use std::io::Write;
        if n.writer.flush().is_err() {
            return;
        }
        let mut entries: Vec<(u128, (u64, u32))> = n.index.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_by_key(|e| e.0);
        let mut buf = Vec::with_capacity(8 + entries.len() * 28);
        buf.extend_from_slice(&CACHE_VERSION.to_le_bytes());
        for (k, (off, len)) in entries {
            buf.extend_from_slice(&k.to_le_bytes());
            buf.extend_from_slice(&off.to_le_bytes());
            buf.extend_from_slice(&len.to_le_bytes());
        }
        let tmp_dat = n
            .dir
            .join(format!("highlight.dat.tmp-{}", std::process::id()));
        let tmp_idx = n
            .dir
            .join(format!("highlight.idx.tmp-{}", std::process::id()));
        // Data first, index last: an index never points into a file it does not describe,
        // and a reader that finds a stale pair just misses.
        let _ = std::fs::remove_file(n.dir.join("highlight.idx"));
        if std::fs::rename(&tmp_dat, n.dir.join("highlight.dat")).is_ok()
            && std::fs::write(&tmp_idx, buf).is_ok()
        {
            let _ = std::fs::rename(&tmp_idx, n.dir.join("highlight.idx"));
        }
        n.index.clear();
    }
}

impl Drop for Highlighter {
    fn drop(&mut self) {
        if let Some(next) = &self.next {
            if let Ok(n) = next.lock() {
                let _ = std::fs::remove_file(
                    n.dir
                        .join(format!("highlight.dat.tmp-{}", std::process::id())),
                );
            }
        }
    }
}

fn cache_key(lang: &str, code: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(lang.as_bytes());
    h.update(&[0]);
    h.update(code.as_bytes());
    h.digest128()
}

fn read_index(dir: &Path) -> Option<(Index, std::fs::File)> {
    let buf = std::fs::read(dir.join("highlight.idx")).ok()?;
    let file = std::fs::File::open(dir.join("highlight.dat")).ok()?;
    let size = file.metadata().ok()?.len();
    if buf.len() < 8 || buf[..8] != CACHE_VERSION.to_le_bytes() {
        return None;
    }
    let mut index = Index::new();
    for e in buf[8..].chunks_exact(28) {
        let key = u128::from_le_bytes(e[..16].try_into().ok()?);
        let off = u64::from_le_bytes(e[16..24].try_into().ok()?);
        let len = u32::from_le_bytes(e[24..28].try_into().ok()?);
        if off + len as u64 > size {
            return None;
        }
        index.insert(key, (off, len));
    }
    Some((index, file))
}

fn read_at(file: &std::fs::File, off: u64, len: u32) -> Option<String> {
    let mut buf = vec![0u8; len as usize];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buf, off).ok()?;
    }
    #[cfg(not(unix))]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file.seek_read(&mut buf[done..], off + done as u64).ok()?;
            if n == 0 {
                return None;
            }
            done += n;
        }
    }
    String::from_utf8(buf).ok()
}

pub fn highlight_uncached(lang: &str, code: &str) -> String {
    let ss = syntaxes();
    let syntax = match (!lang.is_empty())
        .then(|| ss.find_syntax_by_token(lang))
        .flatten()
    {
        Some(s) => s,
        None => return escape_html(code),
    };
    let mut gen = ClassedHTMLGenerator::new_with_class_style(syntax, ss, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        if gen
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return escape_html(code);
        }
    }
    gen.finalize()
}

/// The stylesheet for highlighted code: light by default, dark under
/// `prefers-color-scheme: dark` unless the reader chose light, and under `[data-theme=dark]`.
pub fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let light = css_for_theme_with_class_style(&themes.themes["InspiredGitHub"], CLASS_STYLE)
        .unwrap_or_default();
    let dark = css_for_theme_with_class_style(&themes.themes["base16-ocean.dark"], CLASS_STYLE)
        .unwrap_or_default();
    let light = readable(&strip_backgrounds(&light), LIGHT_CODE_BG);
    let dark = readable(&strip_backgrounds(&dark), DARK_CODE_BG);
    let mut out = String::from(
        "/* Generated by scalebook from syntect themes InspiredGitHub (light) and base16-ocean.dark (dark),\n   colours adjusted to at least 4.5:1 contrast on the code background (WCAG AA). */\n",
    );
    // Each theme is scoped to the modes it serves, so a rule only one theme has (say
    // `.hl-entity` in the light theme) never leaks into the other mode.
    out.push_str("@media (prefers-color-scheme: light) {\n");
    out.push_str(&scope(&light, ":root:not([data-theme=dark])"));
    out.push_str("}\n");
    out.push_str(&scope(&light, ":root[data-theme=light]"));
    out.push_str("@media (prefers-color-scheme: dark) {\n");
    out.push_str(&scope(&dark, ":root:not([data-theme=light])"));
    out.push_str("}\n");
    out.push_str(&scope(&dark, ":root[data-theme=dark]"));
    out
}

/// `--code-bg` of theme/style.css in light and dark mode.
const LIGHT_CODE_BG: [u8; 3] = [0xf6, 0xf8, 0xfa];
const DARK_CODE_BG: [u8; 3] = [0x16, 0x1c, 0x23];
const MIN_CONTRAST: f64 = 4.6;

/// Darkens (on a light background) or lightens (on a dark one) every `color: #rrggbb` until it
/// reads at WCAG AA against `bg`. The themes' hues stay; only too-faint colours move.
fn readable(css: &str, bg: [u8; 3]) -> String {
    let dark_bg = luminance(bg) < 0.5;
    css.lines()
        .map(|line| {
            let Some(at) = line.find("color: #") else {
                return format!("{line}\n");
            };
            let hex_start = at + "color: #".len();
            let hex: String = line[hex_start..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            let Some(mut rgb) = parse_hex(&hex) else {
                return format!("{line}\n");
            };
            let target = if dark_bg { 255.0 } else { 0.0 };
            while contrast(rgb, bg) < MIN_CONTRAST {
                rgb = rgb.map(|c| (c as f64 + (target - c as f64) * 0.08).round() as u8);
            }
            let new = format!("{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
            format!(
                "{}{}{}\n",
                &line[..hex_start],
                new,
                &line[hex_start + hex.len()..]
            )
        })
        .collect()
}

fn parse_hex(hex: &str) -> Option<[u8; 3]> {
    if hex.len() != 6 && hex.len() != 8 {
        return None;
    }
    let b = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([b(0)?, b(2)?, b(4)?])
}

fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Theme backgrounds would fight the site's own code background; keep only colours and
/// font styles.
fn strip_backgrounds(css: &str) -> String {
    css.lines()
        .filter(|l| !l.trim_start().starts_with("background-color"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn scope(css: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in css.lines() {
        let t = line.trim_start();
        if t.starts_with('.') && t.trim_end().ends_with('{') {
            let sels: Vec<String> = t
                .trim_end()
                .trim_end_matches('{')
                .split(',')
                .map(|s| format!("{prefix} {}", s.trim()))
                .collect();
            out.push_str(&sels.join(", "));
            out.push_str(" {\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes_unknown_falls_back_to_escaped_text() {
        let h = highlight_uncached("sh", "echo \"<hi>\"\n");
        assert!(h.contains("class=\"hl-"), "{h}");
        assert!(h.contains("&lt;hi&gt;"));
        assert_eq!(highlight_uncached("no-such-lang", "a < b\n"), "a &lt; b\n");
    }

    #[test]
    fn cache_round_trips_and_never_changes_output() {
        let dir = std::env::temp_dir().join(format!("sb-hl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = Highlighter::new(Some(&dir));
        let first = h.highlight("python", "def f():\n    return 1\n");
        h.save();
        drop(h);
        let h2 = Highlighter::new(Some(&dir));
        assert_eq!(h2.previous.as_ref().map(|p| p.0.len()), Some(1));
        assert_eq!(h2.highlight("python", "def f():\n    return 1\n"), first);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_highlight_colour_meets_aa_contrast_on_its_background() {
        let css = stylesheet();
        let mut selector = String::new();
        let (mut light, mut dark) = (0, 0);
        for line in css.lines() {
            if line.trim_end().ends_with('{') {
                selector = line.to_string();
            }
            let Some(hex) = line.split("color: #").nth(1) else {
                continue;
            };
            let c = parse_hex(&hex[..6]).unwrap();
            let is_dark = if selector.contains(":not([data-theme=light])") {
                true
            } else if selector.contains(":not([data-theme=dark])") {
                false
            } else {
                selector.contains("[data-theme=dark]")
            };
            let scoped = selector.contains("[data-theme=");
            let bg = if scoped && !is_dark {
                light += 1;
                LIGHT_CODE_BG
            } else if scoped {
                dark += 1;
                DARK_CODE_BG
            } else {
                panic!("rule not scoped to a mode: {selector}");
            };
            assert!(
                contrast(c, bg) >= 4.5,
                "{selector} #{}: {:.2}",
                &hex[..6],
                contrast(c, bg)
            );
        }
        assert!(light > 20 && dark > 20, "{light} {dark}");
        // The backgrounds assumed here are the theme's.
        let theme = include_str!("../theme/style.css");
        assert!(theme.contains("--code-bg: #f6f8fa") && theme.contains("--code-bg: #161c23"));
        // The known offender from the light theme got darker, keeping its hue.
        assert!(!css.contains("#62a35c"));
    }

    #[test]
    fn stylesheet_has_light_and_dark_rules() {
        let css = stylesheet();
        assert!(css.contains(".hl-"));
        assert!(css.contains(":root[data-theme=dark] .hl-"));
        assert!(css.contains(":root[data-theme=light] .hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
