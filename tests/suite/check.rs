//! `scalebook check` tests.
