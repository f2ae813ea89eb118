//! `skillmesh user add`: creates a person and their sign-in account on this
//! node (the first admin, typically, before the node first runs).

use std::io::BufRead;

use anyhow::Context;
use clap::{Args, Subcommand};
use skillmesh_config::Config;
use skillmesh_node::accounts;
use skillmesh_node::datadir::{DataDirLock, STORE_DIR};
use skillmesh_node::store::{Actor, Role, Store};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person who can sign in.
    Add(AddArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// Their email address, also their sign-in name.
    email: String,
    /// Make them an admin.
    #[arg(long)]
    admin: bool,
    /// Their name as colleagues see it (default: the email's local part).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of standard input instead of
    /// generating one.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    config: super::ConfigArg,
}

pub fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => add(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config.config)?;
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password")?;
        (line.trim_end_matches(['\n', '\r']).to_string(), false)
    } else {
        (accounts::random_password()?, true)
    };
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let store = Store::open(&config.data_dir.join(STORE_DIR))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_string());
    let role = if args.admin {
        Role::Admin
    } else {
        Role::Member
    };
    let account = accounts::add_user(&store, &args.email, &name, role, &password, &Actor::Cli)?;
    println!(
        "Added {} as {}",
        account.username,
        if args.admin { "an admin" } else { "a member" }
    );
    if generated {
        println!("Password (shown once; they can change it after signing in): {password}");
    }
    Ok(())
}
