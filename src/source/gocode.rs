//! What one Go file shows about the program at run time, read line by line (pure, no parsing):
//! whether it imports "C", the ports below 1024 it listens on, and the paths it writes.
//!
//! These are hints, taken only where the file says them literally (a string literal, or a flag's
//! or environment variable's default); a port or path that comes from configuration is not seen.

/// A path the program writes at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// 1-based line in the file.
    pub line: usize,
    /// The path as written (absolute, or relative to the working directory); empty for an
    /// embedded database the file imports, whose path is set when the program runs.
    pub path: String,
    /// True when the path is a directory the program writes into (`os.MkdirAll`, badger), false
    /// for a file (its directory must be writable).
    pub dir: bool,
    /// How it writes: `os.Create`, `sqlite`, `-data-dir` (a flag's default)…
    pub how: String,
}

/// Something only root (or a group the image does not give 65532) may use: the Docker or
/// containerd socket, the kernel log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootResource {
    /// 1-based line in the file.
    pub line: usize,
    /// What it uses: `/var/run/docker.sock`, `the Docker client`…
    pub what: String,
}

/// A call that starts another program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// 1-based line in the file.
    pub line: usize,
    /// The program, when the call names it literally (`exec.Command("bash", "-c", …)`).
    pub program: Option<String>,
}

impl Start {
    /// True when the program started is a shell, which only an image with one can give.
    pub fn starts_shell(&self) -> bool {
        self.program.as_deref().is_some_and(crate::shell::is_shell_program)
    }
}

/// What a Go file shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoFile {
    /// The file has `import "C"`.
    pub imports_c: bool,
    /// Its package's name.
    pub package: String,
    /// The import paths it names.
    pub imports: Vec<String>,
    /// The file is not built into a Linux program: built only for another operating system
    /// (`_darwin.go`, `//go:build windows`), or never (`//go:build ignore`, a generator run by
    /// `go generate`).
    pub not_linux: bool,
    /// The file supports tests, not the program: it imports `testing` (a helper that takes a
    /// `*testing.T`) or a fuzzing library (an OSS-Fuzz harness the program never calls).
    pub test_support: bool,
    /// Listens on ports below 1024.
    pub listens: Vec<Listen>,
    /// Gives the common libraries' server its port (a flag's default, a field set).
    pub sets_server_port: bool,
    /// Paths written at run time.
    pub writes: Vec<Write>,
    /// Writes at a path a flag with no default gives when the program runs.
    pub given_writes: Vec<GivenWrite>,
    /// Writes under the user's home directory: a file that looks the directory up
    /// (`os.UserHomeDir`, go-homedir's `homedir.Dir`) and writes (`os.MkdirAll`…), at the look-up.
    pub home_writes: Vec<Write>,
    /// Its build constraint keeps it to cgo builds (`//go:build cgo`).
    pub cgo_only: bool,
    /// Its build constraint keeps it to builds without cgo (`//go:build !cgo`): it stands in
    /// for a cgo file of its package.
    pub without_cgo: bool,
    /// Root-only resources it uses.
    pub root_resources: Vec<RootResource>,
    /// The first HTTPS address it names.
    pub https: Option<Https>,
    /// Where it starts another program (`exec.Command`, `syscall.Exec`), or looks one up to
    /// start it (`exec.LookPath`).
    pub starts_programs: Vec<Start>,
}

mod apiserver;
mod constraints;
mod flag_vars;
mod https;
mod lines;
mod listens;
mod needles;
mod starts;
mod writes;

pub use apiserver::SERVER_PORT_FLAG;
pub use constraints::named_for_other_os;
pub use https::Https;
use https::https_call;
pub use listens::Listen;
use listens::listens;
pub use needles::ROOT_CHECK;
use needles::{
    DATA_STORES, FLAG_CALLS, FUZZ_LIBRARIES, HOME_LOOKUPS, PROGRAM_STARTS, ROOT_RESOURCES, WRITE_CALLS, calls_into,
    import_qualifier,
};
use starts::{assignment, started_program};
pub use writes::GivenWrite;
use writes::{flag_without_default, given_write, writes};

