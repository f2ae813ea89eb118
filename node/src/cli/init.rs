//! `skillmesh init`: creates the data directory, the organisation key
//! (mode 0600, never overwritten) and a config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use skillmesh_config::Config;
use skillmesh_node::datadir::{CONFIG_FILE, KEY_FILE};
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::invite::Invite;

/// The private network key's file name in the data directory.
const PSK_FILE: &str = "swarm.key";

#[derive(Args)]
pub struct InitArgs {
    /// The organisation's name as partners will see it.
    #[arg(long)]
    org: String,
    /// Where the node keeps its key, config and database.
    #[arg(long)]
    data_dir: PathBuf,
    /// Address of the web UI and API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    web_listen: SocketAddr,
    /// Where to listen for other organisations' nodes (a multiaddr; repeat
    /// for several), e.g. /ip4/0.0.0.0/tcp/4001. Partners need a fixed port.
    #[arg(long = "p2p-listen")]
    p2p_listen: Vec<String>,
    /// Serve Prometheus metrics (`GET /metrics`) on this address, apart
    /// from the web port, e.g. 127.0.0.1:9464. Default: no metrics.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// An invite from a member organisation's admin (`skillmesh invite`):
    /// fills in the nodes to bootstrap from and, for a private network, its key.
    #[arg(long)]
    join: Option<String>,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let invite = args.join.as_deref().map(Invite::decode).transpose()?;
    let dir = &args.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE);
    let key_path = dir.join(KEY_FILE);
    if config_path.exists() {
        bail!(
            "{} already exists; this data directory is already set up",
            config_path.display()
        );
    }

    // Paths in the file are relative to the file, so the directory can move.
    let mut config = Config::new(&args.org, PathBuf::from("."));
    config.key_file = PathBuf::from(KEY_FILE);
    config.web.listen = args.web_listen;
    config.metrics.listen = args.metrics_listen;
    if !args.p2p_listen.is_empty() {
        config.network.listen = args.p2p_listen.clone();
    }
    let psk_path = dir.join(PSK_FILE);
    if let Some(invite) = &invite {
        config.network.bootstrap = invite.bootstrap.clone();
        if invite.psk.is_some() {
            config.network.psk_file = Some(PathBuf::from(PSK_FILE));
        }
    }
    let text = config.to_toml();
    // Reading the text back validates every value (the org name included)
    // before anything is written.
    Config::from_toml_str(&text, dir, std::iter::empty())?;

    let identity = OrgIdentity::generate()?;
    identity.create_file(&key_path)?;
    if let Some(psk) = invite.as_ref().and_then(Invite::psk_file_text) {
        write_private(&psk_path, &psk)?;
    }
    std::fs::write(&config_path, text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;

    print_summary(&args.org, &identity, &config_path, &key_path);
    Ok(())
}

/// Writes a new file readable only by its owner.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_summary(org: &str, identity: &OrgIdentity, config: &Path, key: &Path) {
    println!("Created organisation {org:?}");
    println!("  public key: {}", identity.org());
    println!("  config:     {}", config.display());
    println!(
        "  key:        {} (mode 0600: back it up, never share it)",
        key.display()
    );
    println!();
    println!("Start the node with:");
    println!("  skillmesh run --config {}", config.display());
}
