//! The one integration-test binary: a module per feature, fixture sites under
//! `tests/fixtures/`. Builds run in-process; the real binary only where exit codes and
//! stderr matter.

mod util;

mod build;
mod check;
mod commonmark;
mod robust;
mod run;
mod search;
mod serve;
