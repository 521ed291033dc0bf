//! The `session-lab` command: serve the app (the default), create a user, or clear expired sessions.

use clap::{Parser, Subcommand};
use session_lab::settings::Mode;

/// Session Lab: learn how web sessions work by comparing a server-side store with an encrypted
/// cookie, side by side in your browser's devtools.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Session mode; overrides `session_mode` in Rocket.toml and ROCKET_SESSION_MODE.
    #[arg(long, value_enum, global = true)]
    mode: Option<Mode>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (what runs when no command is given).
    Serve,
}

#[rocket::main]
async fn main() {
    let cli = Cli::parse();
    let mut figment = session_lab::figment();
    if let Some(mode) = cli.mode {
        figment = figment.merge(("session_mode", mode.as_str()));
    }
    let code = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(figment).await,
    };
    std::process::exit(code);
}

async fn serve(figment: rocket::figment::Figment) -> i32 {
    match session_lab::build(figment).launch().await {
        Ok(_) => 0,
        Err(e) => {
            // The failing stage has already printed what was wrong; Rocket's own message for the
            // other kinds (a taken port, a bad key in release) follows.
            match e.kind() {
                rocket::error::ErrorKind::FailedFairings(_) => {}
                other => eprintln!("session-lab: {other}"),
            }
            1
        }
    }
}
