//! One file per subcommand: its clap `Args` and a `run` returning the process exit code.
pub mod bench;
pub mod evaluate;
pub mod normalize;
pub mod simulate;
