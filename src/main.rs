fn main() -> std::process::ExitCode {
    support_operator::cli::main()
}
