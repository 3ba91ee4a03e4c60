//! One page through the whole pipeline: front matter split and parse, markdown passes,
//! templates, search, listings. The input is the page's bytes; the site around it is fixed.
//! A build may report content errors, but it must never panic and never write a path outside
//! the output (the in-memory sink enforces the same rule as the disk one; checked again here).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scalebook::config::BuildOptions;
use scalebook::output::{check_rel_path, Memory};
use std::path::PathBuf;
use std::sync::OnceLock;

/// A site folder made once per process; each input overwrites its one page.
fn site() -> &'static PathBuf {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("scalebook-fuzz-{}", std::process::id()));
        let topic = root.join("playbooks/topic");
        std::fs::create_dir_all(&topic).expect("fuzz site");
        std::fs::write(root.join("playbooks/_index.md"), "# Home\n").unwrap();
        std::fs::write(topic.join("_index.md"), "# Topic\n").unwrap();
        std::fs::write(
            topic.join("other.md"),
            "+++\ntitle = \"Other\"\n+++\n## Steps\n\n- [ ] one\n",
        )
        .unwrap();
        root
    })
}

fuzz_target!(|page: &[u8]| {
    let root = site();
    std::fs::write(root.join("playbooks/topic/page.md"), page).unwrap();
    let mut opts = BuildOptions::for_root(root).expect("options");
    opts.no_cache = true;
    opts.today = 20_000;
    let mem = Memory::default();
    let _ = scalebook::site::build(&opts, &mem);
    for key in mem.into_files().keys() {
        assert!(check_rel_path(key).is_ok(), "wrote `{key}`");
    }
});
