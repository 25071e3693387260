fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ifctl::cli::run(std::env::args_os().collect()))
}
