#!/usr/bin/env bash
# Sourced by the other scripts. rustup installs the targets and components of rust-toolchain.toml
# only together with the toolchain; a machine that already has 1.95.0 may lack the wasm32 target
# (seen on a fresh machine), so add what is missing.
installed_targets=$(rustup target list --installed)
grep -qx wasm32-unknown-unknown <<<"$installed_targets" || rustup target add wasm32-unknown-unknown
installed_components=$(rustup component list --installed)
for component in rustfmt clippy; do
  grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done
