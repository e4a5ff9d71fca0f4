//! The `strongbox` binary: everything lives in the library; see `strongbox::cli`.

fn main() -> std::process::ExitCode {
    strongbox::cli::main()
}
