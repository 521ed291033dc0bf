//! The `session-lab` command: serve the app (the default), create a user, clear expired sessions,
//! or reset the class.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use rocket::figment::Figment;
use session_lab::auth::password::{check_password, normalise_username};
use session_lab::auth::queue::HashQueue;
use session_lab::auth::users::{self, CreateError};
use session_lab::db::LazyPool;
use session_lab::session::store::cookie::CookieStore;
use session_lab::session::store::server::ServerStore;
use session_lab::session::SessionStore;
use session_lab::settings::Mode;

/// Session Lab: learn how web sessions work by comparing a server-side store with an encrypted
/// cookie, side by side in your browser's devtools.
///
/// Settings come from Rocket.toml (ROCKET_CONFIG, else the working directory or one above it,
/// else the clone this binary was built from) and ROCKET_* variables (see the README); the
/// database from DATABASE_URL or databases.session_lab.url. Settings that contradict each other
/// stop the start with a message that names the fix.
///
/// Every cookie is sealed with secret_key: a new key at a start ends every session and erases
/// every learner's progress. Without one, the debug profile (cargo run) makes a key once and keeps
/// it in target/session-lab-debug.key (ROCKET_DEBUG_KEY_FILE moves it). Anywhere else, keep a key
/// in a file, once:
///
///     head -c64 /dev/urandom | base64 -w0 > ~/session-lab.key && chmod 600 ~/session-lab.key
///
/// and start with ROCKET_SECRET_KEY=$(cat ~/session-lab.key) every time.
///
/// To serve a class from this machine (the guide: /guide/teaching, or docs/guide/teaching.md):
///
///     ROCKET_PROFILE=classroom ROCKET_SITE_ORIGIN=http://<LAN address>:8000 \
///     ROCKET_SECRET_KEY=$(cat ~/session-lab.key) session-lab
// Verbatim: clap would otherwise join the command lines above into one paragraph.
#[derive(Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Cli {
    /// Session mode. Overrides session_mode in Rocket.toml and ROCKET_SESSION_MODE.
    #[arg(long, value_enum, global = true)]
    mode: Option<CliMode>,

    #[command(subcommand)]
    command: Option<Command>,
}

/// The modes the command line offers: the session layer's three, and two or all three side by
/// side.
#[derive(Clone, Copy, ValueEnum)]
enum CliMode {
    /// A random id in the cookie; the session is a row in PostgreSQL.
    Server,
    /// The whole session, encrypted, in the cookie; the server keeps nothing.
    Cookie,
    /// A random id in the cookie; the session is one key in Redis, which expires it.
    Redis,
    /// Server mode on the configured port and cookie mode on the next one, in one process
    /// (compare them at /compare). create-user and clear-sessions act on the one database both
    /// share, as with any mode.
    Both,
    /// Server, cookie and redis mode on the configured port and the next two, in one process
    /// (three columns at /compare).
    All,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (what runs when no command is given).
    Serve,
    /// Create an account. Asks for the password on a terminal; otherwise reads one line from
    /// standard input. Exit codes: 0 created, 1 database error, 2 invalid name or password,
    /// 3 name taken.
    CreateUser {
        /// 3 to 32 of a-z, 0-9, _ . - (stored lower-case).
        name: String,
        /// Make a teacher: the account may open /teacher (the signup form never makes one).
        #[arg(long)]
        teacher: bool,
    },
    /// Delete expired server-side sessions now, in batches, and print how many were removed.
    ClearSessions,
    /// Reset the class: end every session, and delete the deny-list and every account that is
    /// not a teacher. Prints what it removed, per table. Asks first on a terminal; otherwise
    /// needs --yes. Exit codes: 0 done, 1 database error or not confirmed, 2 no terminal to ask
    /// on and no --yes.
    Reset {
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
}

fn main() -> ExitCode {
    return_large_blocks_to_the_os();
    rocket::execute(run())
}

/// Each argon2 hash allocates one 19 MiB block. glibc's malloc raises its mmap threshold after
/// the first such block is freed, and from then on keeps every later one in a per-thread arena:
/// a few dozen logins left the process holding gigabytes. A fixed threshold keeps large blocks
/// on mmap, so each is handed back to the OS when its hash ends.
fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread
    // exists, and 1 MiB is a valid M_MMAP_THRESHOLD (at most HEAP_MAX_SIZE / 2).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let mut figment = session_lab::figment();
    // `both` and `all` are no session modes of their own: they build one app per mode. The
    // commands do not depend on the mode at all (the users and sessions tables are the same).
    let single = match cli.mode {
        Some(CliMode::Server) => Some(Mode::Server),
        Some(CliMode::Cookie) => Some(Mode::Cookie),
        Some(CliMode::Redis) => Some(Mode::Redis),
        Some(CliMode::Both | CliMode::All) | None => None,
    };
    if let Some(mode) = single {
        figment = figment.merge(("session_mode", mode.as_str()));
    }
    ExitCode::from(match cli.command.unwrap_or(Command::Serve) {
        Command::Serve if matches!(cli.mode, Some(CliMode::Both)) => {
            serve_side_by_side(figment, false).await
        }
        Command::Serve if matches!(cli.mode, Some(CliMode::All)) => {
            serve_side_by_side(figment, true).await
        }
        Command::Serve => serve(figment).await,
        Command::CreateUser { name, teacher } => create_user(&figment, &name, teacher).await,
        Command::ClearSessions => clear_sessions(&figment).await,
        Command::Reset { yes } => reset(&figment, yes).await,
    })
}

