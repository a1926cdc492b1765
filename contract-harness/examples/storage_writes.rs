//! Prints the storage slots each protocol call changes (dirty slots, i.e. SSTOREs that Nitro
//! would flush), on a network of `NODES` nodes: `cargo run -p contract-harness --example storage_writes`.

#[path = "../tests/common/mod.rs"]
mod common;

use alloy_primitives::U256;
use common::*;
use contract_harness::ITaskContract;

fn main() {
    let mut net = Net::new();
    let report =
        |name: &str, net: &Net| println!("{name:<34} {:>3} slots", net.chain.last_slots_written());
    for i in 0..5 {
        net.join(i);
    }
    report("join (5th node)", &net);
    let t = net.create_sampled(false, ETH);
    report("createTask (dispatched)", &net);
    net.upload_params(t.commitment).unwrap();
    report("reportTaskParametersUploaded", &net);
    net.submit(t.commitment, &[1u8; 8]).unwrap();
    report("submitTaskScore", &net);
    net.validate_single(t.commitment).unwrap();
    report("validateSingleTask", &net);
    net.upload_result(t.commitment).unwrap();
    report("reportTaskResultUploaded", &net);
    for i in 0..5 {
        net.chain
            .send(
                net.nodes[i].address,
                U256::ZERO,
                ITaskContract::pauseCall {},
            )
            .unwrap();
    }
    let q = net.create(ETH);
    report("createTask (queued)", &net);
    net.chain
        .send(
            net.nodes[0].address,
            U256::ZERO,
            ITaskContract::resumeCall {},
        )
        .unwrap();
    report("resume (takes the queued task)", &net);
    net.chain.advance(UPLOAD_TIMEOUT + 1);
    net.abort(net.app.address, q.commitment, 1).unwrap();
    report("abortTask (Started, past its deadline)", &net);
    net.chain
        .send(net.nodes[1].address, U256::ZERO, ITaskContract::quitCall {})
        .unwrap();
    report("quit (paused node)", &net);
}
