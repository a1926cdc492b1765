//! The EVM side: message calls and their frames (`exec.rs`), the journaled account and storage
//! state (`state.rs`), and the small interpreter that runs CREATE's init code (`init_code.rs`).

pub mod exec;
pub mod init_code;
pub mod state;
