//! A small EVM interpreter for contract-creation init code. Stylus programs are deployed by init
//! code that copies the program's code out of itself and returns it; this interpreter runs such
//! code (stack, memory, jumps, arithmetic and comparison, code/calldata/context reads, RETURN and
//! REVERT). Init code that uses other opcodes (storage, calls, logs) fails with a clear error: the
//! devnet runs Stylus programs, not EVM contracts.

use alloy::primitives::{Address, U256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InitCodeError {
    #[error("init code uses opcode 0x{0:02x}, which the devnet's init-code interpreter does not support")]
    Unsupported(u8),
    #[error("init code reverted")]
    Reverted(Vec<u8>),
    #[error("init code: stack underflow at pc {0}")]
    StackUnderflow(usize),
    #[error("init code: stack overflow")]
    StackOverflow,
    #[error("init code: invalid jump to {0}")]
    BadJump(usize),
    #[error("init code: memory access out of range")]
    Memory,
    #[error("init code ran out of gas")]
    OutOfGas,
}

pub struct Context {
    pub address: Address,
    pub caller: Address,
    pub value: U256,
    pub gas: u64,
}

/// Runs `code`; the returned bytes and the gas used.
pub fn run(code: &[u8], ctx: &Context) -> Result<(Vec<u8>, u64), InitCodeError> {
    const MAX_MEMORY: usize = 1 << 24;
    let mut stack: Vec<U256> = Vec::new();
    let mut memory: Vec<u8> = Vec::new();
    let mut pc = 0usize;
    let mut gas = 0u64;
    let jumpdests = jumpdests(code);

    macro_rules! pop {
        () => {
            stack.pop().ok_or(InitCodeError::StackUnderflow(pc))?
        };
    }
    let usize_of = |v: U256| -> Result<usize, InitCodeError> {
        if v > U256::from(MAX_MEMORY) {
            Err(InitCodeError::Memory)
        } else {
            Ok(v.to::<usize>())
        }
    };
    // Grows memory to cover [offset, offset + len), charging EVM memory gas.
    let expand = |memory: &mut Vec<u8>, gas: &mut u64, offset: usize, len: usize| {
        if len == 0 {
            return Ok(());
        }
        let end = offset.checked_add(len).ok_or(InitCodeError::Memory)?;
        if end > MAX_MEMORY {
            return Err(InitCodeError::Memory);
        }
        let words = |bytes: usize| bytes.div_ceil(32) as u64;
        let cost = |w: u64| 3 * w + w * w / 512;
        if end > memory.len() {
            *gas += cost(words(end)) - cost(words(memory.len()));
            memory.resize(words(end) as usize * 32, 0);
        }
        Ok(())
    };

    while pc < code.len() {
        let op = code[pc];
        gas += 3;
        if gas > ctx.gas {
            return Err(InitCodeError::OutOfGas);
        }
        match op {
            0x00 => return Ok((Vec::new(), gas)),
            0x01 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a.wrapping_add(b));
            }
            0x02 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a.wrapping_mul(b));
            }
            0x03 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a.wrapping_sub(b));
            }
            0x04 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a.checked_div(b).unwrap_or_default());
            }
            0x10 => {
                let (a, b) = (pop!(), pop!());
                stack.push(U256::from(a < b));
            }
            0x11 => {
                let (a, b) = (pop!(), pop!());
                stack.push(U256::from(a > b));
            }
            0x14 => {
                let (a, b) = (pop!(), pop!());
                stack.push(U256::from(a == b));
            }
            0x15 => {
                let a = pop!();
                stack.push(U256::from(a.is_zero()));
            }
            0x16 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a & b);
            }
            0x17 => {
                let (a, b) = (pop!(), pop!());
                stack.push(a | b);
            }
            0x30 => stack.push(U256::from_be_slice(ctx.address.as_slice())),
            0x33 => stack.push(U256::from_be_slice(ctx.caller.as_slice())),
            0x34 => stack.push(ctx.value),
            0x36 => stack.push(U256::ZERO),
            0x38 => stack.push(U256::from(code.len())),
            0x39 => {
                let (dest, offset, len) = (pop!(), pop!(), pop!());
                let (dest, len) = (usize_of(dest)?, usize_of(len)?);
                expand(&mut memory, &mut gas, dest, len)?;
                gas += 3 * (len as u64).div_ceil(32);
                for i in 0..len {
                    let src = offset
                        .checked_add(U256::from(i))
                        .filter(|s| *s < U256::from(code.len()));
                    memory[dest + i] = src.map_or(0, |s| code[s.to::<usize>()]);
                }
            }
            0x50 => {
                pop!();
            }
            0x51 => {
                let offset = usize_of(pop!())?;
                expand(&mut memory, &mut gas, offset, 32)?;
                stack.push(U256::from_be_slice(&memory[offset..offset + 32]));
            }
            0x52 => {
                let (offset, value) = (usize_of(pop!())?, pop!());
                expand(&mut memory, &mut gas, offset, 32)?;
                memory[offset..offset + 32].copy_from_slice(&value.to_be_bytes::<32>());
            }
            0x53 => {
                let (offset, value) = (usize_of(pop!())?, pop!());
                expand(&mut memory, &mut gas, offset, 1)?;
                memory[offset] = value.byte(0);
            }
            0x56 | 0x57 => {
                let dest = pop!();
                let jump = if op == 0x57 { !pop!().is_zero() } else { true };
                if jump {
                    let d = usize_of(dest).map_err(|_| InitCodeError::BadJump(usize::MAX))?;
                    if !jumpdests.get(d).copied().unwrap_or(false) {
                        return Err(InitCodeError::BadJump(d));
                    }
                    pc = d;
                    continue;
                }
            }
            0x58 => stack.push(U256::from(pc)),
            0x59 => stack.push(U256::from(memory.len())),
            0x5a => stack.push(U256::from(ctx.gas - gas)),
            0x5b => {}
            0x5f..=0x7f => {
                let n = (op - 0x5f) as usize;
                let mut word = [0u8; 32];
                for i in 0..n {
                    word[32 - n + i] = code.get(pc + 1 + i).copied().unwrap_or(0);
                }
                stack.push(U256::from_be_bytes(word));
                pc += n;
            }
            0x80..=0x8f => {
                let n = (op - 0x80) as usize + 1;
                if stack.len() < n {
                    return Err(InitCodeError::StackUnderflow(pc));
                }
                stack.push(stack[stack.len() - n]);
            }
            0x90..=0x9f => {
                let n = (op - 0x90) as usize + 1;
                if stack.len() <= n {
                    return Err(InitCodeError::StackUnderflow(pc));
                }
                let top = stack.len() - 1;
                stack.swap(top, top - n);
            }
            0xf3 | 0xfd => {
                let (offset, len) = (usize_of(pop!())?, usize_of(pop!())?);
                expand(&mut memory, &mut gas, offset, len)?;
                let out = if len == 0 {
                    Vec::new()
                } else {
                    memory[offset..offset + len].to_vec()
                };
                return if op == 0xf3 {
                    Ok((out, gas))
                } else {
                    Err(InitCodeError::Reverted(out))
                };
            }
            other => return Err(InitCodeError::Unsupported(other)),
        }
        if stack.len() > 1024 {
            return Err(InitCodeError::StackOverflow);
        }
        pc += 1;
    }
    Ok((Vec::new(), gas))
}

