package nft

import (
	"path/filepath"
	"testing"
)

// isTemp is the glob writeInclude's temp names follow.
func TestIsTempMatchesGlob(t *testing.T) {
	for _, n := range []string{".fw4-forward-123.nft", ".fw4-forward-.nft", ".fw4-forward-9.nft.check",
		".fw4-forward-1.txt", "fw4-forward-1.nft", ".fw4-forward-", ".fw4-forward-x.nf", "other.nft", ".fw4-forward-a.nftb.nft"} {
		want, _ := filepath.Match(".fw4-forward-*.nft*", n)
		if got := isTemp(n); got != want {
			t.Errorf("isTemp(%q) = %v, filepath.Match %v", n, got, want)
		}
	}
}
