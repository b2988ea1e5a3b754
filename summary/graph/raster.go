package graph

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"

	"github.com/fogleman/gg"
	"github.com/golang/freetype/truetype"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
)

// rasterize paints Graphviz's xdot drawing operations (the xdot format,
// version 1.7: https://graphviz.org/docs/outputs/canon/#xdot) into a PNG
// at scale pixels per point. Text is set in the Go fonts, which are
// compiled in, so the image is the same on every machine; a span wider
// than Graphviz's estimate is shrunk to fit the width Graphviz laid out.
func rasterize(d *xdotDoc, scale float64) ([]byte, error) {
	w, h, llx, ury, err := pngSize(d.BB, scale)
	if err != nil {
		return nil, err
	}
	p := newPainter(w, h, scale, llx-pngPad, ury+pngPad)
	for _, s := range d.layers() {
		if err := p.run(s); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, p.dc.Image()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

const pngPad = 4 // points, Graphviz's default pad

// pngSize returns the pixel size of the PNG of a layout whose bounding box
// is bb ("llx,lly,urx,ury" in points), and its left and top edges, or a
// *TooLargeError.
func pngSize(bb string, scale float64) (w, h int, llx, ury float64, err error) {
	var lly, urx float64
	if _, err := fmt.Sscanf(bb, "%g,%g,%g,%g", &llx, &lly, &urx, &ury); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("graphviz: bounding box %q: %v", bb, err)
	}
	w = int(math.Ceil((urx - llx + 2*pngPad) * scale))
	h = int(math.Ceil((ury - lly + 2*pngPad) * scale))
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide || w*h > maxPixels {
		return 0, 0, 0, 0, &TooLargeError{Width: w, Height: h}
	}
	return w, h, llx, ury, nil
}

// A PNG's size is bounded: 16 Mpixels take 64 MB to paint, and past 16384
// pixels on a side image viewers give up or shrink the picture unreadably,
// where an SVG stays sharp at any zoom.
const (
	maxPixels = 16 << 20
	maxSide   = 16384
)

// A TooLargeError refuses a PNG too large to paint or to view; SVG draws
// the same picture at any size.
type TooLargeError struct{ Width, Height int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the picture would be %d×%d pixels, more than a PNG holds here (%d on a side, %d Mpixels); write SVG instead",
		e.Width, e.Height, maxSide, maxPixels>>20)
}

type faceKey struct {
	style int // xdot font flags: 1 bold, 2 italic
	px    float64
}

// painter holds the drawing state of one operation string.
type painter struct {
	dc     *gg.Context
	scale  float64
	x0, y1 float64 // the points at the image's left and top edges
	faces  map[faceKey]font.Face

	pen, fill color.Color
	width     float64
	dash      []float64
	fontSize  float64
	flags     int
}

// newPainter returns a painter for a white w×h image whose left and top
// edges are at points x0 and y1.
func newPainter(w, h int, scale, x0, y1 float64) *painter {
	p := &painter{dc: gg.NewContext(w, h), scale: scale, x0: x0, y1: y1, faces: map[faceKey]font.Face{}}
	p.dc.SetColor(color.White)
	p.dc.Clear()
	return p
}

func (p *painter) x(v float64) float64 { return (v - p.x0) * p.scale }
func (p *painter) y(v float64) float64 { return (p.y1 - v) * p.scale }

