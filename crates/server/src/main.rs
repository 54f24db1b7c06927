fn main() -> std::process::ExitCode {
    civgrid_server::cli::main()
}
