//! The packages a `RUN` installs, and those it leaves in its image.

use super::super::model::Instruction;

/// Packages a `RUN` installs with apk, apt-get, apt, yum, dnf or microdnf and leaves in the
/// image (not those it removes again, such as an apk virtual package's group).
pub fn installed_packages(inst: &Instruction) -> Vec<String> {
    packages(inst, false, false)
}

/// The packages a `RUN` installs at a version it names (`ipmitool=1.8.19-r1`), as written: a
/// build of the package for the base's release.
pub fn pinned_packages(inst: &Instruction) -> Vec<String> {
    packages(inst, false, true).into_iter().filter(|p| p.contains(['=', '<', '>'])).collect()
}

/// The packages a `RUN` installs at any point, also those it removes again before it ends (Go
/// installed for `make` and deleted once the binary is built).
pub fn ever_installed(inst: &Instruction) -> Vec<String> {
    packages(inst, true, false)
}

/// The packages a `RUN` installs, less those it removes in the same step unless `with_removed`;
/// with the versions they are pinned to where `versioned`.
fn packages(inst: &Instruction, with_removed: bool, versioned: bool) -> Vec<String> {
    let mut out = Vec::new();
    // Names the RUN gives a list of packages (`deps='bash tzdata' && apk add $deps`).
    let mut lists: Vec<(String, String)> = Vec::new();
    // apk's virtual packages, each with the packages it groups.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for cmd in inst.body.run_commands() {
        if cmd.argv().is_empty() {
            lists.extend(cmd.assignments().map(|(name, value)| (name.to_string(), value.to_string())));
            continue;
        }
        let expanded = |word: &str| {
            let name = word.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}');
            match lists.iter().rev().find(|(n, _)| word.starts_with('$') && n == name) {
                // A list written over lines inside its quotes keeps the continuations' `\`.
                Some((_, value)) => value.split_whitespace().filter(|w| *w != "\\").map(str::to_string).collect(),
                None => vec![word.to_string()],
            }
        };
        let all: Vec<String> = cmd.argv().iter().flat_map(|t| expanded(&t.value)).collect();
        // apk's virtual package (`apk add -t deps curl`, `--virtual .build-deps`) names the group
        // of packages, which a later `apk del deps` removes whole.
        let group = all.iter().enumerate().find_map(|(i, w)| match w.as_str() {
            "-t" | "--virtual" => all.get(i + 1).cloned(),
            w => w.strip_prefix("--virtual=").map(str::to_string),
        });
        // Options may come before the verb too (`apk --no-cache add`), and some take the next
        // word (`--repository https://…/edge/main`, apt's `-t bookworm-backports`, `-o Opt=1`,
        // dnf's `--setopt install_weak_deps=0`, `--enablerepo epel`, `-x kernel*`).
        const VALUED: &[&str] = &[
            "-X",
            "--repository",
            "--repositories-file",
            "-p",
            "--root",
            "--arch",
            "--keys-dir",
            "--cache-dir",
            "-o",
            "-t",
            "--virtual",
            "--target-release",
            "-c",
            "--setopt",
            "--enablerepo",
            "--disablerepo",
            "--repo",
            "--exclude",
            "-x",
            "--releasever",
            "--installroot",
        ];
        let mut words: Vec<&str> = Vec::new();
        let mut taken = false;
        for w in all.iter().map(String::as_str) {
            match (taken, w.starts_with('-')) {
                (true, _) => taken = false,
                (false, true) => taken = VALUED.contains(&w),
                (false, false) => words.push(w),
            }
        }
        let rest = match words.as_slice() {
            ["apk", "add", rest @ ..] => rest,
            ["apt-get" | "apt" | "yum" | "dnf" | "microdnf" | "tdnf", "install", rest @ ..] => rest,
            // SUSE's (`zypper -n in nginx`).
            ["zypper", "install" | "in", rest @ ..] => rest,
            // Removed in the same step, they are not in the image.
            ["apk", "del", names @ ..]
            | ["apt-get" | "apt", "purge" | "remove", names @ ..]
            | ["zypper", "remove" | "rm", names @ ..]
                if !with_removed =>
            {
                for name in names {
                    let members =
                        groups.iter().find(|(g, _)| g == name).map(|(_, m): &(String, Vec<String>)| m.clone());
                    out.retain(|p| p != name && !members.as_ref().is_some_and(|m| m.contains(p)));
                }
                continue;
            }
            _ => continue,
        };
        let packages: Vec<String> = rest
            .iter()
            .filter(|w| group.as_deref() != Some(**w))
            .map(|w| if versioned { w } else { w.split(['=', '>', '<']).next().unwrap_or(w) }.to_string())
            .collect();
        for package in &packages {
            // The branches of an `if` (apk on Alpine, apt-get on Debian) name the same packages.
            if !out.contains(package) {
                out.push(package.clone());
            }
        }
        groups.extend(group.map(|g| (g, packages)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_packages_keep_their_versions() {
        let text = "FROM alpine:3.21\nRUN apk add --upgrade ipmitool=1.8.19-r1 curl && apt-get install -y jq=1.6-2 'tzdata>=2024a'\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(pinned_packages(&df.stages[0].instructions[0]), ["ipmitool=1.8.19-r1", "jq=1.6-2", "tzdata>=2024a"]);
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["ipmitool", "curl", "jq", "tzdata"]);
    }

    #[test]
    fn names_each_installed_package_once() {
        let text = "FROM alpine\nRUN if [ -x /sbin/apk ]; then apk add --no-cache bash nftables; else apt-get install -y bash nftables; fi\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["bash", "nftables"]);
        // A list the RUN names first is its packages.
        let text = "FROM alpine\nRUN set -x && deps='bash tzdata' && apk add --no-cache $deps curl\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["bash", "tzdata", "curl"]);
        // A virtual package's group removed in the same step leaves only what stays.
        let text = "FROM alpine\nRUN apk add --no-cache -t deps curl vim && apk add --no-cache ca-certificates && curl -o /bin/kubectl https://example.com/kubectl && apk del --purge deps\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["ca-certificates"]);
        let text = "FROM debian\nRUN apt-get install -y curl git && git clone x && apt-get purge -y curl\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["git"]);
        // An option's value is no package (`--repository` of apk, `-t` of apt-get).
        let text = "FROM alpine\nRUN apk --update add --repository http://dl-3.alpinelinux.org/alpine/edge/main zfs && apt-get install -y -t bookworm-backports wireguard\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["zfs", "wireguard"]);
        let text = "FROM ubi9-minimal\nRUN microdnf install -y --nodocs --setopt install_weak_deps=0 --enablerepo epel 'shadow-utils' gettext\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["shadow-utils", "gettext"]);
        // A list written over lines inside its quotes.
        let text = "FROM ubi9-minimal\nRUN PKGS=\" \\\n  rsync \\\n  tar \\\n  \" && \\\n  microdnf install -y $PKGS\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["rsync", "tar"]);
        // SUSE's zypper, a package it removes first aside.
        let text =
            "FROM bci-base\nRUN zypper -n rm container-suseconnect && zypper -n in nginx && zypper -n clean -a\n";
        let df = super::super::super::model::Dockerfile::parse(text).unwrap();
        assert_eq!(installed_packages(&df.stages[0].instructions[0]), ["nginx"]);
    }
}
