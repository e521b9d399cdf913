//! Files every user may write (HD158): `chmod -R 777 /usr/bin` in an image that runs a program
//! lets any process in the container, whoever runs it, replace what is there.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;

/// HD158 on each `chmod` that makes paths writable by others (a mode of `777`, `o+w`, `a+rwx`)
/// without the sticky bit (`1777`, which keeps a shared directory's files their owners'), in a
/// stage that runs a program or one it is built on.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for inst in facts.program_stages().iter().flat_map(|s| &s.instructions) {
        for command in inst.body.run_commands() {
            let argv: Vec<&str> = command.argv().iter().map(|w| w.value.as_str()).collect();
            let Some((&"chmod", args)) = argv.split_first() else { continue };
            let mut operands = args.iter().filter(|a| !a.starts_with('-'));
            let (Some(mode), paths) = (operands.next(), operands.copied().collect::<Vec<_>>()) else { continue };
            if paths.is_empty() || !others_may_write(mode) {
                continue;
            }
            let written = argv.join(" ");
            let message = format!(
                "`{written}` makes {} writable by every user of the container: any process, whoever runs it, can replace or add files there; give them to the user that writes them instead (COPY --chown=uid:gid, or chown with a mode such as 755)",
                paths.join(" ")
            );
            out.push(Finding::new(&rules::WORLD_WRITABLE, inst.line, message));
        }
    }
}

/// True for a mode that lets others write without the sticky bit: octal (`777`, `0666`, but not
/// `1777`) or symbolic (`o+w`, `a+rwx`, `ugo=rwx`; a bare `+w` follows the umask, which keeps
/// others out).
fn others_may_write(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        let digits: Vec<u32> = mode.chars().filter_map(|c| c.to_digit(8)).collect();
        let others = digits.last().copied().unwrap_or(0);
        let sticky = digits.len() == 4 && digits[0] & 1 == 1;
        return others & 2 == 2 && !sticky;
    }
    mode.split(',').any(|clause| {
        let Some(at) = clause.find(['+', '=']) else { return false };
        let (who, perms) = clause.split_at(at);
        (who.contains(['o', 'a'])) && perms.contains('w') && !perms.contains('t')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_that_let_others_write() {
        for mode in ["777", "0777", "666", "o+w", "a+rwx", "ugo=rwx", "u+x,o+w", "2777"] {
            assert!(others_may_write(mode), "{mode}");
        }
        for mode in ["755", "0644", "1777", "+w", "u+w", "g+w", "a+rwxt", "a-w", "+x"] {
            assert!(!others_may_write(mode), "{mode}");
        }
    }
}
