//! `skillmesh run`: runs one organisation's node until Ctrl-C or SIGTERM.

use std::path::Path;

use skillmesh_config::Config;
use skillmesh_node::runtime;

pub fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    super::init_logging(&config.log.filter, config.log.format);
    super::runtime()?.block_on(async {
        let stop = super::shutdown_signal()?;
        let node = runtime::start(&config).await?;
        println!(
            "{} is running: web UI at http://{} (Ctrl-C stops it)",
            config.org.name, node.web_addr
        );
        stop.await;
        tracing::info!("stopping");
        node.stop().await;
        Ok(())
    })
}
