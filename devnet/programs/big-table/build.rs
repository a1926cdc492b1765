//! Writes the table: 30,000 xorshift bytes, which brotli cannot shrink, so that the program is
//! too big for one 24 KiB code chunk whatever the compiler does with the rest.

fn main() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let table: Vec<u8> = (0..big_table_len())
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out).join("table.bin"), table).expect("writing the table");
    println!("cargo::rerun-if-changed=build.rs");
}

fn big_table_len() -> usize {
    30_000
}
