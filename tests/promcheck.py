#!/usr/bin/env python3
"""promcheck.py -- a strict check of the Prometheus text exposition format
0.0.4 on stdin, for tests/observe.bats where promtool is not installed.

Every line is a HELP, a TYPE, another comment or a sample, each matching
the format's grammar; a metric's HELP and TYPE come before its samples, at
most once each; its samples are together; a counter's name ends in _total;
no two samples have the same name and labels; label values use only the
escapes \\\\, \\" and \\n.  Prints what is wrong and exits 1, else exits 0.
Usage: promcheck.py [REQUIRED-METRIC...] < text
"""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
FLOAT = r'(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN)'
HELP = re.compile(r'^# HELP (' + NAME + r') ((?:[^\\\n]|\\[\\n])*)$')
TYPE = re.compile(r'^# TYPE (' + NAME + r') (counter|gauge|histogram|summary|untyped)$')
SAMPLE = re.compile(r'^(' + NAME + r')(?:\{((?:' + LABEL + r'=' + VALUE +
    r')(?:,' + LABEL + r'=' + VALUE + r')*,?)?\})? (' + FLOAT +
    r')(?: (-?[0-9]+))?$')
PAIR = re.compile(r'(' + LABEL + r')=(' + VALUE + r')')


def main():
    text = sys.stdin.read()
    bad = []
    if not text.endswith('\n'):
        bad.append('the text does not end with a newline')
    helps, types, done, seen, counts = {}, {}, set(), set(), {}
    current = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = HELP.match(line) or TYPE.match(line)
            if line.startswith('# HELP') or line.startswith('# TYPE'):
                if not m:
                    bad.append('%d: malformed: %s' % (n, line))
                    continue
                d = helps if line.startswith('# HELP') else types
                if m.group(1) in d:
                    bad.append('%d: second %s for %s' %
                               (n, line[2:6], m.group(1)))
                if m.group(1) in counts:
                    bad.append('%d: %s after the samples of %s' %
                               (n, line[2:6], m.group(1)))
                d[m.group(1)] = m.group(2)
            elif not line.startswith('# '):
                bad.append('%d: comment without a space: %s' % (n, line))
            continue
        if line == '':
            bad.append('%d: empty line' % n)
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append('%d: not a sample: %s' % (n, line))
            continue
        name, labels = m.group(1), m.group(2) or ''
        if name != current:
            if name in done:
                bad.append('%d: samples of %s are not together' % (n, name))
            if current is not None:
                done.add(current)
            current = name
        for what, d in (('HELP', helps), ('TYPE', types)):
            if name not in d:
                bad.append('%d: %s has no %s before its samples' %
                           (n, name, what))
        if types.get(name) == 'counter' and not name.endswith('_total'):
            bad.append('%d: counter %s does not end in _total' % (n, name))
        pairs = PAIR.findall(labels)
        names = [p[0] for p in pairs]
        if len(set(names)) != len(names):
            bad.append('%d: a label twice: %s' % (n, line))
        key = (name, tuple(sorted(pairs)))
        if key in seen:
            bad.append('%d: same name and labels twice: %s' % (n, line))
        seen.add(key)
        counts[name] = counts.get(name, 0) + 1
    for want in sys.argv[1:]:
        if want not in types:
            bad.append('metric %s missing' % want)
    for b in bad:
        print('promcheck: ' + b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
