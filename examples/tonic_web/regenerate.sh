#!/usr/bin/env bash
# Regenerates upload.rs from upload.proto, both beside this script.
#
# The generated code is checked in so that force-cors needs no build script and no build
# dependencies. This script compiles the .proto with protox, a protobuf compiler written in Rust,
# and generates the Rust code with tonic-prost-build, in a temporary cargo project, so that no
# system protoc is needed. Keep the tonic-prost-build and protox versions on the same prost
# version as the tonic, tonic-prost and prost dev-dependencies in Cargo.toml.
#
# Usage: bash examples/tonic_web/regenerate.sh
set -euo pipefail

example_dir=$(cd "$(dirname "$0")" && pwd)
work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

mkdir -p "$work_dir/src"
cat >"$work_dir/Cargo.toml" <<'TOML'
[package]
name = "regenerate-upload-proto"
version = "0.0.0"
edition = "2024"
# The same minimum Rust version as force-cors, so that cargo picks the same tonic 0.14 release
# for the generator as for the dev-dependencies.
rust-version = "1.85"
publish = false

[dependencies]
protox = "0.10"
tonic-prost-build = { version = "0.14", default-features = false }
TOML

cat >"$work_dir/src/main.rs" <<'RUST'
use std::error::Error;
use std::path::PathBuf;

/// Compiles `upload.proto` from the directory in the first argument and writes the generated
/// server code into the directory in the second.
fn main() -> Result<(), Box<dyn Error>> {
    let mut arguments = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(proto_dir), Some(out_dir)) = (arguments.next(), arguments.next()) else {
        return Err("usage: regenerate-upload-proto PROTO_DIR OUT_DIR".into());
    };
    let descriptors = protox::compile(["upload.proto"], [&proto_dir])?;
    // The example only serves the service; its tests send hand-encoded messages.
    tonic_prost_build::configure()
        .build_client(false)
        .build_transport(false)
        .out_dir(&out_dir)
        .compile_fds(descriptors)?;
    Ok(())
}
RUST

mkdir -p "$work_dir/out"
# The temporary project has no lock file: cargo resolves the newest versions that support the
# rust-version above.
cargo run --quiet --manifest-path "$work_dir/Cargo.toml" -- "$example_dir" "$work_dir/out"

# The file is named after the proto package. rustfmt makes `cargo fmt --check` pass on it.
{
    echo "// Generated from upload.proto by regenerate.sh. Do not edit: run the script instead."
    echo
    cat "$work_dir/out/upload.rs"
} >"$example_dir/upload.rs"
rustfmt --edition 2024 "$example_dir/upload.rs"
echo "wrote $example_dir/upload.rs"
