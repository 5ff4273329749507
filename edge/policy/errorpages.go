package policy

import (
	"net/http"
	"path/filepath"
	"strings"
)

// ErrorPages are the bodies of answers the node makes itself (every server down 502/503,
// timeouts 504, 429, 403, 413) and the maintenance switch. The zero value uses the node's
// built-in plain-text bodies and no maintenance.
type ErrorPages struct {
	// Pages maps a status to its page: the body and the Content-Type, from the file's
	// extension.
	Pages map[int]Page
	// Maintenance answers every data-plane request 503 with the 503 page; it is switched by
	// editing the file and sending SIGHUP.
	Maintenance bool
}

// Page is one error page.
type Page struct {
	Body        []byte
	ContentType string
}

// NewPage makes a page of body read from file name, its Content-Type from the extension.
func NewPage(name string, body []byte) Page {
	ct := "text/plain; charset=utf-8"
	switch strings.ToLower(filepath.Ext(name)) {
	case ".html", ".htm":
		ct = "text/html; charset=utf-8"
	case ".json":
		ct = "application/json"
	}
	return Page{Body: body, ContentType: ct}
}

// Page returns the page for status, ok=false when the node's own body stays.
func (e *ErrorPages) Page(status int) (Page, bool) {
	if e == nil {
		return Page{}, false
	}
	p, ok := e.Pages[status]
	return p, ok
}

// ErrorPageStatuses are the statuses the node answers itself and error_pages may name.
var ErrorPageStatuses = []int{http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// ValidErrorPageStatus reports whether status is one of ErrorPageStatuses.
func ValidErrorPageStatus(status int) bool {
	for _, s := range ErrorPageStatuses {
		if s == status {
			return true
		}
	}
	return false
}