fn jumpdests(code: &[u8]) -> Vec<bool> {
    let mut out = vec![false; code.len()];
    let mut pc = 0;
    while pc < code.len() {
        let op = code[pc];
        if op == 0x5b {
            out[pc] = true;
        }
        pc += if (0x60..=0x7f).contains(&op) {
            (op - 0x5f) as usize + 1
        } else {
            1
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stylus::program::init_code;

    fn ctx() -> Context {
        Context {
            address: Address::ZERO,
            caller: Address::ZERO,
            value: U256::ZERO,
            gas: 1_000_000,
        }
    }

    #[test]
    fn deploy_prelude_returns_the_code() {
        let code: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let (out, gas) = run(&init_code(&code), &ctx()).unwrap();
        assert_eq!(out, code);
        assert!(gas > 0);
    }

    #[test]
    fn jumps_arithmetic_and_revert() {
        // PUSH1 1 PUSH1 2 ADD PUSH1 3 EQ PUSH1 12 JUMPI INVALID... JUMPDEST PUSH1 0 PUSH1 0 REVERT
        let code = [
            0x60, 1, 0x60, 2, 0x01, 0x60, 3, 0x14, 0x60, 12, 0x57, 0xfe, 0x5b, 0x60, 0, 0x60, 0,
            0xfd,
        ];
        assert_eq!(run(&code, &ctx()), Err(InitCodeError::Reverted(Vec::new())));
        assert_eq!(
            run(&[0x60, 5, 0x56, 0xfe, 0xfe, 0x5b], &ctx()).map(|(out, _)| out),
            Ok(Vec::new())
        );
        assert_eq!(
            run(&[0x60, 3, 0x56, 0x00], &ctx()),
            Err(InitCodeError::BadJump(3))
        );
        assert_eq!(run(&[0x55], &ctx()), Err(InitCodeError::Unsupported(0x55)));
        assert_eq!(run(&[0x01], &ctx()), Err(InitCodeError::StackUnderflow(0)));
    }
}
