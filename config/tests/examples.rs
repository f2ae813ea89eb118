//! The example files shipped next to the manifest load, and the full one is
//! exactly what `Config::to_toml` writes for the defaults, so the two cannot
//! drift apart.

use std::path::{Path, PathBuf};

use skillmesh_config::{Config, ENV_VARS};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn full_example_loads_to_the_defaults() {
    let path = example("skillmesh.example.toml");
    let config = Config::load_with_env(&path, no_env()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config,
        Config::new("Northwind", PathBuf::from("/var/lib/skillmesh"))
    );
}

#[test]
fn full_example_is_what_to_toml_writes() {
    let path = example("skillmesh.example.toml");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let rendered = Config::new("Northwind", PathBuf::from("/var/lib/skillmesh")).to_toml();
    assert!(
        on_disk == rendered,
        "{} is out of date; it should read:\n{rendered}",
        path.display()
    );
}

#[test]
fn full_example_mentions_every_env_var_and_warns_about_mdns() {
    let text = std::fs::read_to_string(example("skillmesh.example.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    for var in ENV_VARS {
        assert!(text.contains(var), "{var} is not documented");
    }
    assert!(text.contains("mdns = false"));
    assert!(text.contains("WARNING: mDNS multicasts on the LAN"));
}

#[test]
fn minimal_example_loads_with_data_dir_next_to_it() {
    let path = example("minimal.example.toml");
    let config = Config::load_with_env(&path, no_env()).unwrap_or_else(|e| panic!("{e}"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut expected = Config::new("Northwind", dir.clone());
    expected.key_file = dir.join("org.key");
    assert_eq!(config, expected);
}
