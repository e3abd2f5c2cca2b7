package journey

import (
	"strings"
	"testing"
)

func TestCheckCallback(t *testing.T) {
	tests := []struct {
		url  string
		want string // substring of the reason; "" for valid
	}{
		{"https://example.com/hook", ""},
		{"http://example.com:1/hook", ""},
		{"http://example.com:65535/hook", ""},
		{"http://example.com:99999/hook", "port 99999 is not a TCP port"},
		{"http://example.com:0/hook", "port 0 is not a TCP port"},
		{"file:///etc/passwd", `got scheme "file"`},
		{"https:///nohost", "with a host"},
		{"", "is required"},
	}
	for _, tt := range tests {
		got := checkCallback(tt.url)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("checkCallback(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
