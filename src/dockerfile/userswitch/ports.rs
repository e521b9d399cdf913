//! Evidence that the program binds a port below 1024, which a non-root process may not on
//! CRI-O, containerd before 2.0 or Docker before 20.10: `EXPOSE` (also through a variable), a
//! `HEALTHCHECK` URL, the command's flags, or the Go source's listens.

use crate::rules;

use super::super::facts::Facts;
use super::super::model::{Body, CommandForm, Stage};
use super::{Blocker, module_wide};

/// The first piece of evidence that the program binds a port below 1024, as a refusal that
/// says what to set instead when a flag or variable sets the port.
pub fn privileged_port(facts: &Facts<'_>) -> Option<Blocker> {
    let LowPort { line, what, setting, several } = low_port_evidence(facts)?;
    let stage = facts.runtime_stage();
    // Only a program harden builds, or a binary on a shell-less base, moves once the port does.
    let shell_less = facts.base_image(stage).is_some_and(|b| b.family().is_shell_less());
    let movable = facts.builds().next().is_some() || (shell_less && facts.prebuilt_binary().is_some());
    let then = if movable { " and harden will run it as 65532" } else { "" };
    let fix = match setting {
        Some(setting) => format!("set {setting} to a port of 1024 or more"),
        None if several => "move the program to ports of 1024 or more".into(),
        None => "move the program to a port of 1024 or more".into(),
    };
    Some((
        &rules::PRIVILEGED_PORT,
        line,
        format!(
            "{what}: some runtimes (CRI-O, containerd before 2.0, Docker before 20.10) let no non-root user bind a port below 1024, so the user is left as it is; {fix} (a Service's targetPort or `docker run -p` keeps the port clients use){then}"
        ),
    ))
}

/// The flag (`-port`) or variable (`PORT`) whose default is the port below 1024 the image's
/// program binds, when one sets it: a container that sets it to 1024 or more moves the program
/// off the port.
pub fn low_port_setting(facts: &Facts<'_>) -> Option<String> {
    low_port_evidence(facts)?.setting
}

/// Evidence that the program binds a port below 1024: the line, what says so, and the flag or
/// variable that sets the port, when one does.
struct LowPort {
    line: usize,
    what: String,
    setting: Option<String>,
    /// True when it binds several such ports.
    several: bool,
}

