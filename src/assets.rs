//! The default templates and theme, embedded in the binary so `scalebook` works in a folder
//! that holds only markdown. This table is the one list of embedded files; a test proves it
//! matches the `templates/` and `theme/` folders exactly.

pub struct Embedded {
    /// Path relative to the repository root, e.g. `templates/page.html`.
    pub path: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! embed {
    ($($p:literal),* $(,)?) => {
        &[$(Embedded { path: $p, bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $p)) }),*]
    };
}

pub const EMBEDDED: &[Embedded] = embed!(
    "templates/404.html",
    "templates/alias.html",
    "templates/atom.xml",
    "templates/base.html",
    "templates/index.html",
    "templates/page.html",
    "templates/partials/page_list.html",
    "templates/reviews.html",
    "templates/search.html",
    "templates/section.html",
    "templates/sitemap.xml",
    "templates/tag.html",
    "templates/tags.html",
    "theme/base.js",
    "theme/checklist.css",
    "theme/checklist.js",
    "theme/favicon.svg",
    "theme/highlight.css",
    "theme/search.css",
    "theme/search.js",
    "theme/style.css",
);

pub fn embedded(prefix: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    EMBEDDED
        .iter()
        .filter_map(move |e| e.path.strip_prefix(prefix).map(|rest| (rest, e.bytes)))
}
