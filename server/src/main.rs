//! The `tafel` binary. Everything is in the library; see `tafel_server::cli`.

fn main() -> anyhow::Result<()> {
    tafel_server::cli::main()
}