/// The first piece of evidence that the program binds a port below 1024.
fn low_port_evidence(facts: &Facts<'_>) -> Option<LowPort> {
    // `setcap cap_net_bind_service` lets the binary bind them as any user.
    if facts.file_capabilities().is_some_and(|(_, caps)| caps.iter().any(|c| c == "NET_BIND_SERVICE")) {
        return None;
    }
    let stage = facts.runtime_stage();
    let blocked =
        |line: usize, what: String, setting: Option<String>| Some(LowPort { line, what, setting, several: false });
    for (i, inst) in stage.instructions.iter().enumerate() {
        match &inst.body {
            Body::Expose(ports) => {
                let low: Vec<(&String, u16, Option<String>)> = ports
                    .iter()
                    .filter_map(|written| {
                        let (value, variable) = expand(facts, stage, i, written);
                        low_port(value.split('/').next().unwrap_or_default()).map(|port| (written, port, variable))
                    })
                    .collect();
                match low.as_slice() {
                    [] => {}
                    [(written, port, Some(name))] => {
                        let what = format!("EXPOSE {written} is {port} by {name}'s default");
                        return blocked(inst.line, what, Some(name.clone()));
                    }
                    // One line exposing several (a mail server's 25, 143 and 587): named together.
                    _ => {
                        let written: Vec<&str> = low.iter().map(|(w, _, _)| w.as_str()).collect();
                        return blocked(inst.line, format!("EXPOSE {}", written.join(" ")), None);
                    }
                }
            }
            Body::Healthcheck(Some(form)) => {
                let words = form.words();
                let Some(written) = words.iter().find_map(|w| url_port(w)) else { continue };
                let (value, variable) = expand(facts, stage, i, written);
                if let Some(port) = low_port(&value) {
                    let by =
                        variable.as_ref().map(|name| format!(", the value the image gives {name}")).unwrap_or_default();
                    return blocked(inst.line, format!("the HEALTHCHECK asks port {port}{by}"), variable);
                }
            }
            Body::Entrypoint(form) | Body::Cmd(form) => {
                if let Some((flag, port)) = flag_port(form) {
                    return blocked(inst.line, format!("the program is started with {flag} (port {port})"), None);
                }
            }
            Body::Env(pairs) => {
                if let Some((name, port)) = listen_env(facts, pairs) {
                    let what = format!("the image sets {name} to port {port}");
                    return blocked(inst.line, what, Some(name.to_string()));
                }
            }
            _ => {}
        }
    }
    // A default the image's command (`--port=8443`) or environment (`ENV PORT=8080`) sets is not
    // the port it listens on (a low one there is caught above).
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let words: Vec<String> = entrypoint.into_iter().chain(cmd).flat_map(CommandForm::words).collect();
    let set = |via: &str| match via.strip_prefix('-') {
        Some(flag) => {
            let flag = flag.trim_start_matches('-');
            let named = |w: &str| w == flag || w.starts_with(&format!("{flag}="));
            words.iter().any(|w| w.starts_with('-') && named(w.trim_start_matches('-')))
        }
        None => facts.env_at(stage, stage.instructions.len(), via).is_some(),
    };
    // A configuration's default address (`Addr: ":443"`) is not the one the program listens on
    // where the image moves it (`ENV ADDRESS=":8080"`).
    let moved = sets_high_listen_env(facts, stage);
    let overridden = |l: &crate::source::gocode::Listen| l.via.as_deref().is_some_and(set) || (l.field && moved);
    let mut listens = facts.source.listens.iter().filter(|l| !overridden(&l.found));
    let listen = listens.next()?;
    let what =
        format!("{}:{}{} listens on port {}", listen.file, listen.found.line, module_wide(facts), listen.found.port);
    let what = match &listen.found.via {
        Some(via) => format!("{what} by default ({via})"),
        None => what,
    };
    // Other low ports it listens on (a DHCP server's 67 beside its TFTP 69) are named too: one
    // setting moved leaves the others.
    let mut others: Vec<String> = Vec::new();
    for l in listens.filter(|l| l.found.port != listen.found.port) {
        let other = match &l.found.via {
            Some(via) => format!("{} ({via})", l.found.port),
            None => format!("{} ({}:{})", l.found.port, l.file, l.found.line),
        };
        if !others.iter().any(|o| o.starts_with(&format!("{} ", l.found.port))) {
            others.push(other);
        }
    }
    let line = stage.from.line;
    match others.as_slice() {
        [] => blocked(line, what, listen.found.via.clone()),
        [one] => Some(LowPort { line, what: format!("{what}, and on {one}"), setting: None, several: true }),
        [first @ .., last] => {
            let what = format!("{what}, and on {} and {last}", first.join(", "));
            Some(LowPort { line, what, setting: None, several: true })
        }
    }
}

/// The first variable of an `ENV` that sets the port the program listens on to one below 1024
/// (`PHOTOVIEW_LISTEN_PORT=80`, `PORT=443`, `HTTP_ADDR=:80`): one the program's code reads for
/// its port, or one whose name says it is a listen port; not a client's (`SMTP_PORT=25`).
pub fn listen_env<'p>(facts: &Facts<'_>, pairs: &'p [(String, String)]) -> Option<(&'p str, u16)> {
    pairs.iter().find_map(|(name, value)| {
        let read = facts.source.listens.iter().any(|l| l.found.via.as_deref() == Some(name.as_str()));
        let port = low_port(value.rsplit(':').next().unwrap_or(value))?;
        (read || says_listen(name)).then_some((name.as_str(), port))
    })
}

