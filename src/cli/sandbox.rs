//! `harden sandbox`: the local forge's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Exit;

/// `harden sandbox`'s flags.
#[derive(clap::Args)]
pub struct SandboxArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Where the state and the repositories live.
    #[arg(long, default_value = "harden-sandbox")]
    data: PathBuf,
    /// A repository to create from a folder, OWNER/NAME=PATH (one commit on main); repeatable.
    /// An existing repository is kept as it is.
    #[arg(long = "seed")]
    seeds: Vec<harden::sandbox::Seed>,
    /// The token clients must present (REST: `Authorization: token T`; git: the password).
    #[arg(long, env = "HARDEN_SANDBOX_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A fault to inject once, KIND:METHOD:PATH, where PATH matches the end of the request's
    /// path and KIND is 500, 502-after, secondary, drop-after or slow; repeatable.
    #[arg(long = "fault")]
    faults: Vec<harden::sandbox::faults::Fault>,
    /// A GitHub App to accept (with --app-public-key): its JWTs buy installation tokens.
    #[arg(long, requires = "app_public_key")]
    app_id: Option<u64>,
    /// The App's RSA public key (PEM), to check its JWTs.
    #[arg(long, requires = "app_id")]
    app_public_key: Option<PathBuf>,
    /// A user's permission on every repository, LOGIN=PERMISSION (admin, maintain, write,
    /// triage or read); repeatable. Anyone else has none.
    #[arg(long = "collaborator")]
    collaborators: Vec<harden::sandbox::Collaborator>,
    /// A person's token, LOGIN=TOKEN: requests with it act as LOGIN (the issues and comments
    /// they write are theirs); repeatable.
    #[arg(long = "user")]
    users: Vec<harden::sandbox::UserToken>,
    /// The App's webhook URL: comments people write are delivered there as GitHub delivers
    /// them, signed with --webhook-secret, and every attempt is listed for the App.
    #[arg(long, requires = "webhook_secret")]
    webhook: Option<String>,
    /// The secret the webhooks are signed with.
    #[arg(long, requires = "webhook", env = "HARDEN_SANDBOX_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// Answer 404 to creating blobs, trees and commits, as a forge without the Git Data API
    /// (clients must push with git).
    #[arg(long)]
    no_git_data_writes: bool,
    /// An organisation of many repositories, ORG=DIR: each folder of DIR a repository;
    /// DIR/sandbox.json gives their listing facts (archived, fork, private, empty, topics, language);
    /// repeatable.
    #[arg(long = "seed-org")]
    orgs: Vec<harden::sandbox::OrgSeed>,
    /// An organisation of N generated repositories, ORG=N: Go modules, every twentieth a
    /// service with a Dockerfile to harden; repeatable.
    #[arg(long = "generate-org", value_parser = generated_org)]
    generated: Vec<harden::sandbox::OrgSeed>,
    /// Mark a recursive tree truncated past this many entries, as GitHub does past its limit.
    #[arg(long)]
    tree_limit: Option<usize>,
    /// An OAuth app, CLIENT_ID=SECRET, whose web flow the sandbox runs (`/login/oauth/authorize`
    /// and `/login/oauth/access_token`), for the dashboard's sign-in.
    #[arg(long)]
    oauth_app: Option<harden::sandbox::oauth::OAuthApp>,
    /// The person signed in at the forge (one of --user), who approves the OAuth app at once
    /// and is given their --user token.
    #[arg(long, requires = "oauth_app")]
    oauth_user: Option<String>,
    /// A member of an organisation, ORG=LOGIN (`GET /user/memberships/orgs/ORG`); repeatable.
    #[arg(long = "member")]
    members: Vec<harden::sandbox::oauth::Member>,
}

/// Runs `harden sandbox` until it is stopped.
pub fn main(args: SandboxArgs) -> ExitCode {
    let SandboxArgs {
        listen,
        data,
        seeds,
        token,
        faults,
        app_id,
        app_public_key,
        collaborators,
        users,
        webhook,
        webhook_secret,
        no_git_data_writes,
        mut orgs,
        generated,
        tree_limit,
        oauth_app,
        oauth_user,
        members,
    } = args;
    orgs.extend(generated);
    let app = match (app_id, app_public_key) {
        (Some(id), Some(key)) => {
            match std::fs::read(&key)
                .map_err(anyhow::Error::from)
                .and_then(|pem| harden::sandbox::app::App::new(id, &pem))
            {
                Ok(app) => Some(app),
                Err(e) => {
                    eprintln!("harden sandbox: --app-public-key {}: {e:#}", key.display());
                    return Exit::Usage.into();
                }
            }
        }
        _ => None,
    };
    let git_data_writes = !no_git_data_writes;
    let options = harden::sandbox::Options {
        listen,
        data,
        seeds,
        token,
        faults,
        app,
        collaborators,
        users,
        webhook: webhook.zip(webhook_secret).map(|(url, secret)| harden::sandbox::hooks::Webhook { url, secret }),
        git_data_writes,
        orgs,
        tree_limit,
        oauth: oauth_app,
        oauth_user,
        members,
    };
    match harden::sandbox::serve(options) {
        Ok(()) => Exit::Done.into(),
        Err(error) => {
            eprintln!("harden sandbox: {error:#}");
            Exit::Failed.into()
        }
    }
}

/// `--generate-org ORG=N`.
fn generated_org(text: &str) -> Result<harden::sandbox::OrgSeed, String> {
    match text.parse()? {
        seed @ harden::sandbox::OrgSeed::Generated(..) => Ok(seed),
        _ => Err("expected ORG=N, N a number of repositories".into()),
    }
}
