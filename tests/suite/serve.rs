//! `scalebook serve` tests.
