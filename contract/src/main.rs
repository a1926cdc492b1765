//! Prints the contract's Solidity interface: `cargo run -p task-contract --features export-abi`.
//! `contract/abi/ITaskContract.sol` is this output, checked in (a test fails when it is stale).
//!
//! cargo-stylus runs this binary too: `export-abi` for the interface, and `constructor` to learn
//! the constructor's signature before deploying (it then deploys through its StylusDeployer,
//! which deploys, activates and constructs in one transaction).

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("constructor") => print!("{}", task_contract::interface::constructor_signature()),
        _ => print!("{}", task_contract::solidity_interface()),
    }
}
