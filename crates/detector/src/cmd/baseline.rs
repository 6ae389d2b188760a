//! `detector baseline show ENTITY`: what the engine believes is normal for an entity.

use std::process::ExitCode;

use crate::cmd::scan::StateArgs;
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// The stored baseline of a principal ARN, access key id, bucket or ENI id.
    Show {
        /// e.g. arn:aws:iam::111122223333:user/alice, AKIA..., my-bucket, eni-0123...
        entity: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut store = Store::open_or_default(args.state.state.as_deref())?;
    let What::Show { entity } = args.what;
    let views = crate::pipeline::describe(&entity, &mut store)?;
    if views.is_empty() {
        eprintln!("error: no baseline for {entity} (scan some logs first, or check the spelling)");
        return Ok(ExitCode::from(1));
    }
    let obj: serde_json::Map<String, serde_json::Value> = views
        .into_iter()
        .map(|(id, v)| (id.to_string(), v))
        .collect();
    println!("{}", serde_json::to_string_pretty(&obj)?);
    Ok(ExitCode::SUCCESS)
}