/// True when the runtime stage's `ENV`s set a variable named for a listen address or port
/// (`ADDRESS=":8080"`, `PORT=8080`) to a port of 1024 or more.
fn sets_high_listen_env(facts: &Facts<'_>, stage: &Stage) -> bool {
    stage.instructions.iter().enumerate().any(|(i, inst)| {
        let Body::Env(pairs) = &inst.body else { return false };
        pairs.iter().any(|(name, written)| {
            let (value, _) = expand(facts, stage, i, written);
            let port = value.trim_matches('"').rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
            port.is_some_and(|port| port >= 1024) && says_listen(name)
        })
    })
}

/// True for a variable whose name says it sets where the program listens (`LISTEN_ADDR`,
/// `BIND`, `PORT`, `ADDRESS`), not where it connects (`SMTP_PORT`).
fn says_listen(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LISTEN", "BIND"].iter().any(|w| upper.contains(w))
        || matches!(
            upper.as_str(),
            "PORT" | "HTTP_PORT" | "HTTPS_PORT" | "SERVER_PORT" | "ADDR" | "ADDRESS" | "LISTEN_ADDR" | "HTTP_ADDR"
        )
}

/// An `EXPOSE` word (`$PORT/tcp`) or a URL's port with its variable given the value the stage
/// gives it ([`Facts::expand`]), and the variable.
fn expand(facts: &Facts<'_>, stage: &Stage, upto: usize, word: &str) -> (String, Option<String>) {
    let Some(name) = word.strip_prefix('$') else { return (word.to_string(), None) };
    let name = name.trim_start_matches('{').split(['}', ':', '-', '/']).next().unwrap_or_default();
    (facts.expand(stage, upto, word).unwrap_or_default(), Some(name.to_string()))
}

fn low_port(text: &str) -> Option<u16> {
    // A range (`80-90`) counts by its first port.
    text.split('-').next()?.parse().ok().filter(|p| *p > 0 && *p < 1024)
}

/// The port of an `http://` or `https://` URL as written (`80` or `443` when it names none,
/// `$PORT` when a variable gives it).
fn url_port(word: &str) -> Option<&str> {
    let (scheme, rest) = word.split_once("://")?;
    let authority = rest.split('/').next()?;
    // An IPv6 host (`[::1]:8080`) has colons of its own.
    let port = authority.rsplit_once(':').map(|(_, p)| p).filter(|_| !authority.ends_with(']'));
    match port {
        Some(port) => Some(port),
        None if scheme == "https" => Some("443"),
        None if scheme == "http" => Some("80"),
        None => None,
    }
}

/// A `--port=80`, `-addr :80` or `--listen=0.0.0.0:443` among a command's arguments.
fn flag_port(form: &CommandForm) -> Option<(String, u16)> {
    let words = form.words();
    for (i, word) in words.iter().enumerate() {
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else { continue };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_string()),
            None => (flag, words.get(i + 1).cloned().unwrap_or_default()),
        };
        let lower = name.to_ascii_lowercase();
        if ["port", "addr", "listen", "bind"].iter().any(|w| lower.contains(w))
            && let Some(port) = low_port(value.rsplit(':').next().unwrap_or_default())
        {
            return Some((word.clone(), port));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ports_from_urls_and_flags() {
        assert_eq!(url_port("http://localhost/healthz"), Some("80"));
        assert_eq!(url_port("https://127.0.0.1/"), Some("443"));
        assert_eq!(url_port("http://localhost:8080/healthz"), Some("8080"));
        assert_eq!(url_port("http://localhost:$PORT/health"), Some("$PORT"));
        assert_eq!(url_port("http://[::1]/health"), Some("80"));
        assert_eq!(url_port("/healthz"), None);
        let form = |s: &str| CommandForm::Exec(s.split(' ').map(str::to_string).collect());
        assert_eq!(flag_port(&form("/app --addr=:80")), Some(("--addr=:80".into(), 80)));
        assert_eq!(flag_port(&form("/app -port 443")), Some(("-port".into(), 443)));
        assert_eq!(flag_port(&form("/app --port=8080")), None);
        assert_eq!(flag_port(&form("/app --timeout=80")), None);
    }
}