/// Reads a Go file's text.
pub fn scan(text: &str) -> GoFile {
    let mut out = GoFile::default();
    let mut in_imports = false;
    // Defaults (a flag's, a variable's fallback) count in the program itself (its `main`
    // package, the `cmd` package where cobra programs define their flags, or the `options`
    // package of Kubernetes-style `cmd/<name>/app/options`): a library's
    // default is usually overridden by the program that uses it.
    let main = text.lines().any(|l| matches!(l.trim(), "package main" | "package cmd" | "package options"));
    // The code line before: a `case "https":` makes `port = "443"` a scheme's port, not a
    // default the program listens on.
    let mut previous = String::new();
    // The string literal each name was last given (`shell := "/bin/sh"`), for calls that start
    // the program a variable names.
    let mut assigned = std::collections::HashMap::new();
    // The variables flags with no default fill in (`flag.StringVar(&path, "p", "", …)`).
    let mut given = std::collections::HashMap::new();
    // The listens found as a variable's fallback (`listen = ":80"`), with the variable's name.
    let mut port_variables: Vec<(usize, String)> = Vec::new();
    let mut first_use: Vec<(usize, String, &str)> = Vec::new(); // imported root resources: qualifier, import
    for (line_no, line) in lines::logical_lines(text) {
        let code = line.trim();
        if let Some(constraint) = code.strip_prefix("//go:build ") {
            out.not_linux |= constraints::keeps_out_of_linux_build(constraint);
        }
        if let Some((only, without)) = constraints::cgo_of_line(code) {
            out.cgo_only |= only;
            out.without_cgo |= without;
        }
        if code.starts_with("//") {
            continue;
        }
        // An import of a root-only resource is cited where the file first calls into it.
        first_use.retain(|(at, qualifier, needle)| match calls_into(code, qualifier, needle) {
            true => {
                out.root_resources[*at].line = line_no;
                false
            }
            false => true,
        });
        if out.https.is_none()
            && let Some(url) = https_call(code, out.imports.iter().any(|i| i == "net/http"))
        {
            out.https = Some(Https { line: line_no, url });
        }
        if let Some((needle, what)) = ROOT_RESOURCES.iter().find(|(needle, _)| needles::uses(code, needle)) {
            out.root_resources.push(RootResource { line: line_no, what: what.to_string() });
            first_use.extend(import_qualifier(code, needle).map(|q| (out.root_resources.len() - 1, q, *needle)));
        } else if let Some(what) = main.then(|| needles::run_socket(code)).flatten() {
            out.root_resources.push(RootResource { line: line_no, what });
        }
        if let Some((call, at)) =
            PROGRAM_STARTS.iter().find_map(|call| code.find(call).map(|at| (call, at + call.len())))
        {
            let program = started_program(&code[at..], call.contains("Context"), &assigned);
            out.starts_programs.push(Start { line: line_no, program });
        }
        if let Some((name, value)) = assignment(code) {
            assigned.insert(name, value);
        }
        if out.package.is_empty()
            && let Some(name) = code.strip_prefix("package ")
        {
            out.package = name.split_whitespace().next().unwrap_or_default().to_string();
        }
        let imported = if in_imports {
            in_imports = !code.starts_with(')');
            all_strings(code).into_iter().next()
        } else if code.starts_with("import (") {
            in_imports = true;
            None
        } else {
            code.strip_prefix("import ").and_then(|single| all_strings(single).into_iter().next())
        };
        if let Some(import) = imported {
            if DATA_STORES.iter().any(|s| import == *s || import.starts_with(&format!("{s}/"))) {
                out.writes.push(Write { line: line_no, path: String::new(), dir: true, how: import.clone() });
            }
            out.imports.push(import);
        }
        let scheme_case = ["case \"http", "case \"ws", "case \"grpc"].iter().any(|c| previous.starts_with(c));
        if let Some(variable) = listens(code, line_no, main && !scheme_case, &mut out.listens) {
            port_variables.push((out.listens.len() - 1, variable));
        }
        writes(code, line_no, &assigned, &mut out.writes);
        given.extend(flag_without_default(code));
        out.given_writes.extend(given_write(code, line_no, &given));
        if !code.is_empty() {
            previous = code.to_string();
        }
    }
    needles::drop_read_only(&mut out.root_resources, &first_use);
    // A flag that defaults to the variable (`flag.StringVar(&listen, "listen", listen, …)`) sets it.
    for (at, variable) in port_variables {
        out.listens[at].via = flag_vars::flag_setting(text, &variable).map(|flag| format!("-{flag}"));
    }
    home_writes(text, &mut out);
    out.home_writes.extend(needles::home_library(text, &out.imports).filter(|_| out.home_writes.is_empty()));
    out.imports_c = out.imports.iter().any(|i| i == "C");
    out.test_support = out.imports.iter().any(|i| i == "testing" || FUZZ_LIBRARIES.iter().any(|f| i.starts_with(f)));
    apiserver::library_defaults(text, &mut out);
    out.root_resources.extend(needles::signals_processes(text, &out.imports));
    out.root_resources.extend(needles::root_check(text));
    out
}

