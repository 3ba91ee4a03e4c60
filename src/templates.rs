//! Templates and theme files: the embedded defaults, replaced file by file by a site's own
//! `templates/` and `theme/`.
//!
//! Precedence (tested): a site file with the same name as a default wins; site files with
//! new names are added; defaults not overridden stay. Theme files are published under
//! content-hashed names so they can be cached forever.

use crate::assets;
use crate::diagnostics::Diagnostic;
use std::collections::BTreeMap;
use std::path::Path;

pub struct Theme {
    pub tera: tera::Tera,
    /// Theme file name (`style.css`) -> bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Loads defaults + overrides from `root`. Template syntax errors are diagnostics against
/// the template file.
pub fn load(root: &Path) -> (Theme, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut templates: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, bytes) in assets::embedded("templates/") {
        templates.insert(
            name.to_string(),
            (
                format!("(built-in) templates/{name}"),
                String::from_utf8_lossy(bytes).into_owned(),
            ),
        );
    }
    for (name, path) in site_files(&root.join("templates")) {
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                templates.insert(name.clone(), (format!("templates/{name}"), t));
            }
            Err(e) => diags.push(Diagnostic::error(
                "template",
                format!("templates/{name}"),
                format!("cannot read: {e}"),
            )),
        }
    }
    let mut files: BTreeMap<String, Vec<u8>> = assets::embedded("theme/")
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    for (name, path) in site_files(&root.join("theme")) {
        match std::fs::read(&path) {
            Ok(b) => {
                files.insert(name, b);
            }
            Err(e) => diags.push(Diagnostic::error(
                "theme",
                format!("theme/{name}"),
                format!("cannot read: {e}"),
            )),
        }
    }

    let mut tera = tera::Tera::new();
    tera.autoescape_on(vec![".html", ".xml"]);
    let sources = templates.iter().map(|(n, (_, t))| (n.as_str(), t.as_str()));
    if let Err(e) = tera.add_raw_templates(sources) {
        // Tera names the template in its message; point at the site's copy when it has one.
        let msg = error_chain(&e);
        let label = templates
            .iter()
            .find(|(n, _)| msg.contains(n.as_str()))
            .map(|(_, (l, _))| l.clone())
            .unwrap_or_else(|| "templates/".into());
        diags.push(Diagnostic::error(
            "template",
            label,
            format!("invalid template: {msg}"),
        ));
    }
    (Theme { tera, files }, diags)
}

fn site_files(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            (!rel.split('/').any(|s| s.starts_with('.'))).then(|| (rel, e.path().to_path_buf()))
        })
        .collect()
}

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `style.css` + bytes -> `theme/style.3f9a2c1b.css`.
pub fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let h = xxhash_rust::xxh3::xxh3_64(bytes);
    let hash = format!("{:016x}", h);
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("theme/{stem}.{}.{ext}", &hash[..10]),
        None => format!("theme/{name}.{}", &hash[..10]),
    }
}
