//! The real `latchkey` executable, spawned as a child process: the command-line tools,
//! a SIGTERM that lets in-flight requests finish, and a SIGKILL that loses nothing
//! acknowledged. Each test starts its own server on a free port with its own data
//! directory, so they run side by side.
//!
//! Helpers: `support::process` (start the binary, a minimal HTTP client with a cookie jar).

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod restart;
mod shutdown;
mod standalone_binary;
mod startup;
mod tamper_demo;
