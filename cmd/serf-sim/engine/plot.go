package engine

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Series is one line of the plot.
type Series struct {
	Label  string
	Points []Point
	Color  string
	Dashed bool
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// writeSVG draws the series (share of members against rounds) as an SVG
// line chart, written by hand: axes, grid, one polyline per series and a
// legend.
func writeSVG(w io.Writer, title string, series []Series) error {
	const (
		width, height          = 900, 540
		left, right, top, bott = 70, 230, 50, 60
	)
	pw, ph := float64(width-left-right), float64(height-top-bott)
	xmax := 1.0
	for _, s := range series {
		for _, p := range s.Points {
			if !math.IsInf(p.X, 0) && !math.IsNaN(p.X) && p.X > xmax {
				xmax = p.X
			}
		}
	}
	step := niceStep(xmax / 8)
	xmax = math.Ceil(xmax/step) * step
	sx := func(x float64) float64 { return float64(left) + x/xmax*pw }
	sy := func(y float64) float64 { return float64(top) + (1-y)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="25" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(title))
	for y := 0.0; y <= 1.0001; y += 0.1 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", sx(0), sy(y), sx(xmax), sy(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f%%</text>`+"\n", sx(0)-6, sy(y)+4, y*100)
	}
	for x := 0.0; x <= xmax+1e-9; x += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", sx(x), sy(0), sx(x), sy(1))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%g</text>`+"\n", sx(x), sy(0)+18, x)
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">gossip rounds since the start of the scenario</text>`+"\n", float64(left)+pw/2, height-15)
	fmt.Fprintf(&b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">share of members</text>`+"\n", float64(top)+ph/2, float64(top)+ph/2)
	for i, s := range series {
		var pts strings.Builder
		prevY := 0.0
		for j, p := range s.Points {
			x := math.Min(p.X, xmax)
			if math.IsNaN(x) {
				continue
			}
			if !s.Dashed && j > 0 {
				// A step: the share holds until the next arrival.
				fmt.Fprintf(&pts, "%.1f,%.1f ", sx(x), sy(prevY))
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", sx(x), sy(p.Y))
			prevY = p.Y
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", s.Color, dash, strings.TrimSpace(pts.String()))
		ly := top + 10 + i*22
		lx := width - right + 15
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+25, ly, s.Color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", lx+32, ly+4, esc(s.Label))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// modelSeries samples the model's share of members from 0 to xmax rounds.
func modelSeries(m Model, offset, xmax float64) []Point {
	var pts []Point
	const steps = 200
	for i := 0; i <= steps; i++ {
		x := xmax * float64(i) / steps
		y := 0.0
		if x >= offset {
			y = m.Infected(x-offset) / float64(m.N)
		}
		pts = append(pts, Point{x, y})
	}
	return pts
}

// niceStep rounds a grid step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
