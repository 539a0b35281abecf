#!/usr/bin/env bash
# The wings of src/ioguard/ (docs/architecture.md) against their includes: every include
# of another wing is one the document's table allows, the wings form no cycle, only cli/
# includes cli/cli.h, and no test or bench reaches a source by a relative path or
# includes a .c file.
. "$(dirname "$0")/lib.bash"
passed=0 failed=0
cd "$(dirname "$0")/../.." || exit 1

out=$(python3 - <<'PY'
import os, re, sys
root = 'src/ioguard'
doc = open('docs/architecture.md').read()
# The table's rows: "| `wing/` | holds | `a/`, `b/`, libioasid |".
allowed = {}
for m in re.finditer(r'^\| `([a-z]+)/` \|[^|]*\| ([^|]*) \|$', doc, re.M):
    allowed[m.group(1)] = set(re.findall(r'`([a-z]+)/`', m.group(2)))
    if 'every wing' in m.group(2):
        allowed[m.group(1)] = None	# the CLI: any wing
wings = sorted(d for d in os.listdir(root) if os.path.isdir(f'{root}/{d}'))
problems, edges = [], {w: set() for w in wings}
for w in wings:
    if w not in allowed:
        problems.append(f'{root}/{w}/ has no row in the table of docs/architecture.md')
        continue
    for f in sorted(os.listdir(f'{root}/{w}')):
        for inc in re.findall(r'^#include "([^"]+)"', open(f'{root}/{w}/{f}').read(), re.M):
            other = inc.split('/')[0] if '/' in inc else w
            if other not in wings or other == w:
                continue
            edges[w].add(other)
            if allowed[w] is not None and other not in allowed[w]:
                problems.append(f'{root}/{w}/{f} includes "{inc}": {other}/ is not in the '
                                f'row of {w}/ in docs/architecture.md')
            if inc == 'cli/cli.h':
                problems.append(f'{root}/{w}/{f} includes cli/cli.h: only cli/ prints')
for w in allowed:
    if w not in wings:
        problems.append(f'docs/architecture.md names a wing {w}/ that {root}/ lacks')
# A cycle: a wing that reaches itself.
def reaches(a, b, seen):
    for n in edges.get(a, ()):
        if n == b or (n not in seen and reaches(n, b, seen | {n})):
            return True
    return False
for w in wings:
    if reaches(w, w, set()):
        problems.append(f'{w}/ is on an include cycle: ' + ', '.join(
            f'{a}/ -> {"/ ".join(sorted(edges[a]))}/' for a in wings if edges[a]))
for d in ('tests/unit', 'tests/fuzz', 'tests/bench', 'tests/vm/tools', 'tests/vm/tools32'):
    for f in sorted(os.listdir(d)):
        if not f.endswith(('.c', '.h')):
            continue
        for inc in re.findall(r'^#include "([^"]+)"', open(f'{d}/{f}').read(), re.M):
            if inc.endswith('.c'):
                problems.append(f'{d}/{f} includes the source {inc}')
            elif '../src/' in inc:
                problems.append(f'{d}/{f} includes {inc} by a relative path')
print(len(wings))
print('\n'.join(problems))
PY
)
n=$(head -n 1 <<< "$out")
problems=$(tail -n +2 <<< "$out")
[ -z "$problems" ] && [ "${n:-0}" -gt 1 ]
result "the $n wings of src/ioguard include only what docs/architecture.md allows, with no cycle" $? \
	"$(tr '\n' ';' <<< "$problems")"
finish
