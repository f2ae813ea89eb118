//! `skillmesh init`: creates the data directory, the organisation key
//! (mode 0600, never overwritten) and a config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use skillmesh_config::Config;
use skillmesh_node::datadir::{CONFIG_FILE, KEY_FILE};
use skillmesh_node::identity::OrgIdentity;

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
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
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
    let text = config.to_toml();
    // Reading the text back validates every value (the org name included)
    // before anything is written.
    Config::from_toml_str(&text, dir, std::iter::empty())?;

    let identity = OrgIdentity::generate()?;
    identity.create_file(&key_path)?;
    std::fs::write(&config_path, text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;

    print_summary(&args.org, &identity, &config_path, &key_path);
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
