//! One file per subcommand: its clap `Args` and a `run` returning the process exit code.
pub mod baseline;
pub mod bench;
pub mod conformance;
pub mod demo;
pub mod entities;
pub mod evaluate;
pub mod feedback;
pub mod findings;
pub mod geo;
pub mod incidents;
pub mod inventory;
pub mod normalize;
pub mod review;
pub mod scan;
pub mod simulate;