/// A home directory the file looks up and writes in (its first look-up), added to `out`: the
/// writes that file makes are under it (a config directory, `~/.mc`), whatever the path joins.
fn home_writes(text: &str, out: &mut GoFile) {
    if !WRITE_CALLS.iter().any(|(call, _, _)| text.contains(call)) {
        return;
    }
    let lookup = lines::logical_lines(text).into_iter().find_map(|(line, code)| {
        let code = code.trim();
        (!code.starts_with("//")).then(|| HOME_LOOKUPS.iter().find(|l| code.contains(*l)).map(|l| (line, l)))?
    });
    if let Some((line, how)) = lookup {
        let how = how.trim_end_matches(['(', ')']).to_string();
        out.home_writes.push(Write { line, path: "~".into(), dir: true, how });
    }
}

/// The flag name and the string default of a flag definition on this line (`flag.String("addr",
/// ":80", …)`, `fs.StringVar(&dir, "data-dir", "/var/lib/app", …)`, pflag's `StringP` with a
/// shorthand, and the `Int` forms).
fn flag_default(code: &str) -> Option<(String, String)> {
    let call = FLAG_CALLS.iter().find_map(|c| code.find(&format!(".{c}")).map(|i| (c, &code[i + 1 + c.len()..])))?;
    let (name, rest) = (call.0, call.1);
    let strings = all_strings(rest);
    let shorthand = name.ends_with("P(");
    let (flag, default) = if name.starts_with("Int") || name.starts_with("Uint") {
        let flag = strings.first()?.clone();
        let after_name = rest.split_once(&format!("\"{flag}\""))?.1;
        let after_name =
            if shorthand { after_name.split_once(',')?.1.split_once(',')?.1 } else { after_name.split_once(',')?.1 };
        let number: String = after_name.trim().chars().take_while(char::is_ascii_digit).collect();
        (flag, number)
    } else {
        let skip = usize::from(shorthand);
        (strings.first()?.clone(), strings.get(1 + skip)?.clone())
    };
    (!default.is_empty()).then_some((flag, default))
}

/// The text after the first occurrence of `needle`.
fn after<'a>(code: &'a str, needle: &str) -> Option<&'a str> {
    code.find(needle).map(|i| &code[i + needle.len()..])
}

/// The first Go string literal in `code`, when it comes before any other argument.
fn first_string(code: &str) -> Option<String> {
    let start = code.trim_start();
    if !start.starts_with(['"', '`']) {
        return None;
    }
    all_strings(start).into_iter().next()
}

