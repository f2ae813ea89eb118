//! Command-line parsing and the commands themselves: the binary's edge,
//! where errors become one line of text and an exit code.

mod demo;
mod init;
mod invite;
mod reindex;
mod run;
mod sample_data;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use skillmesh_config::LogFormat;

#[derive(Parser)]
#[command(
    name = "skillmesh",
    version,
    about = "Skillmesh: a federated peer-to-peer learning network. Each organisation runs one node.",
    after_help = "With no command, `skillmesh` runs `skillmesh demo`."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Set up a new organisation: data directory, signing key and config file.
    Init(init::InitArgs),
    /// Run this organisation's node.
    Run {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Manage the people who can sign in to this node.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Print an invite for a new organisation to join the network through this node.
    Invite(invite::InviteArgs),
    /// Rebuild the search index from the store (with the node stopped).
    Reindex {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Start a local demo network of sample organisations on loopback.
    Demo(demo::DemoArgs),
    /// Fill this node (stopped) with records from synthetic partner
    /// organisations, to try it at size.
    SampleData(sample_data::SampleDataArgs),
}

/// The `--config` option every command that works on a node takes.
#[derive(clap::Args)]
pub struct ConfigArg {
    /// The node's config file (as written by `skillmesh init`).
    #[arg(
        long,
        short,
        env = "SKILLMESH_CONFIG",
        default_value = "skillmesh.toml"
    )]
    pub config: PathBuf,
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Init(args)) => init::init(args),
        Some(Command::Run { config }) => run::run(&config.config),
        Some(Command::Invite(args)) => invite::invite(args),
        Some(Command::Reindex { config }) => reindex::reindex(&config.config),
        Some(Command::User(command)) => user::user(command),
        Some(Command::Demo(args)) => demo::demo(args),
        Some(Command::SampleData(args)) => sample_data::sample_data(args),
        None => demo::demo(demo::DemoArgs::default()),
    }
}

/// The error and its causes on one line, skipping a cause whose text the
/// message before it already includes.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out.replace('\n', " ")
}

/// Logs go to stderr (under systemd, the journal); `RUST_LOG` overrides
/// the configured filter. `LogFormat::Json` writes one JSON object per line
/// (tracing-subscriber's own JSON formatter) with the event's message and
/// fields at the top level, as log shippers (Vector, Promtail, Filebeat)
/// expect, and the span it happened in.
fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Listens for Ctrl-C and SIGTERM from the moment it is called (so a
/// signal that arrives while the node starts is not lost); the returned
/// future resolves when either arrives.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
