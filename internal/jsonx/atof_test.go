package jsonx

import (
	"math"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// sameAsStrconv fails unless parseFloat agrees with strconv.ParseFloat on
// lit for both sizes: the same bits (so -0 and 0 differ) and the same
// out-of-range verdict.
func sameAsStrconv(t *testing.T, lit string) {
	t.Helper()
	for _, bits := range []int{64, 32} {
		want, err := strconv.ParseFloat(lit, bits)
		got, ok := parseFloat(lit, bits)
		if ok != (err == nil) || ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloat(%q, %d) = %v, %v; strconv: %v, %v", lit, bits, got, ok, want, err)
		}
	}
}

func TestParseFloat(t *testing.T) {
	halfway := "9007199254740993"                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                // 2^53+1: ties to even, down
	long := "0." + strings.Repeat("0", 320) + "24703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125" // the float64 denormal halfway 2^-1075, exactly
	for _, lit := range []string{
		"0", "-0", "1", "-1", "0.1", "0.5", "1.5", "2.5", "123.456", "-0.000123",
		"1e23", "8.41e21", "5e-324", "2e-324", "3e-324", "1e-400", "4.9406564584124654e-324",
		"2.2250738585072011e-308", "2.2250738585072014e-308",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e309",
		"3.4028234663852886e38", "3.4028235677973366e38", "1.401298464324817e-45", "7e-46", "7.1e-46",
		halfway, halfway + "0000", halfway + "0001", "9007199254740995",
		"1" + strings.Repeat("0", 400), "0." + strings.Repeat("0", 400) + "1",
		long, long + "1", long[:len(long)-1],
		"12.345", "0.25", "1E5", "1e+5", "1e-5", "1.000000000000000000000000000001",
		"1e99999999999", "1e-99999999999", "0e999999",
	} {
		sameAsStrconv(t, lit)
	}
}

// TestHalfway checks exact halfway points between neighbouring floats (ties
// to even), and the numbers just above and below them, at random exponents.
func TestHalfway(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		x := math.Float64frombits(r.Uint64() &^ (1 << 63))
		if math.IsInf(x, 0) || math.IsNaN(x) {
			continue
		}
		lo, hi := new(big.Float).SetFloat64(x), new(big.Float).SetFloat64(math.Nextafter(x, math.Inf(1)))
		mid := new(big.Float).SetPrec(2000).Add(lo, hi)
		mid.Quo(mid, big.NewFloat(2))
		lit := mid.Text('e', 1100)
		lit = strings.TrimRight(lit[:strings.IndexByte(lit, 'e')], "0") + lit[strings.IndexByte(lit, 'e'):]
		sameAsStrconv(t, lit)
		sameAsStrconv(t, strings.Replace(lit, "e", "000000001e", 1))
	}
}

// TestLongInteger: strconv.ParseFloat (so encoding/json, and jsonx before
// it had its own parser) puts the decimal point after digit 800 when the
// integer part is longer: 1 and 900 zeros e-900 came out 1e-101.
func TestLongInteger(t *testing.T) {
	for _, lit := range []string{
		"1" + strings.Repeat("0", 900) + "e-900",
		"1" + strings.Repeat("0", 850) + "1e-851",
		"-1" + strings.Repeat("0", 800) + "e-800",
	} {
		var f float64
		var a any
		var f32 float32
		if err := Unmarshal([]byte(lit), &f); err != nil || math.Abs(f) != 1 {
			t.Errorf("float64 %.20s…: %v, %v", lit, f, err)
		}
		if err := Unmarshal([]byte(lit), &a); err != nil || a != f {
			t.Errorf("any %.20s…: %v, %v", lit, a, err)
		}
		if err := Unmarshal([]byte(lit), &f32); err != nil || float64(f32) != f {
			t.Errorf("float32 %.20s…: %v, %v", lit, f32, err)
		}
	}
}

// FuzzParseFloat builds a JSON number from its parts and compares with
// strconv.ParseFloat.
func FuzzParseFloat(f *testing.F) {
	f.Add(false, "1", "5", int16(0))
	f.Add(true, "9007199254740993", "", int16(0))
	f.Add(false, "0", "000000000000000000000000000000000024703282292062328", int16(-290))
	f.Add(false, "17976931348623157", "9", int16(292))
	f.Fuzz(func(t *testing.T, neg bool, ip, fp string, exp int16) {
		digits := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r < '0' || r > '9' {
					return -1
				}
				return r
			}, s)
		}
		ip, fp = strings.TrimLeft(digits(ip), "0"), digits(fp)
		if len(ip) > maxDigits {
			t.Skip("strconv misplaces the point after 800 integer digits: TestLongInteger")
		}
		if ip == "" {
			ip = "0"
		}
		lit := ip
		if neg {
			lit = "-" + lit
		}
		if fp != "" {
			lit += "." + fp
		}
		if exp != 0 {
			lit += "e" + strconv.Itoa(int(exp))
		}
		sameAsStrconv(t, lit)
	})
}