async fn serve(figment: Figment) -> u8 {
    match session_lab::build(figment).launch().await {
        Ok(_) => 0,
        Err(e) => report(&e),
    }
}

/// A failing stage has already said what was wrong; Rocket's other errors (a port in use, no
/// secret key outside debug) are named here.
fn report(e: &rocket::Error) -> u8 {
    report_for("", e)
}

/// As [`report`], naming which app (`--mode both`) in front of the error.
fn report_for(which: &str, e: &rocket::Error) -> u8 {
    use rocket::error::ErrorKind;
    match e.kind() {
        ErrorKind::FailedFairings(_) => {}
        // Rocket says only "insecure secret key config".
        ErrorKind::InsecureSecretKey(profile) => eprintln!(
            "session-lab: {which}the {profile} profile needs a secret_key, which seals every \
             cookie: {}",
            session_lab::settings::key_file::KEEP_A_KEY
        ),
        other => eprintln!("session-lab: {which}{other}"),
    }
    1
}

/// `--mode both` (or `all`): every app is ignited before any listens, so a failing stage stops
/// the process before any port opens; once serving, any one ending (Ctrl-C, a port in use) ends
/// the others too.
async fn serve_side_by_side(figment: Figment, all: bool) -> u8 {
    let built = if all {
        session_lab::build_all(figment)
    } else {
        session_lab::build_both(figment)
    };
    let apps = match built {
        Ok(both) => both.apps(),
        Err(why) => {
            eprintln!("session-lab: {why}");
            return 1;
        }
    };
    let mut ignited = Vec::new();
    for (mode, app) in apps {
        match app.ignite().await {
            Ok(app) => ignited.push((mode, app)),
            Err(e) => return report(&e),
        }
    }
    let stops: Vec<rocket::Shutdown> = ignited.iter().map(|(_, app)| app.shutdown()).collect();
    let mut runs = tokio::task::JoinSet::new();
    for (mode, app) in ignited {
        let stops = stops.clone();
        runs.spawn(async move {
            let ended = app.launch().await;
            for stop in stops {
                stop.notify();
            }
            (mode, ended)
        });
    }
    // Say which app failed: "binding failed" alone does not tell which of the ports.
    let mut code = 0;
    while let Some(joined) = runs.join_next().await {
        match joined {
            Ok((_, Ok(_))) => {}
            Ok((mode, Err(e))) => code = report_for(&format!("{mode} mode: "), &e),
            Err(e) => {
                eprintln!("session-lab: an app stopped unexpectedly: {e}");
                code = 1;
            }
        }
    }
    code
}

