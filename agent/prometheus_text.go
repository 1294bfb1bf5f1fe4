package agent

import (
	"bytes"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	metrics "github.com/hashicorp/go-metrics"
)

// prometheusContentType is the media type of Prometheus' text format,
// version 0.0.4, which every Prometheus server and agent scrapes.
const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes every series in Prometheus' text format: families in
// name order, each with its HELP (the name, as go-metrics' sink wrote it)
// and TYPE lines, series within a family in label order. A name already
// taken by a series of another kind is left out: one family has one type.
func (p *PrometheusSink) WriteText(w io.Writer) error {
	now := p.now()
	p.mu.Lock()
	series := make([]promSnapshot, 0, len(p.series))
	for _, s := range p.series {
		snap := promSnapshot{name: s.name, kind: s.kind, labels: promLabelText(s.labels, ""), value: s.value}
		if s.kind == promSummary {
			snap.value = s.sum
			snap.count = s.count
			snap.quantiles = s.quantiles(now)
			for _, q := range summaryQuantiles {
				snap.quantileLabels = append(snap.quantileLabels,
					promLabelText(s.labels, strconv.FormatFloat(q, 'g', -1, 64)))
			}
		}
		series = append(series, snap)
	}
	p.mu.Unlock()

	sort.Slice(series, func(i, j int) bool {
		a, b := series[i], series[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.labels < b.labels
	})

	// Rendered whole, then written once: a bytes.Buffer cannot fail, so
	// the one error is the scraper's.
	var bw bytes.Buffer
	family, familyKind := "", promKind(0)
	for _, s := range series {
		if s.name != family {
			family, familyKind = s.name, s.kind
			bw.WriteString("# HELP " + s.name + " " + s.name + "\n")
			bw.WriteString("# TYPE " + s.name + " " + s.kind.String() + "\n")
		} else if s.kind != familyKind {
			continue
		}
		if s.kind != promSummary {
			promLine(&bw, s.name, s.labels, s.value)
			continue
		}
		for i, v := range s.quantiles {
			promLine(&bw, s.name, s.quantileLabels[i], v)
		}
		promLine(&bw, s.name+"_sum", s.labels, s.value)
		promLine(&bw, s.name+"_count", s.labels, float64(s.count))
	}
	_, err := w.Write(bw.Bytes())
	return err
}

// promSnapshot is a series copied out of the sink for one scrape, its
// labels already rendered.
type promSnapshot struct {
	name   string
	kind   promKind
	labels string
	value  float64 // counter, gauge, or a summary's sum
	count  uint64

	quantiles      [len(summaryQuantiles)]float64
	quantileLabels []string
}

// promLine writes one sample line.
func promLine(w *bytes.Buffer, name, labels string, v float64) {
	w.WriteString(name)
	w.WriteString(labels)
	w.WriteByte(' ')
	w.WriteString(promFloat(v))
	w.WriteByte('\n')
}

// promLabelText renders labels as {a="x",b="y"}, with a quantile label
// last when quantile is not empty, or "" without any.
func promLabelText(labels []metrics.Label, quantile string) string {
	if len(labels) == 0 && quantile == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(promEscape(l.Value))
		b.WriteByte('"')
	}
	if quantile != "" {
		if len(labels) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`quantile="` + quantile + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// promEscapeReplacer escapes a label value as the text format requires.
var promEscapeReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func promEscape(s string) string { return promEscapeReplacer.Replace(s) }

// promFloat formats a sample value: the shortest form that reads back
// exactly, and Prometheus' spellings of the infinities and NaN.
func promFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
