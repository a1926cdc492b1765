//! Prints the program's Solidity interface (`cargo stylus export-abi` runs this).

#[cfg(feature = "export-abi")]
fn main() {
    stylus_sdk::abi::export::print_from_args::<cache_manager::CacheManager>();
}
