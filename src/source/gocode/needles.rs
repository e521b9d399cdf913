//! What the scan looks for in a Go file's lines: the strings, calls, imports and flag-name words
//! that say the program uses a root-only resource, listens, writes, or keeps a database.

/// Strings in Go source that mean the program talks to a root-owned socket or device.
pub(super) const ROOT_RESOURCES: &[(&str, &str)] = &[
    ("docker.sock", "the Docker socket"),
    ("\"github.com/docker/docker/client\"", "the Docker client (the Docker socket)"),
    ("\"github.com/moby/moby/client\"", "the Docker client (the Docker socket)"),
    ("containerd.sock", "the containerd socket"),
    ("crio.sock", "the CRI-O socket"),
    ("/dev/kmsg", "the kernel log"),
    // Changing the host's network (routes, links, firewall rules) needs CAP_NET_ADMIN, which a
    // non-root process does not keep (Kubernetes sets no ambient capabilities).
    ("\"github.com/vishvananda/netlink\"", "netlink (network links and routes, CAP_NET_ADMIN)"),
    ("\"github.com/coreos/go-iptables/iptables\"", "iptables (firewall rules, CAP_NET_ADMIN)"),
    ("\"sigs.k8s.io/knftables\"", "nftables (firewall rules, CAP_NET_ADMIN)"),
    ("\"github.com/google/nftables\"", "nftables (firewall rules, CAP_NET_ADMIN)"),
    ("exec.Command(\"nft\"", "nftables (the nft command, CAP_NET_ADMIN)"),
    ("exec.Command(\"iptables\"", "iptables (the iptables command, CAP_NET_ADMIN)"),
    ("exec.Command(\"ip6tables\"", "iptables (the ip6tables command, CAP_NET_ADMIN)"),
    ("exec.Command(\"ipset\"", "IP sets (the ipset command, CAP_NET_ADMIN)"),
    ("exec.Command(\"ipvsadm\"", "IPVS (the ipvsadm command, CAP_NET_ADMIN)"),
    // Loading eBPF programs and maps needs CAP_BPF (or CAP_SYS_ADMIN) and often a raised memlock.
    ("\"github.com/cilium/ebpf\"", "eBPF (loading programs and maps, CAP_BPF or CAP_SYS_ADMIN)"),
    // A raw ICMP socket (a pinger's fallback when unprivileged ping is off) needs CAP_NET_RAW.
    ("\"ip4:icmp\"", "a raw ICMP socket (CAP_NET_RAW)"),
    ("\"ip6:ipv6-icmp\"", "a raw ICMP socket (CAP_NET_RAW)"),
    // Mounting a file system (a CSI node plugin's work) needs CAP_SYS_ADMIN.
    ("\"k8s.io/mount-utils\"", "k8s.io/mount-utils (mounting file systems, CAP_SYS_ADMIN)"),
    ("\"k8s.io/utils/mount\"", "k8s.io/utils/mount (mounting file systems, CAP_SYS_ADMIN)"),
    // A CNI plugin is run by the kubelet as root on the node, and its image installs it into
    // the node's CNI directories and keeps its state there.
    (
        "\"github.com/containernetworking/cni/pkg/skel\"",
        "the CNI plugin interface (a plugin the kubelet runs as root on the node, sharing the node's CNI directories)",
    ),
    // A CSI sidecar talks to its driver over the driver's unix socket, which drivers create
    // root-owned: another user cannot connect.
    (
        "\"github.com/kubernetes-csi/csi-lib-utils/connection\"",
        "the CSI driver's socket (created by the driver, root-owned)",
    ),
];

/// A unix socket in the run directory that the program's own code names (a flag's default,
/// `/var/run/kmsplugin/socket.sock`, or `unix:///run/app.sock`): root owns that directory, on the
/// node it is mounted from too, so another user can neither make the socket there nor, mostly,
/// reach one root made.
pub(super) fn run_socket(code: &str) -> Option<String> {
    super::all_strings(code).into_iter().find_map(|s| {
        let path = s.strip_prefix("unix://").unwrap_or(&s);
        let dir = ["/var/run/", "/run/"].into_iter().find(|d| path.starts_with(d))?;
        // A bind mount's `host:container` pair is another container's socket.
        (path.ends_with(".sock") && !path.contains(':'))
            .then(|| format!("the unix socket {path} (in {}, which root owns)", dir.trim_end_matches('/')))
    })
}

