//! `scalebook build` tests.
