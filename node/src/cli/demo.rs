//! `skillmesh demo` (also what `skillmesh` with no command runs).

use std::path::PathBuf;

use clap::Args;
use skillmesh_node::demo;

#[derive(Args)]
pub struct DemoArgs {
    /// How many organisations to start.
    #[arg(long, default_value_t = 3)]
    orgs: usize,
    /// Web port of the first organisation; the others follow.
    #[arg(long, default_value_t = 7100)]
    base_port: u16,
    /// Keep the demo's data here (reused on the next run). Without it the
    /// demo uses a temporary directory removed when it stops.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            orgs: 3,
            base_port: 7100,
            data_dir: None,
        }
    }
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    super::init_logging("info,sled=warn", skillmesh_config::LogFormat::Text);
    let (root, temporary) = match args.data_dir {
        Some(dir) => (dir, false),
        None => (demo::default_root(), true),
    };
    let result = super::runtime()?.block_on(async {
        let stop = super::shutdown_signal()?;
        let nodes = demo::start(&root, args.orgs, args.base_port).await?;
        println!();
        println!(
            "Skillmesh demo: {} organisations on this machine",
            nodes.len()
        );
        for (i, node) in nodes.iter().enumerate() {
            let (federated, own) = node.service.record_counts().unwrap_or_default();
            println!(
                "  {:<12} http://{}/  ({own} own records, {federated} from partners)",
                node.service.org_name(),
                node.web_addr
            );
            let accounts: Vec<String> = demo::demo_accounts(i)
                .into_iter()
                .map(|(email, admin)| {
                    if admin {
                        format!("{email} (admin)")
                    } else {
                        email
                    }
                })
                .collect();
            println!("               sign in as {}", accounts.join(", "));
        }
        println!(
            "Every demo account's password is {:?}.",
            demo::DEMO_PASSWORD
        );
        println!(
            "Data: {}{}",
            root.display(),
            if temporary { " (removed on exit)" } else { "" }
        );
        println!("Ctrl-C stops the demo.");
        stop.await;
        for node in nodes {
            node.stop().await;
        }
        anyhow::Ok(())
    });
    if temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}
