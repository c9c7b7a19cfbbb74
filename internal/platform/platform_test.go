package platform

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrNotLinux(t *testing.T) {
	wrapped := fmt.Errorf("open firewall: %w", ErrNotLinux)
	if !errors.Is(wrapped, errors.ErrUnsupported) || !errors.Is(wrapped, ErrNotLinux) {
		t.Errorf("%v does not wrap errors.ErrUnsupported", wrapped)
	}
}
