"""The fenced code blocks of a Markdown file: (line, language, text), with
the indentation of blocks inside list items removed."""
import re
import sys

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


def blocks(path):
    out, lines = [], open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i + 1
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        out.append((start, lang, "\n".join(body) + "\n"))
    return out


if __name__ == "__main__":
    # blocks.py FILE N: prints block N (0-based) of the runnable ones
    for n, (line, lang, text) in enumerate(b for b in blocks(sys.argv[1]) if b[1] in ("sh", "python")):
        if n == int(sys.argv[2]):
            sys.stdout.write(text)