/// The name a file calls the package `needle` (an import path in quotes) by, when `code` is its
/// import line: the alias written before it (`nl "github.com/vishvananda/netlink"`), else the
/// path's last element.
pub(super) fn import_qualifier(code: &str, needle: &str) -> Option<String> {
    let path = needle.strip_prefix('"')?.strip_suffix('"')?;
    let (before, after) = code.strip_prefix("import").unwrap_or(code).split_once(needle)?;
    let (before, after) = (before.trim(), after.trim());
    let alias = before.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !alias || !(after.is_empty() || after.starts_with("//")) {
        return None;
    }
    match before {
        // A repository named for its package (`k8s.io/mount-utils` is package `mount`).
        "" => path.rsplit('/').next().map(|last| last.strip_suffix("-utils").unwrap_or(last).to_string()),
        "_" => None,
        alias => Some(alias.to_string()),
    }
}

/// True when `code` calls into the package the file names `qualifier` (`netlink.LinkSetUp(`),
/// the import `needle`: for netlink, a call that changes the host's network, not one that only
/// reads it (`netlink.LinkList()`, as `ip link show`, which any user may run).
pub(super) fn calls_into(code: &str, qualifier: &str, needle: &str) -> bool {
    let prefix = format!("{qualifier}.");
    code.match_indices(&prefix).any(|(at, _)| {
        // `pkg.Name(`: a call, not a type named in a signature (`...client.ImageSaveOption`).
        let name = &code[at + prefix.len()..];
        let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(name.len());
        !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '"' || c == '/')
            && end > 0
            && name[end..].starts_with('(')
            && !(needle == NETLINK && reads_only(&name[..end]))
    })
}

/// The netlink import, whose reads need no privilege.
const NETLINK: &str = "\"github.com/vishvananda/netlink\"";

/// True for a netlink call that only reads the host's network or builds a value, which any user
/// may do: a list (`LinkList`, `RouteListFiltered`), a look-up or a subscription after the
/// object's word (`LinkByName`, `RouteGet`, `AddrSubscribe`), a parse. The kernel answers reads
/// of conntrack and xfrm (IPsec) only with CAP_NET_ADMIN.
fn reads_only(name: &str) -> bool {
    if name.starts_with("Conntrack") || name.starts_with("Xfrm") {
        return false;
    }
    let object = name.char_indices().skip(1).find(|(_, c)| c.is_ascii_uppercase()).map_or(name.len(), |(at, _)| at);
    let verb = &name[object..];
    name.contains("List")
        || ["By", "Get", "Subscribe"].iter().any(|v| verb.starts_with(v))
        || ["Parse", "NewIPNet", "NewLinkAttrs"].iter().any(|v| name.starts_with(v))
}

/// Drops the netlink uses (found at their import) of a file that never calls it to change the
/// network: `first_use` holds those whose changing call was not found.
pub(super) fn drop_read_only(resources: &mut Vec<super::RootResource>, first_use: &[(usize, String, &str)]) {
    let mut unused: Vec<usize> =
        first_use.iter().filter(|(_, _, needle)| *needle == NETLINK).map(|(at, ..)| *at).collect();
    unused.sort_unstable();
    for at in unused.into_iter().rev() {
        resources.remove(at);
    }
}

/// Calls that start another program, or find one to start.
pub(super) const PROGRAM_STARTS: &[&str] =
    &["exec.Command(", "exec.CommandContext(", "syscall.Exec(", "os.StartProcess(", "unix.Exec(", "exec.LookPath("];
/// Calls whose first string argument is an address to listen on.
pub(super) const LISTEN_CALLS: &[&str] =
    &["ListenAndServe(", "ListenAndServeTLS(", "net.Listen(", "tls.Listen(", "ListenPacket("];
/// Calls whose first string argument is a path written: (call, directory?, how).
pub(super) const WRITE_CALLS: &[(&str, bool, &str)] = &[
    ("os.Create(", false, "os.Create"),
    ("os.WriteFile(", false, "os.WriteFile"),
    ("ioutil.WriteFile(", false, "ioutil.WriteFile"),
    ("os.Mkdir(", true, "os.Mkdir"),
    ("os.MkdirAll(", true, "os.MkdirAll"),
    ("bolt.Open(", false, "bolt"),
    ("bbolt.Open(", false, "bbolt"),
    ("badger.DefaultOptions(", true, "badger"),
    ("leveldb.OpenFile(", true, "leveldb"),
    ("pebble.Open(", true, "pebble"),
    ("buntdb.Open(", false, "buntdb"),
    ("sqlite.Open(", false, "sqlite"),
];
/// Embedded databases, by import path (or its prefix): a program that imports one keeps data
/// in files, wherever its configuration says.
pub(super) const DATA_STORES: &[&str] = &[
    "modernc.org/sqlite",
    "github.com/mattn/go-sqlite3",
    "github.com/glebarez/sqlite",
    "github.com/glebarez/go-sqlite",
    "github.com/ncruces/go-sqlite3",
    "gorm.io/driver/sqlite",
    "zombiezen.com/go/sqlite",
    "go.etcd.io/bbolt",
    "github.com/boltdb/bolt",
    "github.com/dgraph-io/badger",
    "github.com/syndtr/goleveldb/leveldb",
    "github.com/cockroachdb/pebble",
    "github.com/tidwall/buntdb",
];
/// Flag-defining calls: the flag's name is the first string argument, its default the next.
pub(super) const FLAG_CALLS: &[&str] = &[
    "String(",
    "StringVar(",
    "StringP(",
    "StringVarP(",
    "Int(",
    "IntVar(",
    "IntP(",
    "IntVarP(",
    "Int32(",
    "Int32Var(",
    "Int32P(",
    "Int32VarP(",
    "Int64(",
    "Int64Var(",
    "Uint(",
    "UintVar(",
    "Uint16(",
    "Uint16Var(",
];
/// Words in a flag's name that say it names where the program keeps data (`dir` alone does not:
/// a static file server's `-dir` is read).
pub(super) const DATA_FLAG_WORDS: &[&str] = &[
    "data", "db", "database", "store", "storage", "state", "cache", "log", "output", "upload", "uploads", "etcd",
    "raft", "wal", "bolt", "badger",
];
/// Words in a flag's name that say it names something read, not written.
pub(super) const READ_FLAG_WORDS: &[&str] =
    &["config", "conf", "cert", "key", "tls", "ca", "template", "static", "web", "ui", "asset"];
