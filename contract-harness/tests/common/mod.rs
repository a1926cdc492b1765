//! The scenario tests' network (`contract_harness::net`) and the chain trait its methods need.
#![allow(unused_imports)]

pub use contract_harness::net::*;
pub use contract_harness::ProtocolChain;

/// Runs each scenario `fn name<C: ProtocolChain>(net: Net<C>)` as two tests: `name::harness` on
/// the native chain and `name::test_vm` on stylus-sdk's test VM.
#[allow(unused_macros)]
macro_rules! on_both_hosts {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn harness() {
                super::$name(contract_harness::net::Net::new());
            }

            #[test]
            fn test_vm() {
                super::$name(contract_harness::net::Net::on(contract_harness::TestVmChain::new()));
            }
        }
    )*};
}
