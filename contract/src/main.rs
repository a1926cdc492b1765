//! Prints the contract's Solidity interface: `cargo run -p task-contract --features export-abi`.
//! `contract/abi/ITaskContract.sol` is this output, checked in (a test fails when it is stale).

fn main() {
    print!("{}", task_contract::solidity_interface());
}
