package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
)

var (
	chartBackground = color.RGBA{255, 255, 255, 255}
	chartInk        = color.RGBA{30, 30, 30, 255}
	chartGrid       = color.RGBA{215, 215, 215, 255}
	chartPass       = color.RGBA{46, 160, 67, 255}
	chartFail       = color.RGBA{215, 58, 73, 255}
	chartInfo       = color.RGBA{150, 150, 150, 255}
	chartBaseline   = color.RGBA{56, 114, 200, 255}
)

// score is how a figure stands against a reference, >1 meaning better,
// whatever the figure's direction.
func score(value, ref float64, better string) float64 {
	if value <= 0 || ref <= 0 {
		return 0
	}
	if better == "lower" {
		return ref / value
	}
	return value / ref
}

const (
	chartW     = 1200
	rowH       = 44
	labelW     = 330
	barLeft    = labelW + 10
	barW       = 560
	chartTop   = 70
	maxScore   = 3.0
	fontScale  = 2
	glyphWidth = 6 * fontScale
)

// drawChart draws every figure as two bars: against its target (green when
// met, red when not, grey when it has none: against its baseline only) and
// against its baseline (blue), both as "times better", on one scale where
// the line marks 1x.
func drawChart(results []Result) *image.RGBA {
	h := chartTop + rowH*len(results) + 60
	img := image.NewRGBA(image.Rect(0, 0, chartW, h))
	fill(img, img.Bounds(), chartBackground)
	text(img, "HUST MUSIK BENCHMARK: EACH FIGURE AGAINST ITS TARGET (GREEN/RED) AND ITS BASELINE (BLUE)", 10, 12)
	text(img, "BARS ARE 'TIMES BETTER' (HIGHER = BETTER), CUT AT 3X; THE DARK LINE IS 1X", 10, 36)
	x1 := barLeft + barW/int(maxScore)
	for s := 0.5; s <= maxScore; s += 0.5 {
		x := barLeft + int(float64(barW)*s/maxScore)
		fill(img, image.Rect(x, chartTop-6, x+1, h-50), chartGrid)
	}
	for i, r := range results {
		y := chartTop + i*rowH
		text(img, strings.ToUpper(r.Name), 10, y+8)
		if r.Target != nil {
			c := chartFail
			if r.Pass != nil && *r.Pass {
				c = chartPass
			}
			bar(img, y+2, score(r.Value, *r.Target, r.Better), c)
		} else {
			fill(img, image.Rect(barLeft, y+2, barLeft+2, y+18), chartInfo)
		}
		if r.Baseline != nil {
			bar(img, y+20, score(r.Value, *r.Baseline, r.Better), chartBaseline)
		}
		v := r.Value
		label := fmt.Sprintf("%s %s", fmtNum(&v), r.Unit)
		if r.Target != nil {
			op := ">="
			if r.Better == "lower" {
				op = "<"
			}
			label += " (" + op + fmtNum(r.Target) + ")"
		}
		text(img, strings.ToUpper(label), barLeft+barW+15, y+8)
		fill(img, image.Rect(10, y+rowH-3, chartW-10, y+rowH-2), chartGrid)
	}
	fill(img, image.Rect(x1, chartTop-8, x1+2, h-50), chartInk)
	for s := 1.0; s <= maxScore; s++ {
		x := barLeft + int(float64(barW)*s/maxScore)
		text(img, fmt.Sprintf("%.0fX", s), x-12, h-44)
	}
	return img
}

func bar(img *image.RGBA, y int, s float64, c color.RGBA) {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		s = maxScore
	}
	w := int(float64(barW) * min(s, maxScore) / maxScore)
	fill(img, image.Rect(barLeft, y, barLeft+max(w, 2), y+16), c)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// text draws s in a 5x7 pixel font; characters it has no glyph for are
// left blank.
func text(img *image.RGBA, s string, x, y int) {
	for _, ch := range s {
		g, ok := glyphs[ch]
		if ok {
			for row, line := range g {
				for col, px := range line {
					if px == '#' {
						fill(img, image.Rect(x+col*fontScale, y+row*fontScale, x+(col+1)*fontScale, y+(row+1)*fontScale), chartInk)
					}
				}
			}
		}
		x += glyphWidth
	}
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// glyphs is a 5x7 font of what the chart prints.
var glyphs = map[rune][7]string{
	'A':  {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'B':  {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
	'C':  {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'D':  {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."},
	'E':  {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'F':  {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'G':  {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"},
	'H':  {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'I':  {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'J':  {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."},
	'K':  {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
	'L':  {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'M':  {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'N':  {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"},
	'O':  {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'P':  {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'Q':  {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"},
	'R':  {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'S':  {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'T':  {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'U':  {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'V':  {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'W':  {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
	'X':  {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
	'Y':  {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
	'Z':  {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"},
	'0':  {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1':  {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2':  {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3':  {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
	'4':  {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5':  {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6':  {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7':  {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8':  {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9':  {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
	'.':  {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
	',':  {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."},
	':':  {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."},
	'_':  {".....", ".....", ".....", ".....", ".....", ".....", "#####"},
	'-':  {".....", ".....", ".....", "#####", ".....", ".....", "....."},
	'+':  {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."},
	'/':  {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."},
	'<':  {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."},
	'>':  {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."},
	'=':  {".....", ".....", "#####", ".....", "#####", ".....", "....."},
	'(':  {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."},
	')':  {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."},
	'%':  {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"},
	'\'': {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."},
}
