//! Noticing edits: a snapshot of the watched files' sizes and modification times, compared
//! every poll, and a pure classification of what changed into what to rebuild.
//!
//! Polling is portable (no inotify/FSEvents differences, works on network and container
//! mounts) and cheap: one `stat` per file, a few milliseconds for a thousand pages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What kind of input a changed path is, relative to the site root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Editor litter and other files no build reads.
    Ignored,
    /// Markdown or an asset under the content folder.
    Content,
    /// A file under `static/`, copied as it is.
    Static,
    /// A file under `theme/`.
    Theme,
    /// A file under `templates/`.
    Template,
    /// `scalebook.toml`: options must be reloaded before the build.
    Config,
}

/// What a batch of changes asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    /// Build again with the same options. A full build: at a thousand pages it takes a few
    /// hundred milliseconds (the highlight cache makes code blocks cheap), so finer-grained
    /// rebuilds are not worth their bugs yet.
    Rebuild,
    /// Read `scalebook.toml` again, then build.
    ReloadConfig,
}

/// Classifies one changed path (relative to the site root, `/`-separated or native).
pub fn classify(rel: &Path, content_dir: &str) -> Change {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let Some(name) = parts.last() else {
        return Change::Ignored;
    };
    if is_litter(name) || parts.iter().any(|p| p.starts_with('.')) {
        return Change::Ignored;
    }
    if parts.len() == 1 && name == crate::config::CONFIG_FILE {
        return Change::Config;
    }
    let content: Vec<&str> = content_dir
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.len() > content.len() && parts.iter().zip(&content).all(|(a, b)| a == b) {
        return Change::Content;
    }
    match parts[0].as_str() {
        "templates" if parts.len() > 1 => Change::Template,
        "theme" if parts.len() > 1 => Change::Theme,
        "static" if parts.len() > 1 => Change::Static,
        _ => Change::Ignored,
    }
}

/// Backup, swap and temporary files editors write next to the real one.
fn is_litter(name: &str) -> bool {
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
}

/// The plan for a batch of changed paths.
pub fn plan<'a>(changed: impl IntoIterator<Item = &'a Path>, content_dir: &str) -> Plan {
    let worst = changed
        .into_iter()
        .map(|p| classify(p, content_dir))
        .max()
        .unwrap_or(Change::Ignored);
    match worst {
        Change::Ignored => Plan::Nothing,
        Change::Config => Plan::ReloadConfig,
        _ => Plan::Rebuild,
    }
}

/// Size and modification time of every watched file, keyed by path relative to the root.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    files: BTreeMap<PathBuf, (Option<SystemTime>, u64)>,
}

impl Snapshot {
    /// Looks at the content folder, `templates/`, `theme/`, `static/` and `scalebook.toml`
    /// under `root`.
    pub fn take(root: &Path, content_dir: &str) -> Snapshot {
        let mut files = BTreeMap::new();
        let config = root.join(crate::config::CONFIG_FILE);
        if let Ok(m) = std::fs::metadata(&config) {
            files.insert(
                PathBuf::from(crate::config::CONFIG_FILE),
                (m.modified().ok(), m.len()),
            );
        }
        for dir in [content_dir, "templates", "theme", "static"] {
            let walker = walkdir::WalkDir::new(root.join(dir))
                .follow_links(true)
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for e in walker.filter_map(Result::ok) {
                if !e.file_type().is_file() {
                    continue;
                }
                let Ok(m) = e.metadata() else { continue };
                let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                files.insert(rel.to_path_buf(), (m.modified().ok(), m.len()));
            }
        }
        Snapshot { files }
    }

    /// Paths added, removed or modified since `older`.
    pub fn changed_since(&self, older: &Snapshot) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|(p, v)| older.files.get(*p) != Some(v))
            .map(|(p, _)| p.clone())
            .collect();
        out.extend(
            older
                .files
                .keys()
                .filter(|p| !self.files.contains_key(*p))
                .cloned(),
        );
        out.sort();
        out
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &str) -> Change {
        classify(Path::new(p), "playbooks")
    }

    #[test]
    fn paths_are_classified_by_their_top_folder() {
        assert_eq!(c("playbooks/traffic/a.md"), Change::Content);
        assert_eq!(c("playbooks/img/x.png"), Change::Content);
        assert_eq!(c("templates/page.html"), Change::Template);
        assert_eq!(c("templates/partials/list.html"), Change::Template);
        assert_eq!(c("theme/style.css"), Change::Theme);
        assert_eq!(c("static/robots.txt"), Change::Static);
        assert_eq!(c("scalebook.toml"), Change::Config);
        assert_eq!(c("public/index.html"), Change::Ignored);
        assert_eq!(c("README.md"), Change::Ignored);
        assert_eq!(c("templates"), Change::Ignored);
    }

    #[test]
    fn editor_litter_and_hidden_files_are_ignored() {
        for p in [
            "playbooks/a.md~",
            "playbooks/.a.md.swp",
            "playbooks/#a.md#",
            "playbooks/.#a.md",
            "playbooks/4913",
            "playbooks/.git/HEAD",
            ".scalebook-cache/highlight.bin",
            "theme/style.css.tmp",
        ] {
            assert_eq!(c(p), Change::Ignored, "{p}");
        }
    }

    #[test]
    fn a_nested_content_dir_is_recognised() {
        assert_eq!(
            classify(Path::new("docs/runbooks/a.md"), "docs/runbooks"),
            Change::Content
        );
        assert_eq!(
            classify(Path::new("docs/other.md"), "docs/runbooks"),
            Change::Ignored
        );
        assert_eq!(
            classify(Path::new("a.md"), "."),
            Change::Content,
            "content at the root"
        );
    }

    #[test]
    fn the_worst_change_decides_the_plan() {
        let paths = |ps: &[&'static str]| ps.iter().map(|p| Path::new(*p)).collect::<Vec<_>>();
        assert_eq!(plan(paths(&[]), "playbooks"), Plan::Nothing);
        assert_eq!(plan(paths(&["x.md~"]), "playbooks"), Plan::Nothing);
        assert_eq!(plan(paths(&["playbooks/a.md"]), "playbooks"), Plan::Rebuild);
        assert_eq!(
            plan(paths(&["theme/a.css", "scalebook.toml"]), "playbooks"),
            Plan::ReloadConfig
        );
    }

    #[test]
    fn snapshots_see_added_modified_and_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("playbooks")).unwrap();
        std::fs::write(root.join("playbooks/a.md"), "a").unwrap();
        std::fs::write(root.join("playbooks/b.md"), "b").unwrap();
        let s1 = Snapshot::take(root, "playbooks");
        assert_eq!(s1.len(), 2);
        std::fs::write(root.join("playbooks/a.md"), "aa").unwrap();
        std::fs::remove_file(root.join("playbooks/b.md")).unwrap();
        std::fs::write(root.join("scalebook.toml"), "").unwrap();
        let s2 = Snapshot::take(root, "playbooks");
        let changed = s2.changed_since(&s1);
        assert_eq!(
            changed,
            vec![
                PathBuf::from("playbooks/a.md"),
                PathBuf::from("playbooks/b.md"),
                PathBuf::from("scalebook.toml")
            ]
        );
        assert!(Snapshot::take(root, "playbooks")
            .changed_since(&s2)
            .is_empty());
    }
}