/// Fuzzing libraries: a file importing one is a harness OSS-Fuzz builds, not code the program runs.
pub(super) const FUZZ_LIBRARIES: &[&str] =
    &["github.com/AdaLogics/go-fuzz-headers", "github.com/dvyukov/go-fuzz", "github.com/google/gofuzz"];

/// Calls that look up the user's home directory (or a directory under it) for the program's
/// files (not go-homedir's `homedir.Expand`, which only resolves a `~/` path the user gives).
pub(super) const HOME_LOOKUPS: &[&str] =
    &["os.UserHomeDir()", "os.UserConfigDir()", "os.UserCacheDir()", "homedir.Dir()", "xdg.ConfigHome", "xdg.DataHome"];

/// Packages that make directories under the home directory as they start (adrg/xdg creates its
/// config directory; clusterctl's configuration client reads `$HOME/.config/cluster-api` through
/// it), with what they make there.
const HOME_LIBRARIES: &[(&str, &str)] = &[
    (
        "sigs.k8s.io/cluster-api/cmd/clusterctl/client/config",
        "clusterctl's configuration client, which creates $HOME/.config/cluster-api",
    ),
    ("github.com/adrg/xdg", "adrg/xdg, which creates its directories under $HOME/.config and $HOME/.cache"),
];

/// The home write of a file that imports one of [`HOME_LIBRARIES`], at its import's line.
pub(super) fn home_library(text: &str, imports: &[String]) -> Option<super::Write> {
    let (import, how) = HOME_LIBRARIES.iter().find(|(import, _)| imports.iter().any(|i| i == import))?;
    let quoted = format!("\"{import}\"");
    let line = text.lines().position(|l| l.contains(&quoted))? + 1;
    Some(super::Write { line, path: "~".into(), dir: true, how: how.to_string() })
}

/// gopsutil's process packages, whose `Process` can signal any process by its pid.
const PROCESS_PACKAGES: &[&str] = &[
    "github.com/shirou/gopsutil/process",
    "github.com/shirou/gopsutil/v3/process",
    "github.com/shirou/gopsutil/v4/process",
];

/// The calls on a gopsutil `Process` that signal it.
const PROCESS_SIGNALS: &[&str] = &[".Terminate()", ".Kill()", ".SendSignal("];

/// Where a file (`text`, importing `imports`) signals another process through gopsutil (a sidecar
/// that stops the training process it watches, in a pod sharing its process namespace): the
/// kernel lets only that process's own user, or root, signal it.
pub(super) fn signals_processes(text: &str, imports: &[String]) -> Option<super::RootResource> {
    if !imports.iter().any(|i| PROCESS_PACKAGES.contains(&i.as_str())) {
        return None;
    }
    let (at, call) = text.lines().enumerate().find_map(|(i, line)| {
        let code = line.trim();
        let call = PROCESS_SIGNALS.iter().find(|c| !code.starts_with("//") && code.contains(*c))?;
        Some((i + 1, call.trim_matches(['.', '(', ')'])))
    })?;
    let what = format!("gopsutil's {call} (a signal to another process, which may be another user's)");
    Some(super::RootResource { line: at, what })
}

/// Comparisons that ask whether the program runs as root.
const NOT_ROOT: &[&str] = &["Geteuid() != 0", "Getuid() != 0", ".Uid != \"0\""];

/// What a program that refuses to run as any user but root is said to use.
pub const ROOT_CHECK: &str = "a check that it runs as root, which stops it as any other user";