/// The database, created and migrated, or a message and exit code 1.
async fn database(figment: &Figment) -> Result<LazyPool, u8> {
    let db = LazyPool::for_command(figment).map_err(|e| {
        eprintln!("session-lab: {}", e.chain());
        1
    })?;
    match db.ready().await {
        Ok(_) => Ok(db),
        Err(e) => {
            eprintln!("{}", session_lab::db::unreachable_message(&db.url(), &e));
            Err(1)
        }
    }
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    // Only the line ending goes: the password itself is never trimmed.
    let end = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(&line);
    Ok(end.to_string())
}

async fn create_user(figment: &Figment, name: &str, teacher: bool) -> u8 {
    let name = match normalise_username(name) {
        Ok(name) => name,
        Err(why) => {
            eprintln!("session-lab: {why}");
            return 2;
        }
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("session-lab: could not read the password: {why}");
            return 2;
        }
    };
    // The same rule as the signup form, at the configured strength.
    let min_score = match session_lab::settings::Settings::from_figment(figment) {
        Ok(settings) => settings.password_min_score,
        Err(why) => {
            eprintln!("session-lab: bad setting: {why}");
            return 2;
        }
    };
    if let Err(why) = check_password(&password, &name, min_score) {
        eprintln!("session-lab: {why}");
        return 2;
    }
    let db = match database(figment).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let queue = HashQueue::unbounded();
    match users::create_account(db.pool(), &queue, &name, password, teacher).await {
        Ok(user) => {
            let what = if teacher { "teacher" } else { "user" };
            println!("created {what} {} (id {})", user.username, user.id);
            0
        }
        Err(CreateError::Taken) => {
            eprintln!("session-lab: the name {name} is taken");
            3
        }
        Err(CreateError::Db(e)) => {
            eprintln!("session-lab: {}", e.chain());
            1
        }
        Err(CreateError::Hash(e)) => {
            eprintln!("session-lab: could not hash the password: {e}");
            1
        }
    }
}

/// Asks on the terminal unless `yes`; with neither, refuses (exit 2) rather than reset a class
/// because a script forgot a flag.
async fn reset(figment: &Figment, yes: bool) -> u8 {
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "session-lab: reset deletes every student account, session and deny-list entry; \
                 run it on a terminal to be asked, or add --yes"
            );
            return 2;
        }
        eprint!(
            "Reset the class: end every session and delete every account that is not a teacher? \
             Type yes: "
        );
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() || answer.trim() != "yes" {
            eprintln!("session-lab: nothing was removed");
            return 1;
        }
    }
    let db = match database(figment).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    // The sessions through the store's index, then the accounts and progress.
    let ended = match ServerStore::new(db.pool().clone()).end_all(None).await {
        Ok(done) => done.value,
        Err(e) => {
            eprintln!(
                "session-lab: nothing was removed: {}",
                session_lab::logging::chain(&e)
            );
            return 1;
        }
    };
    match session_lab::class::reset(db.pool(), &session_lab::class::Keep::default(), ended).await {
        Ok(removed) => {
            for line in removed.lines() {
                println!("{line}");
            }
            0
        }
        Err(e) => {
            eprintln!("session-lab: nothing was removed: {}", e.chain());
            1
        }
    }
}

async fn clear_sessions(figment: &Figment) -> u8 {
    let db = match database(figment).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let now = time::OffsetDateTime::now_utc();
    // Both tables whatever the mode: a deny-list left from a cookie-mode run expires too.
    let sessions = ServerStore::new(db.pool().clone());
    let denylist = CookieStore::new(
        session_lab::settings::Revocation::Denylist,
        Some(db.pool().clone()),
        time::Duration::ZERO,
    );
    let swept = match sessions.sweep(now).await {
        Ok(n) => denylist.sweep(now).await.map(|revoked| (n, revoked)),
        Err(e) => Err(e),
    };
    match swept {
        Ok((n, revoked)) => {
            println!(
                "removed {n} expired session{}",
                if n == 1 { "" } else { "s" }
            );
            if revoked > 0 {
                println!("removed {revoked} expired deny-list entries");
            }
            0
        }
        Err(e) => {
            eprintln!("session-lab: {}", session_lab::logging::chain(&e));
            1
        }
    }
}
