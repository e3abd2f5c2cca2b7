package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/hook", "https://example.com/hook"},
		{"https://user:s3cret@example.com:8443/hook", "https://REDACTED@example.com:8443/hook"},
		{"https://tok3n@example.com/hook", "https://REDACTED@example.com/hook"},
		{"https://example.com/hook?token=abc&x=1&flag", "https://example.com/hook?token=REDACTED&x=REDACTED&flag"},
		{"mongodb://admin:pa55@db1:27017,db2:27017/lrs?replicaSet=rs0&authSource=admin",
			"mongodb://REDACTED@db1:27017,db2:27017/lrs?replicaSet=REDACTED&authSource=REDACTED"},
		{"https://example.com/p#frag-secret", "https://example.com/p#REDACTED"},
		// Unparsable: the userinfo and query are masked all the same.
		{"http://us er:pa ss@exa mple.com/?k=v", "http://REDACTED@exa mple.com/?REDACTED"},
		{"http://user:pw@host:99999999999999999999/", "http://REDACTED@host:99999999999999999999/"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	in := `Post "https://u:s3cret@hooks.example.com/x?sig=abc": dial tcp: lookup hooks.example.com; also mongodb://root:pw@db/?a=1 and ://odd`
	got := Text(in)
	for _, secret := range []string{"s3cret", "sig=abc", "root:pw", "a=1"} {
		if strings.Contains(got, secret) {
			t.Errorf("Text kept %q: %s", secret, got)
		}
	}
	for _, kept := range []string{`Post "https://REDACTED@hooks.example.com/x?sig=REDACTED": dial tcp`, "mongodb://REDACTED@db/?a=REDACTED", "://odd"} {
		if !strings.Contains(got, kept) {
			t.Errorf("Text lost %q: %s", kept, got)
		}
	}
	quoted := `parse "http://u:pw@exa mple.com/h?token=t0k": invalid character " " in host name`
	if got := Text(quoted); strings.Contains(got, "pw") || strings.Contains(got, "t0k") || !strings.Contains(got, "invalid character") {
		t.Errorf("Text(%q) = %q", quoted, got)
	}
	if s := "no urls here"; Text(s) != s {
		t.Errorf("Text changed %q", s)
	}
}
