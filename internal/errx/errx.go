// Package errx finds an error of a type in a chain, as errors.As does.
//
// Why: errors.As takes its target as an any and checks it with
// internal/reflectlite (Implements, AssignableTo, Value.Set: ~10 KB of mips
// code once any call links it). As is a type assertion per link of the
// chain, one small instantiation per target type (all pointer types share
// one). It follows Unwrap() error and Unwrap() []error (depth first, as
// errors.As does); unlike errors.As it does not ask an error's own
// As(any) bool method, which no error in vpnpass's chains has.
package errx

// As returns the first error in err's chain that is a T.
func As[T error](err error) (t T, ok bool) {
	find(err, func(e error) bool {
		t, ok = e.(T)
		return ok
	})
	return t, ok
}

// find walks err's chain depth first until match holds (not generic: the
// walk is linked once, each As instantiation is only its assertion).
func find(err error, match func(error) bool) bool {
	for err != nil {
		if match(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if find(e, match) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
