//! The real `tafel` server, built inside this crate so end-to-end tests can start it as a
//! process (and kill it) without depending on another package's binaries being built.

fn main() -> anyhow::Result<()> {
    tafel_server::cli::main()
}
