//! `scalebook run` tests.
