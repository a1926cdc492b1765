//! The L1 poster cost Arbitrum adds to every transaction, as Nitro computes it: the signed
//! transaction is brotli-compressed (level 1 from ArbOS 20, window 22), each compressed byte is 16
//! calldata units, the units cost the L1 price per unit, and that cost is charged as L2 gas at the
//! base fee (`arbos/l1pricing/l1pricing.go`, `getPosterUnitsWithoutCache`, `PosterDataCost`;
//! `arbos/tx_processor.go`, `GasChargingHook`, `GetPosterGas`; `arbcompress`). The gas is taken
//! before execution starts and is reported as the receipt's `gasUsedForL1`.

use alloy::primitives::{address, keccak256, Address, Bytes, U256};
use alloy::rlp::Encodable;
use std::io::Write;

/// The L1 price per calldata unit when none is configured: 0.1 gwei. Since EIP-4844 the batch
/// poster pays blob prices, so the price per unit Arbitrum charges sits far below L1's execution
/// base fee; this is an assumption, set with `devnet --l1-price-per-unit`.
pub const DEFAULT_PRICE_PER_UNIT: u128 = 100_000_000;

/// The sequencer's batch poster (`l1pricing.BatchPosterAddress`): the poster of every sequenced
/// message, hence every block's coinbase (`arbos/block_processor.go`, `createNewHeader`).
pub const BATCH_POSTER: Address = address!("a4b000000000000000000073657175656e636572");
/// Where the poster fees go (`l1pricing.L1PricerFundsPoolAddress`; `arbos/tx_processor.go`,
/// `EndTxHook`), to pay the batch poster later.
pub const L1_PRICER_FUNDS_POOL: Address = address!("a4b00000000000000000000000000000000000f6");

/// `ArbosState.BrotliCompressionLevel`, set to 1 by the ArbOS 20 upgrade.
pub const BROTLI_LEVEL: u32 = 1;
/// `arbcompress.WINDOW_SIZE`.
const BROTLI_WINDOW: u32 = 22;
/// `params.TxDataNonZeroGasEIP2028`: calldata units per compressed byte.
const UNITS_PER_BYTE: u64 = 16;
/// Estimation pads the units of its stand-in transaction (`estimationPaddingUnits`,
/// `estimationPaddingBasisPoints`) and the cost (`GasEstimationL1PricePadding`, 110%).
const ESTIMATION_PADDING_UNITS: u64 = 16 * UNITS_PER_BYTE;
const ESTIMATION_PADDING_BIPS: u64 = 100;
const ESTIMATION_PRICE_PADDING_BIPS: u64 = 11_000;
const ONE_IN_BIPS: u64 = 10_000;

/// Bytes of `data` after brotli at Nitro's level and window.
pub fn compressed_len(data: &[u8]) -> u64 {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_LEVEL as i32,
        lgwin: BROTLI_WINDOW as i32,
        // As the one-shot encoder Nitro calls knows the input's size.
        size_hint: data.len(),
        ..Default::default()
    };
    // The whole input in one write, as the one-shot encoder takes it: fed in smaller pieces,
    // the fast levels close a block at each piece and the output differs.
    let mut writer = brotli::CompressorWriter::with_params(Vec::new(), 4_096, &params);
    writer
        .write_all(data)
        .expect("compressing into a Vec cannot fail");
    writer.into_inner().len() as u64
}

/// Calldata units of a signed transaction (its EIP-2718 bytes).
pub fn poster_units(tx: &[u8]) -> u64 {
    compressed_len(tx) * UNITS_PER_BYTE
}

/// The poster cost as L2 gas: price x units / base fee, rounded down.
pub fn poster_gas(units: u64, price_per_unit: u128, base_fee: u64) -> u64 {
    if base_fee == 0 {
        return 0;
    }
    let cost = U256::from(price_per_unit) * U256::from(units);
    u64::try_from(cost / U256::from(base_fee)).unwrap_or(u64::MAX)
}

/// The poster gas eth_estimateGas adds, from Nitro's stand-in transaction for the call: its
/// units padded, the cost padded by 10%, and priced at 7/8 of the base fee but not below the
/// minimum base fee (`GetPosterGas` in estimation mode).
pub fn estimation_poster_gas(
    to: Option<Address>,
    value: U256,
    data: &Bytes,
    nonce: Option<u64>,
    price_per_unit: u128,
    base_fee: u64,
    min_base_fee: u64,
) -> u64 {
    let units = poster_units(&stand_in_transaction(to, value, data, nonce));
    let units =
        (units + ESTIMATION_PADDING_UNITS) * (ONE_IN_BIPS + ESTIMATION_PADDING_BIPS) / ONE_IN_BIPS;
    let cost =
        U256::from(price_per_unit) * U256::from(units) * U256::from(ESTIMATION_PRICE_PADDING_BIPS)
            / U256::from(ONE_IN_BIPS);
    let price = (base_fee * 7 / 8).max(min_base_fee);
    if price == 0 {
        return 0;
    }
    u64::try_from(cost / U256::from(price)).unwrap_or(u64::MAX)
}

/// `makeFakeTxForMessage`: an EIP-1559 transaction with the call's fields and fixed stand-ins
/// for what a call does not have (nonce, fees, gas, signature), as Nitro encodes it (no chain
/// id, `V` = 3 x 42161).
fn stand_in_transaction(
    to: Option<Address>,
    value: U256,
    data: &Bytes,
    nonce: Option<u64>,
) -> Vec<u8> {
    let word = |label: &str| keccak256(label.as_bytes());
    let first4 = |label: &str| {
        let w = word(label);
        u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    let random_nonce = {
        let w = word("Nonce");
        u64::from_be_bytes(w[..8].try_into().expect("8 bytes"))
    };
    let nonce = nonce.filter(|n| *n != 0).unwrap_or(random_nonce);
    let mut fields = Vec::new();
    // ChainID: nil, encoded as the empty string.
    0u64.encode(&mut fields);
    nonce.encode(&mut fields);
    first4("GasTipCap").encode(&mut fields);
    first4("GasFeeCap").encode(&mut fields);
    first4("Gas").encode(&mut fields);
    match to {
        Some(a) => a.encode(&mut fields),
        None => fields.push(0x80),
    }
    value.encode(&mut fields);
    data.encode(&mut fields);
    // An empty access list.
    fields.push(0xc0);
    U256::from(42_161u64 * 3).encode(&mut fields);
    U256::from_be_bytes(word("R").0).encode(&mut fields);
    U256::from_be_bytes(word("S").0).encode(&mut fields);
    let mut out = vec![0x02];
    alloy::rlp::Header {
        list: true,
        payload_length: fields.len(),
    }
    .encode(&mut out);
    out.extend(fields);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poster_gas_is_units_times_price_over_the_base_fee() {
        assert_eq!(poster_gas(1_600, 100_000_000, 100_000_000), 1_600);
        assert_eq!(poster_gas(1_600, 50, 100), 800);
        assert_eq!(poster_gas(3, 1, 2), 1, "rounded down");
        assert_eq!(poster_gas(1_600, 0, 100), 0);
    }

    #[test]
    fn the_stand_in_transaction_is_a_well_formed_typed_transaction() {
        let tx = stand_in_transaction(
            Some(Address::repeat_byte(1)),
            U256::from(5),
            &Bytes::new(),
            None,
        );
        assert_eq!(tx[0], 0x02);
        let mut rest = &tx[1..];
        let header = alloy::rlp::Header::decode(&mut rest).unwrap();
        assert!(header.list);
        assert_eq!(header.payload_length, rest.len());
    }
}