/// Every string literal on the line, unquoted (interpreted `"…"` with simple escapes, and raw
/// `` `…` ``).
fn all_strings(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(s);
            }
            '`' => out.push(chars.by_ref().take_while(|c| *c != '`').collect()),
            '/' if chars.clone().next() == Some('/') => break,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_imports_of_c() {
        assert!(scan("package db\n\n// #include <stdio.h>\nimport \"C\"\n").imports_c);
        assert!(scan("package db\nimport (\n\t\"fmt\"\n\t\"C\"\n)\n").imports_c);
        assert!(!scan("package db\nimport (\n\t\"fmt\"\n)\nvar s = \"C\"\n").imports_c);
        let file = scan(
            "package main\n\nimport (\n\t\"fmt\"\n\tsrv \"example.com/app/server\" // the server\n)\nimport _ \"embed\"\n",
        );
        assert_eq!(file.package, "main");
        assert_eq!(file.imports, ["fmt", "example.com/app/server", "embed"]);
    }

    #[test]
    fn finds_privileged_listens_and_what_sets_them() {
        let text = r#"package main
func main() {
	http.ListenAndServe(":80", nil)
	ln, _ := net.Listen("tcp", ":443")
	srv := &http.Server{Addr: "0.0.0.0:80"}
	addr := flag.String("addr", ":80", "listen address")
	port := flag.Int("port", 443, "port")
	p := getEnv("WHOAMI_PORT_NUMBER", "80")
	http.ListenAndServe(":8080", nil)
	// http.ListenAndServe(":81", nil)
}
"#;
        let scanned = scan(text);
        let found: Vec<(usize, u16, Option<&str>)> =
            scanned.listens.iter().map(|l| (l.line, l.port, l.via.as_deref())).collect();
        assert_eq!(
            found,
            [
                (3, 80, None),
                (5, 80, None),
                (6, 80, Some("-addr")),
                (7, 443, Some("-port")),
                (8, 80, Some("WHOAMI_PORT_NUMBER"))
            ]
        );
        // A URL scheme's port, in a switch on the scheme, is not one the program listens on.
        let schemes = "package cmd
func hostPort(scheme string) (port string) {
	switch scheme {
	case \"https\":
		port = \"443\"
	case \"http\":
		port = \"80\"
	}
	port = \"80\"
	return
}
";
        let found: Vec<usize> = scan(schemes).listens.iter().map(|l| l.line).collect();
        assert_eq!(found, [9], "only the assignment outside the scheme's cases");
    }

    #[test]
    fn finds_paths_written() {
        let text = r#"package main
	f, _ := os.Create("/data/out.csv")
	os.MkdirAll("/var/lib/inventory", 0o755)
	db, _ := sql.Open("sqlite3", "file:/data/app.db?cache=shared")
	mem, _ := sql.Open("sqlite3", ":memory:")
	b, _ := bolt.Open("state.db", 0600, nil)
	l, _ := os.OpenFile("/var/log/app.log", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
	r, _ := os.OpenFile("/etc/app.yaml", os.O_RDONLY, 0)
	flag.StringVar(&dataDir, "data-dir", "/var/lib/app", "where the data goes")
	flag.StringVar(&cfg, "config", "/etc/app/config.yaml", "the configuration")
	opts := badger.DefaultOptions("./badger")
"#;
        let scanned = scan(text);
        let found: Vec<(usize, &str, bool, &str)> =
            scanned.writes.iter().map(|w| (w.line, w.path.as_str(), w.dir, w.how.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, "/data/out.csv", false, "os.Create"),
                (3, "/var/lib/inventory", true, "os.MkdirAll"),
                (4, "/data/app.db", false, "sqlite"),
                (6, "state.db", false, "bolt"),
                (7, "/var/log/app.log", false, "os.OpenFile"),
                (9, "/var/lib/app", true, "-data-dir"),
                (11, "./badger", true, "badger"),
            ]
        );
    }

    #[test]
    fn finds_fallback_ports_root_resources_and_other_systems() {
        let text = "package main\nfunc main() {\n\tport := os.Getenv(\"PORT\")\n\tif port == \"\" {\n\t\tport = \"80\"\n\t}\n\tvar addr = \":http\"\n\tcli, _ := client.NewClientWithOpts(client.WithHost(\"unix:///var/run/docker.sock\"))\n}\n";
        let scanned = scan(text);
        let ports: Vec<(usize, u16)> = scanned.listens.iter().map(|l| (l.line, l.port)).collect();
        assert_eq!(ports, [(5, 80), (7, 80)]);
        assert_eq!(scanned.root_resources[0].line, 8);
        assert_eq!(scanned.root_resources[0].what, "the Docker socket");
        // A bind mount handed to `docker run` is the other container's socket.
        // A flag's help text names a socket; its default uses one.
        let help = "package main\nfunc init() {\n\tflag.StringVar(&p, \"cri-socket-path\", \"\", \"the CRI socket (default: /var/run/docker.sock)\")\n}\n";
        assert!(scan(help).root_resources.is_empty());
        let default = "package main\nfunc init() {\n\tflag.StringVar(&p, \"docker-socket\", \"/var/run/docker.sock\", \"the socket\")\n}\n";
        assert!(!scan(default).root_resources.is_empty());
        let pod =
            "package jobs\nvar m = corev1.VolumeMount{\n\tName: \"sock\",\n\tMountPath: \"/var/run/docker.sock\",\n}\n";
        assert!(scan(pod).root_resources.is_empty());
        let mount = "package main\nvar args = []string{\"-v\", \"/var/run/docker.sock:/var/run/docker.sock\"}\n";
        assert!(scan(mount).root_resources.is_empty());
        // A pinger's raw socket needs CAP_NET_RAW.
        let pinger = scan(
            "package prober
func listen() {
	conn, err := icmp.ListenPacket(\"ip4:icmp\", \"0.0.0.0\")
}
",
        );
        assert_eq!(pinger.root_resources[0].what, "a raw ICMP socket (CAP_NET_RAW)");
        // An import is cited where the file first calls into it, by its name or its alias.
        let links = "package tc\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/vishvananda/netlink\"\n)\n\n// netlink.LinkList in a comment\nfunc up() {\n\tfmt.Println(\"netlink.\")\n\terr := netlink.LinkSetUp(link)\n}\n";
        assert_eq!(scan(links).root_resources[0].line, 12);
        let aliased = "package tc\n\nimport nl \"github.com/vishvananda/netlink\"\n\nfunc up() { nl.RouteAdd(r) }\n";
        assert_eq!(scan(aliased).root_resources[0].line, 5);
        // A type of the package in a signature is no call into it.
        let typed = "package d\n\nimport dc \"github.com/docker/docker/client\"\n\nfunc save(_ ...dc.Opt) {}\nfunc open() { c, _ := dc.New() }\n";
        assert_eq!(scan(typed).root_resources[0].line, 6);
        let unused = "package tc\n\nimport _ \"github.com/vishvananda/netlink\"\n";
        assert_eq!(scan(unused).root_resources[0].line, 3);
        // The program a call starts, where it names it: a shell needs an image with one.
        let starts = scan("package main\nfunc run() {\n\texec.CommandContext(ctx, \"/bin/sh\", \"-c\", cmd)\n\texec.Command(\"git\", \"clone\")\n\texec.Command(name)\n}\n").starts_programs;
        let shells: Vec<bool> = starts.iter().map(Start::starts_shell).collect();
        assert_eq!((starts[0].line, shells), (3, vec![true, false, false]));
        // A name given a shell earlier starts that shell; an argument after the program is not it.
        let named = "package main\nfunc run() {\n\tshell := \"/bin/sh\"\n\texec.Command(shell, \"-c\", cmd)\n\texec.Command(tool, \"-c\")\n}\n";
        let starts = scan(named).starts_programs;
        assert_eq!(starts.iter().map(|s| s.program.clone()).collect::<Vec<_>>(), [Some("/bin/sh".into()), None]);
        assert!(scan("//go:build cgo && darwin\n\npackage x\nimport \"C\"\n").not_linux);
        assert!(!scan("//go:build linux || darwin\n\npackage x\n").not_linux);
        assert!(named_for_other_os("keychain_darwin.go") && named_for_other_os("svc_windows_amd64.go"));
        assert!(!named_for_other_os("server_linux.go") && !named_for_other_os("main.go"));
    }

    #[test]
    fn test_helpers_and_fuzzing_harnesses_are_not_the_program() {
        let helper = scan(
            "package destination\nimport (\n\t\"testing\"\n)\nfunc node(t *testing.T) string { return \"/run/containerd/containerd.sock\" }\n",
        );
        assert!(helper.test_support && !helper.root_resources.is_empty());
        let harness = "package profiles\nimport (\n\t\"os\"\n\tfuzz \"github.com/AdaLogics/go-fuzz-headers\"\n)\n";
        assert!(scan(harness).test_support);
        assert!(!scan("package main\nimport \"os\"\n").test_support);
    }

    #[test]
    fn a_library_default_is_no_listen() {
        let library = "package grpcserver\n\nconst _defaultAddr = \":80\"\nvar port = flag.Int(\"port\", 80, \"\")\n";
        assert!(scan(library).listens.is_empty());
        assert_eq!(scan(&library.replace("package grpcserver", "package main")).listens.len(), 2);
        // A flag a library registers for the program counts where its name says it serves.
        let registered = "package proxy\n\nfunc (c *Config) RegisterFlags(f *flag.FlagSet) {\n\tf.IntVar(&c.Port, \"server.service-port\", 80, \"\")\n\tf.IntVar(&c.Upstream, \"backend.port\", 80, \"\")\n\tf.StringVar(&c.Addr, \"http-listen-address\", \":443\", \"\")\n}\n";
        let ports: Vec<_> = scan(registered).listens.iter().map(|l| (l.line, l.port)).collect();
        assert_eq!(ports, [(4, 80), (6, 443)]);
    }

    #[test]
    fn a_results_directory_beside_the_working_directory_is_written() {
        let handler = "package v1\n\nvar OutputDir = \"./results/\"\nvar templatesDir = \"./templates\"\n";
        let writes: Vec<_> = scan(handler).writes.iter().map(|w| (w.line, w.path.clone(), w.dir)).collect();
        assert_eq!(writes, [(3, "./results/".to_string(), true)]);
    }

    #[test]
    fn a_cobra_command_package_is_the_program() {
        let command = r#"package cmd

func init() {
	rootCmd.Flags().IntVar(&signalPort, "port", 80, "the port")
	const defaultDir = "/var/lib/relay"
}
"#;
        let scanned = scan(command);
        let ports: Vec<_> = scanned.listens.iter().map(|l| (l.port, l.via.as_deref())).collect();
        assert_eq!(ports, [(80, Some("-port"))]);
        let writes: Vec<_> = scanned.writes.iter().map(|w| (w.path.as_str(), w.dir)).collect();
        assert_eq!(writes, [("/var/lib/relay", true)]);
        // A library's flag default is not the program's port; its default data directory is the
        // directory it writes, whichever package of the module keeps it.
        let library = scan(&command.replace("package cmd", "package storage"));
        assert!(library.listens.is_empty());
        assert_eq!(library.writes.iter().map(|w| w.path.as_str()).collect::<Vec<_>>(), ["/var/lib/relay"]);
    }

    #[test]
    fn a_generator_is_not_the_program() {
        assert!(
            scan("//go:build ignore\n\npackage main\nfunc main() { os.WriteFile(\"out.yaml\", b, 0o644) }\n").not_linux
        );
        assert!(!scan("//go:build !ignore\n\npackage main\n").not_linux);
        // mage's build script is built by mage, never into the program.
        assert!(scan("//go:build mage\n\npackage main\nfunc Build() { os.MkdirAll(\"bin\", 0o755) }\n").not_linux);
    }
}
