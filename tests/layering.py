#!/usr/bin/env python3
"""Every arrow between the library's files points down: no loop of files
that use each other's headers or functions (docs/design.md, layer map).

    layering.py SRC_DIR LIBVAE_A

A module is a file of SRC_DIR without its extension (src/net.c and
src/net.h are the module "net"). Module A uses module B when a file of A
includes B's header, or when A's object file in the static library needs
a symbol that B's object file defines (read with nm, so calls through the
public header vae.h count too). The check fails, naming the files and why,
when the uses form a cycle; otherwise it prints the modules in layer order
(each after everything it uses)."""
import os
import re
import subprocess
import sys
from collections import defaultdict


def modules_by_includes(src):
    """{module: {used module: 'includes x.h'}} from #include "..." lines."""
    uses = defaultdict(dict)
    mods = set()
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(root, name)
            mod = os.path.splitext(os.path.relpath(path, src))[0]
            mods.add(mod)
            with open(path, encoding='utf-8') as f:
                for line in f:
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not m:
                        continue
                    target = os.path.normpath(os.path.join(root, m.group(1)))
                    if not target.startswith(os.path.normpath(src) + os.sep):
                        continue  # vae.h and other outside headers
                    used = os.path.splitext(os.path.relpath(target, src))[0]
                    if used != mod:
                        uses[mod].setdefault(used, 'includes ' + m.group(1))
    return mods, uses


def member_modules(src):
    """{object member name: module}, from the .c files (names must be
    unique, as they are members of one archive)."""
    table = {}
    for root, _, files in os.walk(src):
        for name in files:
            if name.endswith('.c'):
                mod = os.path.splitext(
                    os.path.relpath(os.path.join(root, name), src))[0]
                member = name + '.o'
                if member in table:
                    sys.exit('layering: two files named %s: %s and %s'
                             % (name, table[member], mod))
                table[member] = mod
    return table


def modules_by_symbols(archive, members):
    """{module: {used module: 'calls symbol'}} from the archive's symbol
    tables: a member that needs a symbol another member defines uses it."""
    out = subprocess.run(['nm', '-A', archive], capture_output=True,
                         text=True, check=True).stdout
    defined, needed = {}, defaultdict(set)
    for line in out.splitlines():
        # "libvae.a:net.c.o:0000000000000000 T vae_net_forward" or
        # "libvae.a:net.c.o:                 U vae_op_get"
        m = re.match(r'[^:]*:([^:]+):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$',
                     line)
        if not m:
            continue
        member, kind, sym = m.groups()
        if member not in members:
            sys.exit('layering: archive member %s has no source file' % member)
        if kind == 'U':
            needed[members[member]].add(sym)
        elif kind.isupper():
            defined[sym] = members[member]
    uses = defaultdict(dict)
    for mod, syms in needed.items():
        for sym in sorted(syms):
            owner = defined.get(sym)
            if owner and owner != mod:
                uses[mod].setdefault(owner, 'uses ' + sym)
    return uses


def cycles(mods, uses):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in uses.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            visit(v)
    return comps


def layers(mods, uses):
    """Each module's height: 0 for one that uses nothing, else one more
    than the highest module it uses."""
    height = {}

    def h(v):
        if v not in height:
            height[v] = 0
            height[v] = 1 + max((h(w) for w in uses.get(v, {})), default=-1)
        return height[v]

    for v in mods:
        h(v)
    return height


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, archive = sys.argv[1], sys.argv[2]
    mods, uses = modules_by_includes(src)
    for mod, used in modules_by_symbols(archive, member_modules(src)).items():
        for w, why in used.items():
            uses[mod].setdefault(w, why)
    bad = cycles(mods, uses)
    for comp in bad:
        print('FAIL  a loop among: ' + ', '.join(comp))
        for v in comp:
            for w, why in sorted(uses[v].items()):
                if w in comp:
                    print('      %s -> %s (%s)' % (v, w, why))
    if bad:
        print('layering: %d loop(s)' % len(bad))
        return 1
    height = layers(mods, uses)
    for level in range(max(height.values()) + 1):
        row = sorted(m for m in mods if height[m] == level)
        print('layer %d: %s' % (level, ' '.join(row)))
    n = sum(len(u) for u in uses.values())
    print('layering: %d modules, %d uses, no loop' % (len(mods), n))
    return 0


if __name__ == '__main__':
    sys.exit(main())
