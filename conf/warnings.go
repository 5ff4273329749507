package conf

// Warnings lists what a valid configuration allows but an operator rarely means, each with its
// key and line as an Error would have; `shoal check` prints them and still exits 0, `shoal
// run` logs them once at start. They are not errors because each has a use.
//
// No routes: every request on the data listeners gets 404. nginx starts an http block with
// no location the same way; the use is a node that serves only gslb (its data listener is
// still required) or one whose routes come in a later reload, so it is said only without
// gslb.listen.
func Warnings(c *Config, file string, data []byte) []*Error {
	var ws []*Error
	if len(c.Routes) == 0 && c.GSLB.Listen == "" {
		ws = append(ws, &Error{File: file, Line: KeyLine(data, "routes"), Key: "routes",
			Msg: "warning: no routes: every request on listen.http and listen.https gets 404"})
	}
	return ws
}