// run paints one operation string. Each string starts from Graphviz's
// defaults: the state does not carry over from the previous object.
func (p *painter) run(s string) error {
	p.pen, p.fill, p.width, p.dash, p.fontSize, p.flags = color.Black, color.Black, 1, nil, 14, 0
	sc := &opScanner{s: s}
	for {
		op, ok := sc.op()
		if !ok {
			return sc.err
		}
		switch op {
		case 'E', 'e':
			cx, cy, rx, ry := sc.num(), sc.num(), sc.num(), sc.num()
			if sc.err != nil {
				return sc.err
			}
			p.dc.DrawEllipse(p.x(cx), p.y(cy), rx*p.scale, ry*p.scale)
			p.paint(op == 'E')
		case 'P', 'p', 'L':
			pts := sc.points()
			if sc.err != nil {
				return sc.err
			}
			for i, pt := range pts {
				if i == 0 {
					p.dc.MoveTo(p.x(pt[0]), p.y(pt[1]))
				} else {
					p.dc.LineTo(p.x(pt[0]), p.y(pt[1]))
				}
			}
			if op != 'L' {
				p.dc.ClosePath()
			}
			p.paint(op == 'P')
		case 'B', 'b':
			pts := sc.points()
			if sc.err != nil {
				return sc.err
			}
			if len(pts) > 0 {
				p.dc.MoveTo(p.x(pts[0][0]), p.y(pts[0][1]))
			}
			for i := 1; i+2 < len(pts); i += 3 {
				a, b, c := pts[i], pts[i+1], pts[i+2]
				p.dc.CubicTo(p.x(a[0]), p.y(a[1]), p.x(b[0]), p.y(b[1]), p.x(c[0]), p.y(c[1]))
			}
			p.paint(op == 'b')
		case 'T':
			x, y, just, width, text := sc.num(), sc.num(), sc.num(), sc.num(), sc.str()
			if sc.err != nil {
				return sc.err
			}
			p.text(x, y, int(just), width, text)
		case 't':
			p.flags = int(sc.num())
		case 'F':
			p.fontSize = sc.num()
			sc.str() // the font name: every face is a Go font
		case 'C':
			p.fill = parseColor(sc.str())
		case 'c':
			p.pen = parseColor(sc.str())
		case 'S':
			p.style(sc.str())
		case 'I':
			sc.num()
			sc.num()
			sc.num()
			sc.num()
			sc.str() // images are never drawn by this package's graphs
		default:
			return fmt.Errorf("graphviz: unknown xdot operation %q", op)
		}
		if sc.err != nil {
			return sc.err
		}
	}
}

// paint fills the current path when filled and strokes it with the pen:
// xdot's filled shapes are outlined too, unless the pen is transparent.
func (p *painter) paint(filled bool) {
	if filled {
		p.dc.SetColor(p.fill)
		p.dc.FillPreserve()
	}
	if _, _, _, a := p.pen.RGBA(); a == 0 {
		p.dc.ClearPath()
		return
	}
	p.dc.SetColor(p.pen)
	p.dc.SetLineWidth(p.width * p.scale)
	p.dc.SetDash(p.dash...)
	p.dc.Stroke()
}

func (p *painter) style(s string) {
	switch {
	case s == "dashed":
		p.dash = []float64{5 * p.scale, 3 * p.scale}
	case s == "dotted":
		p.dash = []float64{1.2 * p.scale, 2.4 * p.scale}
	case s == "solid":
		p.dash = nil
	case s == "bold":
		p.width = 2
	case strings.HasPrefix(s, "setlinewidth(") && strings.HasSuffix(s, ")"):
		if v, err := strconv.ParseFloat(s[len("setlinewidth("):len(s)-1], 64); err == nil {
			p.width = v
		}
	}
}

// text sets a span whose baseline starts at x (just -1), is centred on x
// (0) or ends at x (1); Graphviz laid it out width points wide.
func (p *painter) text(x, y float64, just int, width float64, s string) {
	size := p.fontSize
	if p.flags&(8|16) != 0 { // superscript, subscript
		size *= 0.7
		if p.flags&16 != 0 {
			y -= p.fontSize * 0.2
		} else {
			y += p.fontSize * 0.35
		}
	}
	face := p.face(size)
	w := font.MeasureString(face, s).Ceil()
	limit := width * p.scale
	if float64(w) > limit*1.01 && limit > 0 {
		face = p.face(size * limit / float64(w))
		w = font.MeasureString(face, s).Ceil()
	}
	left := p.x(x)
	switch {
	case just == 0:
		left -= float64(w) / 2
	case just > 0:
		left -= float64(w)
	}
	p.dc.SetFontFace(face)
	p.dc.SetColor(p.pen)
	p.dc.DrawString(s, left, p.y(y))
}

func (p *painter) face(points float64) font.Face {
	k := faceKey{style: p.flags & 3, px: math.Round(points*p.scale*4) / 4}
	if f, ok := p.faces[k]; ok {
		return f
	}
	ttf := [...][]byte{goregular.TTF, gobold.TTF, goitalic.TTF, gobolditalic.TTF}[k.style]
	ft, _ := truetype.Parse(ttf) // the embedded fonts parse
	f := truetype.NewFace(ft, &truetype.Options{Size: k.px, Hinting: font.HintingFull})
	p.faces[k] = f
	return f
}

