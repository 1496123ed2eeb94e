//! The catalog snapshot model: types, stable keys, signatures and diff.
//!
//! Owns the shape of a snapshot as the web app and the server both see it. It must never
//! do I/O (no network, files, clocks or randomness), so the same code compiles for the
//! server and for the wasm32 web app and gives the same answers in both.

pub mod api;
pub mod diff;
pub mod keys;
pub mod merge;
pub mod signature;
mod types;

#[cfg(test)]
mod testutil;

pub use types::*;
