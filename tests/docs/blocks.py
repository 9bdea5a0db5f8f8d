"""The shell commands of a Markdown page, as the tests run them.

Every ```sh block of a page the tests cover is a command block and must be
marked on the line before its opening fence:

    <!-- run: NAME [FLAG...] -->

Blocks with the same NAME form one scenario, run as one shell script in the
order of the page. FLAGs tell the runner how (tests/docs/commands.sh): for
example `empty-dir` (run in a new empty directory, not the checkout) or
`root` (changes the system; run as root only).

    blocks.py check DOC...        fails if a ```sh block has no marker
    blocks.py scenarios DOC       one line per scenario: NAME FLAG...
    blocks.py script DOC NAME     the scenario's commands, one script
"""
import re
import sys

MARKER = re.compile(r"<!-- run: ([\w.-]+)((?: [\w.-]+)*) -->")


def blocks(path):
    """(line number, marker match or None, code) of every ```sh block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, i = [], 0
    while i < len(lines):
        if lines[i] == "```sh":
            start = i
            end = lines.index("```", i + 1)
            marker = MARKER.fullmatch(lines[i - 1]) if i else None
            found.append((start + 1, marker, "\n".join(lines[i + 1:end])))
            i = end
        i += 1
    return found


def scenarios(path):
    """{name: (flags, [(line, code)])} in the order of first appearance."""
    result = {}
    for line, marker, code in blocks(path):
        if marker is None:
            sys.exit(f"{path}:{line}: a ```sh block without a marker")
        name, flags = marker.group(1), marker.group(2).split()
        entry = result.setdefault(name, (flags, []))
        if entry[0] != flags:
            sys.exit(f"{path}:{line}: scenario {name} marked with flags "
                     f"{flags}, earlier with {entry[0]}")
        entry[1].append((line, code))
    return result


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        bad = [f"{path}:{line}: a ```sh block without a <!-- run: NAME --> "
               "marker on the line before it"
               for path in argv[1:]
               for line, marker, _ in blocks(path) if marker is None]
        print("\n".join(bad) or "every command block is marked")
        return 1 if bad else 0
    if len(argv) == 2 and argv[0] == "scenarios":
        for name, (flags, _) in scenarios(argv[1]).items():
            print(" ".join([name] + flags))
        return 0
    if len(argv) == 3 and argv[0] == "script":
        found = scenarios(argv[1]).get(argv[2])
        if found is None:
            sys.exit(f"{argv[1]}: no scenario {argv[2]}")
        for line, code in found[1]:
            print(f"# {argv[1]}:{line}\n{code}")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
