package jsonx

import "math"

// parseFloat converts a JSON number literal (already checked by the
// scanner: -?int frac? exp?) to the nearest float64, or float32 when bits
// is 32, ties to even: the value strconv.ParseFloat returns. ok is false
// when the value is beyond the type's range (ParseFloat's ErrRange; a value
// too small for the type is 0, as there).
//
// Why not strconv.ParseFloat: it is the only caller in the binary of
// strconv's whole parser (readFloat, hex floats, Eisel-Lemire for two
// sizes, the decimal fallback: ~21 KB of content, notes/s5-jsonx.md). JSON
// needs only the decimal algorithm: digits held exactly (up to maxDigits,
// which decides every float64 rounding), scaled by powers of two until the
// value is in [0.5, 1), then shifted by the mantissa width and rounded.
// It is slower than Eisel-Lemire; the floats we decode are few (rtt_ms,
// numbers in `any`).
func parseFloat(lit string, bits int) (f float64, ok bool) {
	var d decimal
	neg := d.set(lit)
	mant, exp, expBits := uint(52), -1023, uint(11)
	if bits == 32 {
		mant, exp, expBits = 23, -127, 8
	}
	b, ok := d.floatBits(mant, exp, expBits)
	if bits == 32 {
		f = float64(math.Float32frombits(uint32(b)))
	} else {
		f = math.Float64frombits(b)
	}
	if neg {
		f = -f
	}
	return f, ok
}

// maxDigits decimal digits decide the rounding of any float64 (the longest
// exact halfway case has 767 significant digits); digits beyond are only
// remembered as trunc.
const maxDigits = 800

// decimal is the value 0.d[0]d[1]...d[nd-1] × 10^dp, d holding digit values
// 0-9 without leading or trailing zeros (nd 0 is zero).
type decimal struct {
	d     [maxDigits]byte
	nd    int
	dp    int
	trunc bool // non-zero digits after d[nd-1] were dropped
}

// set reads a valid JSON number and reports whether it is negative.
func (a *decimal) set(s string) (neg bool) {
	i := 0
	if s[0] == '-' {
		neg = true
		i++
	}
	sawDot := false
	for ; i < len(s) && (s[i] == '.' || s[i] >= '0' && s[i] <= '9'); i++ {
		switch c := s[i]; {
		case c == '.':
			sawDot = true
		case c == '0' && a.nd == 0: // a leading zero
			if sawDot {
				a.dp--
			}
		default:
			if !sawDot {
				a.dp++
			}
			a.add(c - '0')
		}
	}
	if i < len(s) { // e or E
		i++
		eneg := s[i] == '-'
		if s[i] == '-' || s[i] == '+' {
			i++
		}
		e := 0
		for ; i < len(s); i++ {
			if e < 10000 { // beyond any float's range either way
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		a.dp += e
	}
	a.trim()
	return neg
}

// add appends digit c, or notes it in trunc when d is full.
func (a *decimal) add(c byte) {
	if a.nd < maxDigits {
		a.d[a.nd] = c
		a.nd++
	} else if c != 0 {
		a.trunc = true
	}
}

func (a *decimal) trim() {
	for a.nd > 0 && a.d[a.nd-1] == 0 {
		a.nd--
	}
	if a.nd == 0 {
		a.dp = 0
	}
}

// maxShift keeps n*10+9 in a 32-bit uint while shifting (mips's uint).
const maxShift = 28

// rsh divides by 2^k (k <= maxShift).
func (a *decimal) rsh(k uint) {
	r, w := 0, 0
	var n uint
	for ; n>>k == 0; r++ { // enough leading digits for a first quotient digit
		if r >= a.nd {
			if n == 0 {
				a.nd = 0
				return
			}
			for n>>k == 0 {
				n *= 10
				r++
			}
			break
		}
		n = n*10 + uint(a.d[r])
	}
	a.dp -= r - 1
	mask := uint(1)<<k - 1
	for ; r < a.nd; r++ {
		c := a.d[r]
		a.d[w] = byte(n >> k)
		w++
		n = (n&mask)*10 + uint(c)
	}
	a.nd = w
	for ; n > 0; n = (n & mask) * 10 {
		a.add(byte(n >> k))
	}
	a.trim()
}

// lsh multiplies by 2^k (k <= maxShift).
func (a *decimal) lsh(k uint) {
	var buf [maxDigits + 10]byte // 2^28 adds at most 9 digits
	w := len(buf)
	var n uint
	for r := a.nd - 1; r >= 0; r-- {
		n += uint(a.d[r]) << k
		w--
		buf[w] = byte(n % 10)
		n /= 10
	}
	for ; n > 0; n /= 10 {
		w--
		buf[w] = byte(n % 10)
	}
	a.dp += len(buf) - w - a.nd
	a.nd = 0
	for _, c := range buf[w:] {
		a.add(c)
	}
	a.trim()
}

// shift multiplies by 2^k (k may be negative or large).
func (a *decimal) shift(k int) {
	for ; k > maxShift; k -= maxShift {
		a.lsh(maxShift)
	}
	for ; k < -maxShift; k += maxShift {
		a.rsh(maxShift)
	}
	if k > 0 {
		a.lsh(uint(k))
	} else if k < 0 {
		a.rsh(uint(-k))
	}
}

// roundedInteger is the integer nearest the value (< 2^64), ties to even.
func (a *decimal) roundedInteger() uint64 {
	var n uint64
	i := 0
	for ; i < a.dp; i++ {
		n *= 10
		if i < a.nd {
			n += uint64(a.d[i])
		}
	}
	if a.dp >= 0 && a.dp < a.nd {
		c := a.d[a.dp]
		half := c == 5 && a.dp+1 == a.nd && !a.trunc
		if c > 5 || c == 5 && (!half || n&1 == 1) {
			n++
		}
	}
	return n
}

// pow2Below[n] is the largest k with 2^k <= 10^n.
var pow2Below = [...]uint8{1, 3, 6, 9, 13, 16, 19, 23, 26}

func shiftFor(dp int) int {
	if dp < len(pow2Below) {
		return int(pow2Below[dp])
	}
	return maxShift
}

// floatBits returns the IEEE bits (without sign) of the value for a float
// with mant fraction bits, exponent bias and expBits exponent bits; ok is
// false on overflow.
func (a *decimal) floatBits(mant uint, bias int, expBits uint) (uint64, bool) {
	if a.nd == 0 || a.dp < -330 { // zero, or below every denormal
		return 0, true
	}
	if a.dp > 310 {
		return 0, false
	}
	exp := 0
	for a.dp > 0 { // down below 1
		k := shiftFor(a.dp)
		a.shift(-k)
		exp += k
	}
	for a.dp < 0 || a.dp == 0 && a.d[0] < 5 { // up into [0.5, 1)
		k := 1
		if a.dp < 0 {
			k = shiftFor(-a.dp)
		}
		a.shift(k)
		exp -= k
	}
	exp--             // the value is now [1, 2) × 2^exp
	if exp < bias+1 { // denormal
		a.shift(exp - (bias + 1))
		exp = bias + 1
	}
	maxExp := 1<<expBits - 1
	if exp-bias >= maxExp {
		return 0, false
	}
	a.shift(int(mant) + 1)
	m := a.roundedInteger()
	if m == 2<<mant { // rounding carried into a new bit
		m >>= 1
		exp++
		if exp-bias >= maxExp {
			return 0, false
		}
	}
	if m&(1<<mant) == 0 {
		exp = bias
	}
	return m&(1<<mant-1) | uint64(exp-bias)<<mant, true
}
