//! scalebook: markdown playbooks and case studies in, a searchable static site with runnable
//! checklists out. See ARCHITECTURE.md for the map.

pub mod assets;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod content;
pub mod dates;
pub mod diagnostics;
pub mod highlight;
pub mod markdown;
pub mod output;
pub mod render;
pub mod runfile;
pub mod runner;
pub mod search;
pub mod serve;
pub mod site;
pub mod templates;
