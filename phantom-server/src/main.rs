//! The `phantom` command.

fn main() -> std::process::ExitCode {
    phantom_server::cli::main()
}
