//! The `skillmesh` command. With no arguments it runs the demo network.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any logging is set up, so the one warning goes to stderr.
    if let Err(e) = skillmesh_node::allocator::start() {
        eprintln!(
            "warning: the allocator's background threads did not start ({e}); freed memory returns to the system only as the node allocates"
        );
    }
    match cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
