//! The catalog snapshot model: types, stable keys, signatures and diff.
//!
//! Owns the shape of a snapshot as the web app and the server both see it. It must never
//! do I/O (no network, files, clocks or randomness), so the same code compiles for the
//! server and for the wasm32 web app and gives the same answers in both.

// Every public item of the wire contract and the model is documented: the web app, the
// server and the tests all read these types, and rustdoc is their reference.
#![warn(missing_docs)]

pub mod api;
pub mod diff;
pub mod export;
pub mod keys;
pub mod merge;
pub mod normalize;
pub mod signature;
mod types;
pub mod upgrade;

#[cfg(test)]
mod testutil;

pub use types::*;
