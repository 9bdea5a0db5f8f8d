"""The table of docs/ffi.md that shows one mistake per row and language, and
the line each language prints for it.

    error_table.py DOC LANGUAGE   one line per mistake LANGUAGE prints:
                                  MISTAKE<tab>MESSAGE

Fails when the table is missing, or when two languages print different
lines for the same mistake: the table claims they read the same.
"""
import re
import sys

BEGIN, END = "<!-- begin error-table -->", "<!-- end error-table -->"


def messages(doc):
    """{mistake: {language: message}} of the rows whose message is code
    (a language that cannot make the mistake shows plain text)."""
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{doc}: want one pair of error-table markers")
    table = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    found = {}
    for line in table.strip().splitlines()[2:]:
        mistake, language, printed = [c.strip() for c in
                                      line.strip().strip("|").split(" | ")]
        code = re.fullmatch(r"`([^`]+)`", printed)
        if code:
            found.setdefault(mistake, {})[language] = code.group(1)
    for mistake, by_language in found.items():
        if len(set(by_language.values())) != 1:
            raise ValueError(f"{doc}: the languages print different lines "
                             f"for {mistake}: {by_language}")
    return found


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    try:
        table = messages(argv[0])
    except ValueError as e:
        sys.exit(str(e))
    for mistake, by_language in table.items():
        if argv[1] in by_language:
            print(f"{mistake}\t{by_language[argv[1]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
