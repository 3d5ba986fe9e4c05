#!/usr/bin/python3
# The /metrics body on stdin, parsed by Prometheus's own Python client
# (Debian's python3-prometheus-client: prometheus_client.parser
# .text_string_to_metric_families), printed back one sample a line as
#   NAME{label="value",...} VALUE        (labels sorted, VALUE as repr(float))
# after a line "FAMILY NAME TYPE" per family, so test_daemon_status can look
# the values up. Exit 2 when the parser is missing, 1 when it refuses the text.
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print('prometheus_client is missing (apt-get install python3-prometheus-client): %s' % e,
          file=sys.stderr)
    sys.exit(2)

text = sys.stdin.read()
try:
    for fam in text_string_to_metric_families(text):
        print('FAMILY %s %s' % (fam.name, fam.type))
        for s in fam.samples:
            labels = ','.join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
            print('%s{%s} %r' % (s.name, labels, float(s.value)))
except Exception as e:  # the parser's ValueError and friends: the text is not valid
    print('the exposition does not parse: %r' % e, file=sys.stderr)
    sys.exit(1)
