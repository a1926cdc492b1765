//! The task contract's extension program: the methods of `task_contract::extension` (views, the
//! owner's calls, the node registry), which the task contract delegates to. The program is the
//! `task-contract` library built with its `extension` feature, whose entry point dispatches to
//! those methods; this crate only selects that build, so that cargo-stylus can deploy it as a
//! package of its own.

#![no_std]

pub use task_contract;