/// Where a file refuses to run unless it is root: a test of its uid (`os.Geteuid() != 0`,
/// `user.Current()`'s `Uid != "0"`) whose next line ends it (returns an error, exits, panics).
pub(super) fn root_check(text: &str) -> Option<super::RootResource> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let at = lines.windows(2).position(|pair| {
        let stops = ["return", "Fatal", "os.Exit(", "panic("].iter().any(|s| pair[1].contains(s));
        // A test joined with another (`os.Geteuid() != 0 && !opt.Check`, under `--package deb`)
        // stops the program in that mode alone.
        let alone = !pair[0].contains("&&") && !pair[0].contains("||");
        !pair[0].starts_with("//")
            && NOT_ROOT.iter().any(|c| pair[0].contains(c))
            && alone
            && stops
            && !pair[1].ends_with("nil")
    })?;
    Some(super::RootResource { line: at + 1, what: ROOT_CHECK.to_string() })
}

/// True when a code line uses a root-only resource: a socket path written as a bind mount
/// for another container (`"/var/run/docker.sock:/var/run/docker.sock"`, handed to `docker run`)
/// is that container's, not the program's, and a flag's help text (`flag.StringVar(&path,
/// "cri-socket-path", "", "… (default: /var/run/docker.sock)")`) names it without using it, as a
/// volume of a pod the program creates does.
pub(super) fn uses(code: &str, needle: &str) -> bool {
    // A mount in a pod the program creates (`MountPath: "/var/run/docker.sock"`, a hostPath's
    // `Path:`) is that pod's container's.
    let pod_field = ["MountPath:", "Path:"].iter().any(|f| code.trim_start().starts_with(f));
    if !code.contains(needle) || code.contains(&format!("{needle}:/")) || pod_field {
        return false;
    }
    let flag = ["flag.", "Flags().", "PersistentFlags()."].iter().any(|f| code.contains(f));
    let strings = super::all_strings(code);
    match strings.split_last() {
        Some((_, given)) if flag && strings.len() >= 2 => given.iter().any(|s| s.contains(needle)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::{reads_only, root_check, signals_processes};

    #[test]
    fn netlink_that_only_reads_needs_no_root() {
        let reads = "package marker\n\nimport \"github.com/vishvananda/netlink\"\n\nfunc links() {\n\tall, _ := netlink.LinkList()\n\tbr, _ := netlink.LinkByName(name)\n\t_, _ = netlink.RouteListFiltered(0, nil, 0)\n}\n";
        assert!(super::super::scan(reads).root_resources.is_empty(), "as `ip link show`, any user may");
        let changes = format!("{reads}func up() {{ netlink.LinkSetUp(br) }}\n");
        assert_eq!(super::super::scan(&changes).root_resources[0].line, 10);
        assert!(!reads_only("LinkSetUp") && !reads_only("NewHandleAt") && !reads_only("ConntrackTableList"));
        assert!(reads_only("AddrSubscribe") && reads_only("RouteGet") && reads_only("ParseIPNet"));
    }

    #[test]
    fn a_program_that_stops_unless_root_says_so() {
        let check = "package worker\n\nfunc (c *Cmd) checkRoot() error {\n\tu, _ := user.Current()\n\tif u.Uid != \"0\" {\n\t\treturn ErrNotRoot\n\t}\n\treturn nil\n}\n";
        assert_eq!(root_check(check).map(|r| r.line), Some(5));
        let warns = "package main\n\nfunc main() {\n\tif os.Geteuid() != 0 {\n\t\tlog.Println(\"some checks need root\")\n\t}\n}\n";
        assert!(root_check(warns).is_none(), "a warning lets it run");
        let in_a_mode = "package main\n\nfunc update() {\n\tif opt.Package != \"zip\" {\n\t\tif os.Geteuid() != 0 && !opt.Check {\n\t\t\tlog.Fatalf(\"packages are installed by root\")\n\t\t}\n\t}\n}\n";
        assert!(root_check(in_a_mode).is_none(), "a test joined with another stops one mode alone");
    }

    #[test]
    fn signalling_another_process_is_root_s_but_reading_one_is_not() {
        let imports = vec!["github.com/shirou/gopsutil/v3/process".to_string()];
        let stop =
            "package main\n\nfunc stop(pid int32) {\n\tp, _ := process.NewProcess(pid)\n\t_ = p.Terminate()\n}\n";
        assert_eq!(signals_processes(stop, &imports).map(|r| r.line), Some(5));
        let metrics = "package main\n\nfunc rss() uint64 {\n\tp, _ := process.NewProcess(int32(os.Getpid()))\n\tm, _ := p.MemoryInfo()\n\treturn m.RSS\n}\n";
        assert!(signals_processes(metrics, &imports).is_none());
        assert!(signals_processes(stop, &[]).is_none(), "another package's Terminate");
    }
}
