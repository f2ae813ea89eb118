//! Who did something, as the audit log names them.
//!
//! The log stores an actor as text, and those names are frozen: `node`,
//! `cli`, `demo`, `org:<first 8 hex digits of its key>`, `peer:<libp2p
//! peer id>`, `sync:<libp2p peer id>`, or a person's username. [`Actor`]
//! writes exactly these (see its `Display`), so entries written before it
//! existed read the same, and code names an actor by its kind instead of
//! building strings.

use std::fmt;

use skillmesh_protocol::OrgKey;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The node on its own: expiry, automatic answers, its card.
    Node,
    /// The `skillmesh` command on the node's machine (adding a user, say).
    Cli,
    /// The demo setting itself up.
    Demo,
    /// Another organisation, in a message it signed.
    Org(OrgKey),
    /// A peer that gossiped what is being taken in (its libp2p peer id).
    Peer(String),
    /// A peer answering our catch-up sync (its libp2p peer id).
    Sync(String),
    /// Someone on this node, by username (or, for requests, person id).
    Person(String),
}

impl Actor {
    pub fn person(name: &str) -> Actor {
        Actor::Person(name.to_string())
    }

    /// The libp2p peer id of a peer that sent records, if this names one.
    pub fn peer_id(&self) -> Option<&str> {
        match self {
            Actor::Peer(p) | Actor::Sync(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Node => f.write_str("node"),
            Actor::Cli => f.write_str("cli"),
            Actor::Demo => f.write_str("demo"),
            Actor::Org(org) => write!(f, "org:{}", org.short()),
            Actor::Peer(peer) => write!(f, "peer:{peer}"),
            Actor::Sync(peer) => write!(f, "sync:{peer}"),
            Actor::Person(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::is_person;

    /// The names are stored in the audit log: changing one would make old
    /// entries read as another actor.
    #[test]
    fn actor_names_are_frozen() {
        let org = OrgKey::from_bytes([0xab; 32]);
        let names: Vec<(Actor, &str, bool)> = vec![
            (Actor::Node, "node", false),
            (Actor::Cli, "cli", true),
            (Actor::Demo, "demo", true),
            (Actor::Org(org), "org:abababab", false),
            (Actor::Peer("12D3KooWx".into()), "peer:12D3KooWx", false),
            (Actor::Sync("12D3KooWx".into()), "sync:12D3KooWx", false),
            (Actor::person("ana@example.org"), "ana@example.org", true),
        ];
        for (actor, name, person) in names {
            assert_eq!(actor.to_string(), name);
            assert_eq!(is_person(name), person, "{name}");
        }
    }
}