// parseColor reads the colours xdot writes: #rrggbb or #rrggbbaa (the
// renderer resolves every name to RGB).
func parseColor(s string) color.Color {
	if len(s) != 7 && len(s) != 9 || s[0] != '#' {
		return color.Black
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.Black
	}
	if len(s) == 7 {
		v = v<<8 | 0xff
	}
	c := color.NRGBA{R: uint8(v >> 24), G: uint8(v >> 16), B: uint8(v >> 8), A: uint8(v)}
	return c
}

// opScanner reads an xdot operation string: one-letter operations, numbers,
// and strings written as "N -" followed by N bytes.
type opScanner struct {
	s   string
	i   int
	err error
}

func (sc *opScanner) skip() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\n' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

func (sc *opScanner) op() (byte, bool) {
	sc.skip()
	if sc.err != nil || sc.i >= len(sc.s) {
		return 0, false
	}
	c := sc.s[sc.i]
	sc.i++
	return c, true
}

func (sc *opScanner) num() float64 {
	sc.skip()
	j := sc.i
	for j < len(sc.s) && sc.s[j] != ' ' {
		j++
	}
	v, err := strconv.ParseFloat(sc.s[sc.i:j], 64)
	if err != nil && sc.err == nil {
		sc.err = fmt.Errorf("graphviz: xdot number %q at %d", sc.s[sc.i:j], sc.i)
	}
	sc.i = j
	return v
}

func (sc *opScanner) str() string {
	n := int(sc.num())
	sc.skip()
	if sc.err != nil || sc.i >= len(sc.s) || sc.s[sc.i] != '-' || n < 0 || sc.i+1+n > len(sc.s) {
		if sc.err == nil {
			sc.err = fmt.Errorf("graphviz: bad xdot string at %d", sc.i)
		}
		return ""
	}
	s := sc.s[sc.i+1 : sc.i+1+n]
	sc.i += 1 + n
	return s
}

func (sc *opScanner) points() [][2]float64 {
	n := int(sc.num())
	if n < 0 || n > len(sc.s) {
		sc.err = fmt.Errorf("graphviz: bad xdot point count %d", n)
		return nil
	}
	pts := make([][2]float64, n)
	for i := range pts {
		pts[i] = [2]float64{sc.num(), sc.num()}
	}
	return pts
}

// xdotDoc is what Render reads of Graphviz's json0 output: the bounding
// box and the drawing operations of the graph, its clusters (the first
// SubgraphCount objects), its nodes and its edges.
type xdotDoc struct {
	BB            string    `json:"bb"`
	SubgraphCount int       `json:"_subgraph_cnt"`
	Objects       []xdotObj `json:"objects"`
	Edges         []xdotObj `json:"edges"`
	xdotObj
}

type xdotObj struct {
	Draw   string `json:"_draw_"`
	LDraw  string `json:"_ldraw_"`
	HDraw  string `json:"_hdraw_"`
	TDraw  string `json:"_tdraw_"`
	HLDraw string `json:"_hldraw_"`
	TLDraw string `json:"_tldraw_"`
}

// layers lists the operation strings in the order they are painted:
// backgrounds, cluster boxes, edges, nodes, then every label on top.
func (d *xdotDoc) layers() []string {
	ops := []string{d.Draw}
	n := min(d.SubgraphCount, len(d.Objects))
	clusters, nodes := d.Objects[:n], d.Objects[n:]
	for _, c := range clusters {
		ops = append(ops, c.Draw)
	}
	for _, e := range d.Edges {
		ops = append(ops, e.Draw, e.HDraw, e.TDraw)
	}
	for _, v := range nodes {
		ops = append(ops, v.Draw, v.LDraw)
	}
	for _, c := range clusters {
		ops = append(ops, c.LDraw)
	}
	for _, e := range d.Edges {
		ops = append(ops, e.LDraw, e.HLDraw, e.TLDraw)
	}
	return append(ops, d.LDraw)
}
