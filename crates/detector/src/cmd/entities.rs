//! `detector entities PATH...`: the entities of every event as JSON lines, with scores and
//! explanations; uncertain ones go to the review queue. `detector entities train` retrains the
//! entity model from the labelled set plus review decisions; `detector entities eval FILE`
//! prints precision, recall and F1 per type.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use detector_core::entity::dataset::{self, EvalReport, Example, Split};
use detector_core::entity::fields::short_service;
use detector_core::entity::{
    CrfModel, Decision, Entity, EntityConfig, Extractor, account_of, principal_of,
};
use detector_core::{Event, EventData};

use crate::cmd::normalize::InputArgs;
use crate::ingest;
use crate::store::Store;
use crate::store::review::{NewItem, ReviewContext};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Files or folders (read recursively; `.gz` or plain) and `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub entity: EntityArgs,
    /// Also print entities in the review band (marked `"decision":"review"`).
    #[arg(long)]
    pub all: bool,
    /// Do not put review-band entities in the review queue.
    #[arg(long)]
    pub no_queue: bool,
    /// Write JSON lines here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Retrain the entity model from the labelled set (train split) plus review decisions.
    Train(TrainArgs),
    /// Precision, recall and F1 per type on a labelled set (default: the built-in test split).
    Eval(EvalArgs),
}

/// Options shared by every command that extracts entities.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EntityArgs {
    /// Config file (TOML); thresholds come from its `[entities]` table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Entity model (CRFsuite file). Default: the one `entities train` wrote next to the
    /// state store if there is one, else the model built into this binary.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Rules only, no learned model (to see what the model adds).
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// State store (SQLite) holding the review queue. Default: $DETECTOR_STATE, else
    /// $XDG_DATA_HOME/detector/state.db or ~/.local/share/detector/state.db.
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// Which model an extractor runs.
#[derive(Debug, Clone)]
pub enum ModelSource {
    File(PathBuf),
    BuiltIn,
    None,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::File(p) => write!(f, "{}", p.display()),
            ModelSource::BuiltIn => f.write_str("built-in"),
            ModelSource::None => f.write_str("none (rules only)"),
        }
    }
}

impl EntityArgs {
    pub fn state_path(&self) -> anyhow::Result<PathBuf> {
        crate::store::resolve_path(self.state.as_deref())
    }

    /// Where `entities train` writes by default and where later runs look for it.
    pub fn default_model_path(&self) -> anyhow::Result<PathBuf> {
        Ok(self.state_path()?.with_file_name("entity-model.crfsuite"))
    }

    pub fn config(&self) -> anyhow::Result<EntityConfig> {
        let Some(path) = &self.config else {
            return Ok(EntityConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let cfg: EntityConfig = match table.get("entities") {
            Some(v) => v
                .clone()
                .try_into()
                .with_context(|| format!("{}: [entities]", path.display()))?,
            None => EntityConfig::default(),
        };
        cfg.validate()
            .with_context(|| format!("{}: [entities]", path.display()))?;
        Ok(cfg)
    }

    pub fn load_model(&self) -> anyhow::Result<(Option<CrfModel>, ModelSource)> {
        let read = |p: &Path| -> anyhow::Result<CrfModel> {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading model {}", p.display()))?;
            CrfModel::from_bytes(&bytes).with_context(|| format!("model {}", p.display()))
        };
        if self.no_model {
            return Ok((None, ModelSource::None));
        }
        if let Some(p) = &self.model {
            return Ok((Some(read(p)?), ModelSource::File(p.clone())));
        }
        if let Ok(p) = self.default_model_path()
            && p.is_file()
        {
            return Ok((Some(read(&p)?), ModelSource::File(p)));
        }
        match CrfModel::embedded() {
            Some(m) => Ok((Some(m), ModelSource::BuiltIn)),
            None => Ok((None, ModelSource::None)),
        }
    }

    pub fn extractor(&self) -> anyhow::Result<(Extractor, ModelSource)> {
        let cfg = self.config()?;
        let (model, src) = self.load_model()?;
        Ok((Extractor::new(cfg, model), src))
    }
}

/// One entity in the output, with its decision.
#[derive(serde::Serialize)]
struct OutEntity<'e, 'a> {
    #[serde(flatten)]
    entity: &'e Entity<'a>,
    decision: Decision,
    /// Service, region, account and resource type when the value is an ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<detector_core::entity::arn::Arn<'e>>,
}

#[derive(serde::Serialize)]
struct OutEvent<'e, 'a> {
    uid: &'e str,
    time: String,
    source: &'e str,
    index: u64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'e str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'e str>,
    entities: Vec<OutEntity<'e, 'a>>,
}

/// The review queue rows for the review-band entities of one event.
pub fn review_items(ex: &Extractor, event: &Event, entities: &[Entity<'_>]) -> Vec<NewItem> {
    let service = match &event.data {
        EventData::CloudTrail(r) => short_service(&r.event_source).to_string(),
        _ => String::new(),
    };
    entities
        .iter()
        .filter(|e| ex.decide(e) == Decision::Review)
        .filter_map(|e| {
            let ft = e.field_text.as_ref()?;
            Some(NewItem {
                kind: e.kind,
                value: e.value.to_string(),
                score: e.score,
                origin: e.origin.path.to_string(),
                explanation: serde_json::to_value(&e.explanation).unwrap_or_default(),
                context: ReviewContext {
                    service: service.clone(),
                    path: e.origin.path.to_string(),
                    text: ft.text.to_string(),
                    span: ft.span,
                    source: Some(event.source.to_string()),
                    event: Some(event.uid.clone()),
                },
            })
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(Action::Train(t)) => return train(t),
        Some(Action::Eval(e)) => return eval(e),
        None => {}
    }
    let (ex, model_src) = args.entity.extractor()?;
    let mut store = if args.no_queue {
        None
    } else {
        Some(Store::open(&args.entity.state_path()?)?)
    };
    let opts = args.input.options();
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let mut counts = [0u64; 3];
    let mut queued = 0usize;
    let all = args.all;
    let summary = ingest::ingest_ordered(
        &args.paths,
        &opts,
        |_, batch| {
            // Extraction and serialisation run on the workers; the sink only writes.
            let mut buf = Vec::with_capacity(batch.events.len() * 512);
            let mut items = Vec::new();
            let mut c = [0u64; 3];
            let mut ents = Vec::with_capacity(32);
            for ev in &batch.events {
                ents.clear();
                ex.extract(ev, &mut ents);
                items.extend(review_items(&ex, ev, &ents));
                let out_entities: Vec<OutEntity<'_, '_>> = ents
                    .iter()
                    .map(|e| OutEntity {
                        entity: e,
                        decision: ex.decide(e),
                        arn: e.arn(),
                    })
                    .filter(|o| {
                        c[if o.decision == Decision::Accept { 0 } else { 1 }] += 1;
                        all || o.decision == Decision::Accept
                    })
                    .collect();
                let line = OutEvent {
                    uid: &ev.uid,
                    time: detector_core::time::format_iso8601_ms(ev.time_ms),
                    source: &ev.source,
                    index: ev.index,
                    kind: ev.kind().as_str(),
                    account: account_of(ev),
                    principal: principal_of(ev),
                    entities: out_entities,
                };
                c[2] += 1;
                let _ = serde_json::to_writer(&mut buf, &line);
                buf.push(b'\n');
            }
            (buf, items, c)
        },
        |(buf, items, c): (Vec<u8>, Vec<NewItem>, [u64; 3])| {
            out.write_all(&buf).context("writing output")?;
            for i in 0..3 {
                counts[i] += c[i];
            }
            if let Some(s) = store.as_mut() {
                queued += s.enqueue(&items)?;
            }
            Ok(())
        },
    )?;
    out.flush().context("writing output")?;
    if !args.quiet {
        eprintln!("{}", summary.render());
        eprintln!(
            "entities: {} accepted, {} in review band ({} newly queued) over {} events; model: {model_src}",
            counts[0], counts[1], queued, counts[2]
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Labelled set (JSONL, see crates/core/data/entities). Default: the built-in set.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Where to write the model. Default: next to the state store, where later runs pick it
    /// up automatically.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Ignore review decisions (how the built-in model is made).
    #[arg(long)]
    pub no_decisions: bool,
    /// Weight of one review decision relative to one labelled example.
    #[arg(long, default_value_t = 5.0)]
    pub decision_weight: f64,
    /// L-BFGS iterations.
    #[arg(long, default_value_t = 150)]
    pub max_iterations: usize,
    /// L2 regularisation.
    #[arg(long, default_value_t = 0.5)]
    pub c2: f64,
    #[command(flatten)]
    pub entity: EntityArgs,
}

fn load_examples(path: Option<&Path>) -> anyhow::Result<Vec<Example>> {
    let text = match path {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => dataset::LABELLED_SET.to_string(),
    };
    Ok(dataset::parse_jsonl(&text)?)
}

fn to_attrs(xs: Vec<Vec<String>>) -> Vec<Vec<crfs::Attribute>> {
    xs.into_iter()
        .map(|f| {
            f.into_iter()
                .map(|n| crfs::Attribute::new(n, 1.0))
                .collect()
        })
        .collect()
}

fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let start = std::time::Instant::now();
    let examples = load_examples(args.data.as_deref())?;
    let (current, _) = args.entity.extractor()?;
    let mut trainer = crfs::Trainer::lbfgs();
    trainer.params_mut().set_c2(args.c2)?;
    trainer
        .params_mut()
        .set_max_iterations(args.max_iterations)?;
    let mut n_seq = 0usize;
    let mut n_train = 0usize;
    // The test split is never trained on.
    for e in examples.iter().filter(|e| e.split == Split::Train) {
        n_train += 1;
        for (xs, ys) in dataset::training_sequences(&current, e) {
            trainer.append(&to_attrs(xs), &ys)?;
            n_seq += 1;
        }
    }
    let mut n_dec = 0usize;
    if !args.no_decisions {
        let path = args.entity.state_path()?;
        if path.is_file() {
            let store = Store::open(&path)?;
            for d in store.review_decisions()? {
                let c = &d.context;
                let span = (c.span[0] as usize, c.span[1] as usize);
                if c.text.get(span.0..span.1).is_none() {
                    continue;
                }
                let e = dataset::example_from_decision(
                    &current,
                    format!("review-{}", d.id),
                    &c.service,
                    &c.path,
                    &c.text,
                    span,
                    d.decided_label,
                );
                for (xs, ys) in dataset::training_sequences(&current, &e) {
                    trainer.append_with_weight(&to_attrs(xs), &ys, args.decision_weight)?;
                    n_seq += 1;
                }
                n_dec += 1;
            }
        }
    }
    if n_seq == 0 {
        bail!("nothing to train on");
    }
    let out = match &args.out {
        Some(p) => p.clone(),
        None => args.entity.default_model_path()?,
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let tmp = out.with_extension("crfsuite.tmp");
    trainer
        .train(&tmp)
        .with_context(|| format!("training into {}", tmp.display()))?;
    let bytes = std::fs::read(&tmp)?;
    let model = CrfModel::from_bytes(&bytes).context("the trained model does not load")?;
    std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "trained on {n_train} labelled examples and {n_dec} review decisions ({n_seq} sequences): \
         {} labels, {} attributes, {} bytes -> {} in {:.1}s",
        model.num_labels(),
        model.num_attrs(),
        bytes.len(),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitArg {
    Test,
    Train,
    All,
}

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Labelled set (JSONL). Default: the built-in set.
    pub file: Option<PathBuf>,
    /// Which examples to score.
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// Also list up to N misses (false positives and false negatives).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub errors: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub entity: EntityArgs,
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let examples = load_examples(args.file.as_deref())?;
    let (ex, model_src) = args.entity.extractor()?;
    let split = match args.split {
        SplitArg::Test => Some(Split::Test),
        SplitArg::Train => Some(Split::Train),
        SplitArg::All => None,
    };
    let report = dataset::evaluate(&ex, &examples, split);
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["macro_f1"] = report.macro_f1().into();
        v["micro_f1"] = report.micro.f1().into();
        v["model"] = model_src.to_string().into();
        if let Some(o) = v.as_object_mut()
            && args.errors == 0
        {
            o.remove("misses");
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render(&report, &model_src, args.errors));
    }
    Ok(ExitCode::SUCCESS)
}

/// The human report: one row per type, then per example kind, then micro and macro.
pub fn render(r: &EvalReport, model: &ModelSource, errors: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "examples {}   model {model}", r.examples);
    let _ = writeln!(
        s,
        "{:<16} {:>9} {:>7} {:>7} {:>7}",
        "type", "precision", "recall", "f1", "support"
    );
    let row = |s: &mut String, name: &str, c: &dataset::Counts| {
        let _ = writeln!(
            s,
            "{:<16} {:>9.3} {:>7.3} {:>7.3} {:>7}",
            name,
            c.precision(),
            c.recall(),
            c.f1(),
            c.tp + c.fn_
        );
    };
    for (t, c) in &r.per_type {
        row(&mut s, t.name(), c);
    }
    let _ = writeln!(s, "{}", "-".repeat(50));
    for (k, c) in &r.per_kind {
        row(&mut s, &format!("[{k}]"), c);
    }
    let _ = writeln!(s, "{}", "-".repeat(50));
    row(&mut s, "micro", &r.micro);
    let _ = writeln!(
        s,
        "{:<16} {:>9} {:>7} {:>7.3}",
        "macro",
        "",
        "",
        r.macro_f1()
    );
    for m in r.misses.iter().take(errors) {
        let _ = writeln!(
            s,
            "{} {} {}..{} {} `{}`  in: {}",
            m.what, m.id, m.span.0, m.span.1, m.span.2, m.snippet, m.text
        );
    }
    s
}
